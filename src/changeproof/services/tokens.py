"""API token use cases: create, revoke, list, and authenticate whoever presents one.

The rules, checked in the transaction that records, with the ledger's head locked:

- A token belongs to an existing actor, named by its name (any case; not an alias).
- A person's token is created by that person; an admin may create one only for a
  pipeline identity (`ActorKind.PIPELINE`), so no admin can mint a token to act as
  someone else. Only the owner or an admin revokes one. Until some actor holds `admin`,
  anyone may do either (`services.authority`).
- The token text is returned once, by `create`, and recorded nowhere: `token.created`
  holds its SHA-256. Errors name a token by its public id, never by its text.
- A token carries scopes (`domain.tokens.Scope`): by default every scope for a person's token
  and read + record for a pipeline's; a pipeline's token never approves, governs or
  administers. Whoever holds the auditor role reads with any token of theirs and records
  nothing, whatever scopes the token was created with (`principal`).
- A token works from its creation until `expires_at` (default 90 days, at most ten years)
  or until `token.revoked`, whichever comes first. A revoked token stays revoked.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import MISSING

from changeproof.domain.actors import Actor, ActorKind, Directory, Role
from changeproof.domain.canonical import JsonValue
from changeproof.domain.clock import Clock
from changeproof.domain.errors import (
    ConflictError,
    Field,
    NotFoundError,
    PermissionDeniedError,
    UsageError,
    operation,
)
from changeproof.domain.events import Event, format_time
from changeproof.domain.tokens import (
    DEFAULT_LIFETIME,
    ID_BYTES,
    PIPELINE_SCOPES,
    SECRET_BYTES,
    TOKEN_CREATED,
    IssuedToken,
    Principal,
    Scope,
    Token,
    TokenId,
    TokenRevoked,
    expiry,
    issue,
    present,
    scopes_of,
    token_id,
)
from changeproof.services.authority import acting, require_admin
from changeproof.store import actors as actor_queries
from changeproof.store import tokens as queries
from changeproof.store.database import Database
from changeproof.store.entry_check import EntryChecks
from changeproof.store.tokens import TokenRecord
from changeproof.store.unit_of_work import UnitOfWork

__all__ = [
    "CreatedToken",
    "TokenRecord",
    "TokenService",
    "TokenState",
    "TokenView",
    "token_document",
]

_ACTOR: Final = Field("actor")
_LABEL_LIMIT: Final = 200
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
_EXPIRES_HINT: Final = (
    "give a duration (90d, 12h, 2w), a date (2027-01-31, meaning 00:00 UTC that day) "
    "or a date and time with its offset (2027-01-31T18:00:00Z)"
)


class TokenState(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class TokenView:
    """A token as it stands now (its state depends on the clock)."""

    record: TokenRecord
    state: TokenState
    scopes: tuple[Scope, ...]  # what it lets its bearer do (before an auditor's narrowing)


@dataclass(frozen=True, slots=True)
class CreatedToken:
    """A new token's record, and its text: shown to its creator once, kept nowhere."""

    record: TokenRecord
    text: str = field(repr=False)


class TokenService:
    def __init__(
        self,
        db: Database,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        checks: EntryChecks,
        random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self._db = db
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._checks = checks
        self._random_bytes = random_bytes

    def create(
        self,
        actor: str,
        *,
        expires: str | None = None,
        label: str | None = None,
        scopes: Sequence[str] | None = None,
        by: str,
    ) -> CreatedToken:
        """A new token for `actor`, valid until `expires` (see `domain.tokens.expiry`),
        with `scopes` (default: all a person's token may hold, read and record for a
        pipeline's)."""
        by = acting(by)
        label = _label(label)
        wanted = _scopes(scopes)
        now = self._clock.now()
        try:
            expires_at = now + DEFAULT_LIFETIME if expires is None else expiry(expires, now)
        except ValueError as e:
            raise UsageError(f"{Field('expires')} {expires!r}: {e}", hint=_EXPIRES_HINT) from e
        with self._unit_of_work() as uow:
            directory = actor_queries.directory(uow.conn)
            owner = directory.by_name(actor)
            if owner is None:
                raise NotFoundError(
                    f"no actor {actor} ({Field('actor')} names the token's actor by name)",
                    hint=f"{operation('actor list')} shows them; {operation('actor add')} adds one",
                )
            actor = owner.name
            _require_owner_or_admin(by, actor, uow, action=f"create a token for {actor}")
            _require_own_or_pipeline(by, owner, directory)
            granted = _granted_scopes(owner, wanted)
            issued = self._issue(uow)
            token = Token(issued.id, actor, issued.sha256, expires_at, label, granted)
            uow.record(Event.of(token, by, now))
        return CreatedToken(self._find(issued.id), issued.text)

    def revoke(self, token: str, *, by: str) -> TokenRecord:
        """Revoke a token, named by its id (or its whole text, when that is what leaked)."""
        by = acting(by)
        ident = _token_id(token)
        now = self._clock.now()
        with self._unit_of_work() as uow:
            record = queries.find_token(uow.conn, ident)
            if record is None:
                raise NotFoundError(
                    f"no token {ident}", hint=f"{operation('token list')} shows the tokens"
                )
            owner = record.token.actor
            _require_owner_or_admin(by, owner, uow, action=f"revoke token {ident} of {owner}")
            if record.revoked_seq is not None:
                raise ConflictError(
                    f"token {ident} was already revoked in entry {record.revoked_seq} "
                    f"by {record.revoked_by}"
                )
            uow.record(Event.of(TokenRevoked(ident, owner), by, now))
        return self._find(ident)

    def list(self, actor: str | None = None) -> tuple[TokenView, ...]:
        """Every token (or one actor's), oldest first, with its state now; never a secret."""
        now = self._clock.now()
        with self._db.read() as conn:
            if actor is not None:
                owner = actor_queries.directory(conn).by_name(actor)
                if owner is None:
                    raise NotFoundError(
                        f"no actor {actor}", hint=f"{operation('actor list')} shows them"
                    )
                actor = owner.name
            records = queries.list_tokens(conn, actor)
            pipelines = {
                a.name
                for a in actor_queries.directory(conn).actors.values()
                if a.kind is ActorKind.PIPELINE
            }
        return tuple(
            TokenView(r, _state(r, now), _sorted(r.token, r.token.actor in pipelines))
            for r in records
        )

    def authenticate(self, token: str) -> str:
        """The name of the actor whose valid token this is; PermissionDeniedError naming
        the token's id (never its text) when it is malformed, unknown, revoked or expired."""
        return self._authenticate(token).token.actor

    def principal(self, token: str) -> Principal:
        """Who presents this valid token and what it lets them do (errors as `authenticate`).

        An auditor's token reads and nothing more: the role narrows every token its holder
        presents, so no auditor can be handed, or mint, a token that records.
        """
        record = self._authenticate(token)
        with self._db.read() as conn:
            owner = actor_queries.directory(conn).by_name(record.token.actor)
        pipeline = owner is not None and owner.kind is ActorKind.PIPELINE
        scopes: frozenset[Scope] = scopes_of(record.token, pipeline=pipeline)
        if owner is None or Role.AUDITOR in owner.roles:
            scopes = scopes & {Scope.READ}
        return Principal(record.token.actor, record.id, scopes)

    def act_as(self, token: str, claimed: str | None = None, *, claim: str | Field = _ACTOR) -> str:
        """The token's actor, refusing a `claimed` identity that is anyone else.

        `claimed` (from the option or variable named by `claim`) may name the actor by
        name in any case, an email or a login.
        """
        record = self._authenticate(token)
        actor = record.token.actor
        if claimed is None:
            return actor
        acting(claimed)
        with self._db.read() as conn:
            who = actor_queries.directory(conn).identify(claimed)
        if who is not None and who.name == actor:
            return actor
        raise PermissionDeniedError(
            f"token {record.id} acts as {actor}, but {claim} says {claimed}: "
            "a token acts only as its own actor",
            hint=f"drop {claim}, or present {claimed}'s own token",
        )

    def _authenticate(self, token: str) -> TokenRecord:
        try:
            presented = present(token)
        except ValueError as e:
            raise PermissionDeniedError(
                f"the token is malformed: {e}",
                hint=f"a token is printed once by {operation('token create')}",
            ) from e
        with self._db.read() as conn:
            record = queries.find_token(conn, presented.id)
            # Compare digests in constant time; an unknown id and a wrong secret read alike.
            if record is None or not hmac.compare_digest(record.token.sha256, presented.sha256):
                raise PermissionDeniedError(
                    f"token {presented.id} is not known to this instance",
                    hint=f"{operation('token list')} shows the tokens this instance knows",
                )
            # Who a token acts as is a security decision: the row is held to the entry that
            # created the token, so a token row a database administrator planted or pointed
            # at another actor does not authenticate anyone.
            check = self._checks(conn)
            check.expect("tokens", record.seq, TOKEN_CREATED, record.token.to_data())
            check.confirm()
        owner = record.token.actor
        if record.revoked_seq is not None:
            raise PermissionDeniedError(
                f"token {record.id} of {owner} was revoked at {record.revoked_at} by "
                f"{record.revoked_by} (entry {record.revoked_seq})",
                hint=f"create a new token: {operation('token create', actor=owner)}",
            )
        if record.token.expired(self._clock.now()):
            raise PermissionDeniedError(
                f"token {record.id} of {owner} expired at {format_time(record.token.expires_at)}",
                hint=f"create a new token: {operation('token create', actor=owner)}",
            )
        return record

    def _issue(self, uow: UnitOfWork) -> IssuedToken:
        # 64-bit ids collide about never; drawing again when one does costs a lookup.
        for _ in range(3):
            issued = issue(self._random_bytes(ID_BYTES), self._random_bytes(SECRET_BYTES))
            if queries.find_token(uow.conn, issued.id) is None:
                return issued
        raise ConflictError("could not draw an unused token id; try again")

    def _find(self, ident: TokenId) -> TokenRecord:
        with self._db.read() as conn:
            record = queries.find_token(conn, ident)
        if record is None:  # recorded a moment ago, in a committed transaction
            raise NotFoundError(f"no token {ident}")
        return record


def _require_own_or_pipeline(by: str, owner: Actor, directory: Directory) -> None:
    """A person's token is created by that person; an admin creates tokens for pipeline
    identities only (else an admin could mint a token for anyone and act as them). While
    nobody holds admin the instance is being set up, and the admin rule lets anyone."""
    me = directory.identify(by)
    if (me is not None and me.name == owner.name) or owner.kind is ActorKind.PIPELINE:
        return
    if not directory.holders(Role.ADMIN):
        return
    raise PermissionDeniedError(
        f"{by} cannot create a token for {owner.name}: {owner.name} is a person, and a "
        "person's own token is created by that person",
        hint=f"{owner.name} runs {operation('token create', actor=owner.name)} themselves; "
        f"an admin creates tokens for pipeline identities "
        f"({operation('actor add', pipeline=None)})",
    )


def _scopes(names: Sequence[str] | None) -> frozenset[Scope] | None:
    if names is None:
        return None
    known = ", ".join(s.value for s in Scope)
    try:
        chosen = frozenset(Scope(name.strip()) for name in names)
    except ValueError as e:
        raise UsageError(f"{Field('scopes')}: {e}", hint=f"the scopes are {known}") from e
    if not chosen:
        raise UsageError(f"{Field('scopes')} is empty", hint=f"give one or more of {known}")
    return chosen


def _granted_scopes(owner: Actor, wanted: frozenset[Scope] | None) -> tuple[Scope, ...]:
    """The scopes a new token of `owner` is recorded with, sorted; a pipeline identity's
    token never holds more than read and record."""
    allowed = PIPELINE_SCOPES if owner.kind is ActorKind.PIPELINE else frozenset(Scope)
    chosen = allowed if wanted is None else wanted
    beyond = sorted(chosen - allowed)
    if beyond:
        raise PermissionDeniedError(
            f"{owner.name} is a pipeline identity: its tokens may hold "
            f"{', '.join(sorted(allowed))}, not {', '.join(beyond)}",
            hint="approving, governing policy and administering are a person's acts; "
            "give the person their own token",
        )
    return tuple(sorted(chosen))


def _require_owner_or_admin(by: str, owner: str, uow: UnitOfWork, *, action: str) -> None:
    directory = actor_queries.directory(uow.conn)
    me = directory.identify(by)
    if me is not None and me.name == owner:
        return
    require_admin(by, directory, action=action, who_else=owner)


def token_document(
    record: TokenRecord, state: TokenState, scopes: Sequence[Scope] | None = None
) -> dict[str, JsonValue]:
    """A token as every interface shows it: everything but its secret. `scopes` defaults to
    those it was recorded with (None for a token recorded before scopes existed)."""
    token = record.token
    if scopes is None and token.scopes is not MISSING:
        scopes = token.scopes
    return {
        "id": token.id,
        "actor": token.actor,
        "label": token.label,
        "scopes": None if scopes is None else [s.value for s in scopes],
        "state": state.value,
        "expires_at": format_time(token.expires_at),
        "seq": record.seq,
        "created_by": record.created_by,
        "created_at": record.created_at,
        "revoked_seq": record.revoked_seq,
        "revoked_by": record.revoked_by,
        "revoked_at": record.revoked_at,
    }


def _sorted(token: Token, pipeline: bool) -> tuple[Scope, ...]:
    return tuple(sorted(scopes_of(token, pipeline=pipeline)))


def _state(record: TokenRecord, now: datetime) -> TokenState:
    if record.revoked_seq is not None:
        return TokenState.REVOKED
    if record.token.expired(now):
        return TokenState.EXPIRED
    return TokenState.ACTIVE


def _token_id(text: str) -> TokenId:
    try:
        return token_id(text)
    except ValueError as e:
        # A short value cannot be a token's text, so it is safe to quote; a long one may be.
        shown = f" {text!r}" if len(text) <= 2 * ID_BYTES + 8 else ""
        raise UsageError(
            f"TOKEN_ID{shown} is not a token id: expected {2 * ID_BYTES} lower-case hex digits",
            hint=f"{operation('token list')} shows the ids",
        ) from e


def _label(label: str | None) -> str | None:
    if label is None:
        return None
    value = label.strip()
    if not value or len(value) > _LABEL_LIMIT or _CONTROL.search(value):
        raise UsageError(
            f"{Field('name')} must be 1-{_LABEL_LIMIT} characters without control characters",
            hint="a label says what the token is for, e.g. 'github-actions payments'",
        )
    return value
