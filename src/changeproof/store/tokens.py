"""Queries over API tokens (the `tokens` projection, never the ledger)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import MISSING
from sqlalchemy import Connection, RowMapping, select

from changeproof.domain.events import parse_time
from changeproof.domain.tokens import Scope, Token, TokenId
from changeproof.store.schema import tokens

__all__ = ["TokenRecord", "find_token", "list_tokens"]


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A token with the entries that created and (when revoked) revoked it."""

    token: Token
    seq: int  # the token.created entry
    created_by: str
    created_at: str
    revoked_seq: int | None = None
    revoked_by: str | None = None
    revoked_at: str | None = None

    @property
    def id(self) -> TokenId:
        return self.token.id


def find_token(conn: Connection, token_id: str) -> TokenRecord | None:
    row = conn.execute(select(tokens).where(tokens.c.id == token_id)).mappings().first()
    return None if row is None else _record(row)


def list_tokens(conn: Connection, actor: str | None = None) -> list[TokenRecord]:
    """Every token, or one actor's, oldest first."""
    query = select(tokens).order_by(tokens.c.seq)
    if actor is not None:
        query = query.where(tokens.c.actor == actor)
    return [_record(row) for row in conn.execute(query).mappings()]


def _record(row: RowMapping) -> TokenRecord:
    token = Token(
        id=TokenId(str(row["id"])),
        actor=str(row["actor"]),
        sha256=str(row["sha256"]),
        expires_at=parse_time(str(row["expires_at"])),
        label=row["label"],
        scopes=MISSING if row["scopes"] is None else tuple(Scope(s) for s in row["scopes"].split()),
    )
    revoked = row["revoked_seq"]
    return TokenRecord(
        token,
        int(row["seq"]),
        str(row["created_by"]),
        str(row["created_at"]),
        None if revoked is None else int(revoked),
        row["revoked_by"],
        row["revoked_at"],
    )
