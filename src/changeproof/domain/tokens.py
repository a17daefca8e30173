"""API tokens: how a pipeline or a person proves which actor it is, without a password.

A token reads `cpt_<id>_<secret>`: `id` is 16 lower-case hex digits, public, so a token can
be named (listed, revoked) and found without scanning; `secret` is 64 lower-case hex
digits, 256 random bits. Only the SHA-256 of the whole token text is ever recorded: with
that much randomness a plain hash cannot be reversed or guessed, so no slow KDF is needed,
and the hash can sit in the ledger an auditor exports.

A token carries scopes: what its bearer may do through the server, whatever its actor's
roles would allow (`Scope`). Roles still decide, in the services, whether the actor may do
it at all; a scope only ever narrows. Tokens recorded before scopes existed carry none in
their entry and act with every scope their actor's kind allows (`scopes_of`).

Pure: the randomness and the current time arrive as arguments.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, ClassVar, Final, NewType, TypeAlias

from pydantic import MISSING, StringConstraints

from changeproof.domain.events import format_time
from changeproof.domain.payloads import EventPayload, Timestamp

__all__ = [
    "DEFAULT_LIFETIME",
    "ID_BYTES",
    "MAX_LIFETIME",
    "PIPELINE_SCOPES",
    "SECRET_BYTES",
    "TOKEN_CREATED",
    "TOKEN_PREFIX",
    "TOKEN_REVOKED",
    "IssuedToken",
    "PresentedToken",
    "Principal",
    "Scope",
    "Token",
    "TokenId",
    "TokenRevoked",
    "expiry",
    "issue",
    "present",
    "scopes_of",
    "token_id",
]

# Event types and the token prefix, not secrets (ruff S105 reads any *TOKEN* name as one).
TOKEN_CREATED: Final = "token.created"  # noqa: S105
TOKEN_REVOKED: Final = "token.revoked"  # noqa: S105

TOKEN_PREFIX: Final = "cpt_"  # noqa: S105
ID_BYTES: Final = 8
SECRET_BYTES: Final = 32
DEFAULT_LIFETIME: Final = timedelta(days=90)
# Long enough for any pipeline identity that is rotated at all; it also keeps every date
# this parser returns far inside what `datetime` can represent.
MAX_LIFETIME: Final = timedelta(days=3653)

TokenId = NewType("TokenId", str)


class Scope(StrEnum):
    """What a token's bearer may do; each API route needs exactly one of these."""

    READ = "read"  # everything an auditor may see: releases, evidence, decisions, the ledger
    RECORD = "record"  # releases, evidence, gate decisions, changes opened, deployments, checks
    APPROVE = "approve"  # approve, reject or review a change
    GOVERN = "govern"  # propose, approve, activate or reject a policy
    ADMIN = "admin"  # actors, roles and other people's tokens


# A pipeline identity records and gates; approving and governing are a person's acts.
PIPELINE_SCOPES: Final = frozenset({Scope.READ, Scope.RECORD})

_ID: Final = re.compile(rf"[0-9a-f]{{{2 * ID_BYTES}}}")
# A token id in an entry: 16 lower-case hex digits, and nothing else.
_RecordedId: TypeAlias = Annotated[TokenId, StringConstraints(pattern=rf"^{_ID.pattern}$")]
_TOKEN: Final = re.compile(rf"cpt_([0-9a-f]{{{2 * ID_BYTES}}})_([0-9a-f]{{{2 * SECRET_BYTES}}})")
_DURATION: Final = re.compile(r"([0-9]{1,7})([hdw])")
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UNITS: Final = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: its text is shown once, to whoever created it, and then forgotten."""

    id: TokenId
    text: str = field(repr=False)  # never in a repr, a log line or a traceback
    sha256: str


@dataclass(frozen=True, slots=True)
class PresentedToken:
    """A token someone presented: its public id and the digest to compare, no secret kept."""

    id: TokenId
    sha256: str


def issue(id_bytes: bytes, secret_bytes: bytes) -> IssuedToken:
    """The token made of these random bytes (the caller draws them from `secrets`)."""
    if len(id_bytes) != ID_BYTES or len(secret_bytes) != SECRET_BYTES:
        raise ValueError(f"a token needs {ID_BYTES} id bytes and {SECRET_BYTES} secret bytes")
    ident = TokenId(id_bytes.hex())
    text = f"{TOKEN_PREFIX}{ident}_{secret_bytes.hex()}"
    return IssuedToken(ident, text, _digest(text))


def present(text: str) -> PresentedToken:
    """Read a presented token; ValueError that never quotes it (it may be a real secret)."""
    match = _TOKEN.fullmatch(text.strip())
    if match is None and not text.strip():
        raise ValueError("it is empty")
    if match is None:
        raise ValueError(
            f"not a changeproof token: expected {TOKEN_PREFIX}, {2 * ID_BYTES} hex digits, "
            f"'_' and {2 * SECRET_BYTES} hex digits"
        )
    return PresentedToken(TokenId(match[1]), _digest(match[0]))


def token_id(text: str) -> TokenId:
    """A token id as given to `token revoke`: the id itself, or a whole token (leaked, say)."""
    value = text.strip()
    if _ID.fullmatch(value):
        return TokenId(value)
    return present(value).id


@dataclass(frozen=True, slots=True)
class Token(EventPayload):
    """A token as recorded by `token.created`: whose it is, and until when it works."""

    TYPE: ClassVar[str] = TOKEN_CREATED

    id: _RecordedId
    actor: str
    sha256: str  # of the whole token text
    expires_at: Timestamp
    label: str | None
    # Sorted; absent from tokens recorded before scopes existed (see `scopes_of`).
    scopes: tuple[Scope, ...] | MISSING = MISSING

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True, slots=True)
class Principal:
    """Who presented a token, and what they may do with it."""

    actor: str
    token: TokenId
    scopes: frozenset[Scope]

    def may(self, scope: Scope) -> bool:
        return scope in self.scopes


def scopes_of(token: Token, *, pipeline: bool) -> frozenset[Scope]:
    """What `token` lets its bearer do: the scopes it was created with, or, for a token
    recorded before scopes existed, every scope its actor's kind may hold."""
    if token.scopes is MISSING:
        return PIPELINE_SCOPES if pipeline else frozenset(Scope)
    return frozenset(token.scopes)


@dataclass(frozen=True, slots=True)
class TokenRevoked(EventPayload):
    """A token stopped working before it expired."""

    TYPE: ClassVar[str] = TOKEN_REVOKED

    id: _RecordedId
    actor: str  # whose token it was


def expiry(text: str, now: datetime) -> datetime:
    """When a token given `--expires TEXT` at `now` stops working.

    `90d`, `12h`, `2w`: that long from now. `2027-01-31`: 00:00 UTC that day. A date and
    time with its offset (`2027-01-31T18:00:00+01:00`, `…Z`): that moment. The result is
    after `now` and at most MAX_LIFETIME after it; anything else is a ValueError saying why.
    """
    value = text.strip()
    if duration := _DURATION.fullmatch(value):
        count, unit = int(duration[1]), duration[2]
        if count == 0:
            raise ValueError("a duration must be at least 1")
        if count > MAX_LIFETIME / _UNITS[unit]:
            raise ValueError(f"more than {MAX_LIFETIME.days} days from now")
        return now + count * _UNITS[unit]
    try:
        if _DATE.fullmatch(value):
            moment = datetime.combine(datetime.fromisoformat(value).date(), time(), UTC)
        elif "T" in value:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError("give the time's offset (Z or +HH:MM)")
            moment = moment.astimezone(UTC)
        else:
            raise ValueError("expected a duration (90d, 12h, 2w) or a date (2027-01-31)")
    except OverflowError as e:  # an offset pushing year 1 or 9999 past what datetime holds
        raise ValueError("not a date changeproof can hold") from e
    if moment <= now:
        raise ValueError(f"{format_time(moment)} is not in the future")
    if moment - now > MAX_LIFETIME:
        raise ValueError(f"more than {MAX_LIFETIME.days} days from now")
    return moment
