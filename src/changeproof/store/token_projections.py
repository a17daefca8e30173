"""Projections of the token events: the `tokens` table.

`store.projections` imports this module so its registry holds these functions.

token.created   one `tokens` row keyed by the token's public id
token.revoked   sets `revoked_seq`, `revoked_by` and `revoked_at` on that row
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import MISSING
from sqlalchemy import Connection, update

from changeproof.domain.events import RecordedEvent, format_time
from changeproof.domain.tokens import TOKEN_CREATED, TOKEN_REVOKED, Token, TokenRevoked
from changeproof.store.projections import projects
from changeproof.store.schema import tokens

__all__: list[str] = []


@projects(TOKEN_CREATED)
def _created(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    rows = []
    for event in events:
        token = event.as_(Token)
        rows.append(
            {
                "id": token.id,
                "seq": event.seq,
                "actor": token.actor,
                "sha256": token.sha256,
                "label": token.label,
                "expires_at": format_time(token.expires_at),
                "created_by": event.actor,
                "created_at": format_time(event.time),
                "revoked_seq": None,
                "revoked_by": None,
                "revoked_at": None,
                "scopes": None if token.scopes is MISSING else " ".join(token.scopes),
            }
        )
    conn.execute(tokens.insert(), rows)


@projects(TOKEN_REVOKED)
def _revoked(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        revoked = event.as_(TokenRevoked)
        conn.execute(
            update(tokens)
            .where(
                tokens.c.id == revoked.id,
                tokens.c.seq < event.seq,
                tokens.c.revoked_seq.is_(None),
            )
            .values(
                revoked_seq=event.seq,
                revoked_by=event.actor,
                revoked_at=format_time(event.time),
            )
        )
