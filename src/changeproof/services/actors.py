"""Actor use cases: who someone is whichever tool spoke, and which roles and groups they hold.

Every change is a ledger entry whose actor is whoever acted (`by`). The rules, checked in
the transaction that records, with the ledger's head locked so checks and writes see the
same directory:

- Nobody grants a role or group to themselves, nor adds themselves with one. `by` is the
  target when it equals the target's name (ignoring case), one of its emails or logins,
  or resolves to the target through the directory. Revoking one's own role is allowed
  (under the admin rule).
- Once an actor holds role `admin`, only an admin grants or revokes roles and groups, and
  the last admin keeps `admin`; until then anyone may (`services.authority`).
- Names are 1-200 of `A-Z a-z 0-9 . _ - [ ]`, starting with a letter or digit; emails
  `local@domain`; GitHub and GitLab logins `a-z 0-9 . _ -` (lower-cased, an optional
  `[bot]` suffix). Roles are those of `Role`; groups match `[a-z0-9][a-z0-9-]*`.
- An identity belongs to one actor: an email or login already held by another actor,
  a login equal to another actor's name, a name equal to another actor's login, or a
  name differing from another only in case, is a ConflictError naming both.
- Granting a held role or group, or revoking one not held, is a ConflictError: nothing
  is recorded. (`sync` is the idempotent way: it records only differences.)
- Aliases come with `actor.added`, and more later with `actor.alias.added` (`add_aliases`,
  or `sync` for what a file lists that is not recorded), under the admin rule. None is
  ever removed or changed: `sync` refuses an entry that leaves a recorded alias out, and
  an actor keeps its one login per platform. An alias that is another actor's to the
  identity engine (`domain.identity`: plus-addressing, no-reply addresses, look-alike
  letters) is a ConflictError naming both.
- An actor is a person or a pipeline identity (`kind`, recorded in `actor.added`; entries
  without it are persons); the kind never changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Final

from changeproof.domain.actors import (
    ACTOR_ALIAS_ADDED,
    GRANT_PAYLOADS,
    Actor,
    ActorAdded,
    ActorAliasAdded,
    ActorKind,
    Aliases,
    Directory,
    Grant,
    GrantKind,
    Role,
)
from changeproof.domain.canonical import JsonValue
from changeproof.domain.clock import Clock
from changeproof.domain.errors import (
    ConflictError,
    Field,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    UsageError,
    operation,
)
from changeproof.domain.events import Event, RecordedEvent
from changeproof.domain.identity import recorded_aliases
from changeproof.ingest.errors import ReadError
from changeproof.ingest.people import DeclaredActor, read_people
from changeproof.services.authority import acting, require_admin, require_an_admin_remains
from changeproof.services.files import read_input
from changeproof.store import actors as queries
from changeproof.store.actors import ActorRecord
from changeproof.store.database import Database
from changeproof.store.unit_of_work import UnitOfWork

__all__ = [
    "ROLES",
    "ActorChange",
    "ActorRecord",
    "ActorReport",
    "ActorService",
    "SyncReport",
    "actor_document",
    "change_document",
    "check_first_actor",
    "report_document",
]

ROLES: Final = tuple(role.value for role in Role)
_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\[\]-]{0,199}")
_EMAIL: Final = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
_LOGIN: Final = re.compile(r"[a-z0-9][a-z0-9._-]{0,98}(\[bot\])?")
_GROUP: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
_MAX_FILE_BYTES: Final = 1 << 20
_PLATFORMS: Final = {"github": "GitHub", "gitlab": "GitLab"}


@dataclass(frozen=True, slots=True)
class ActorChange:
    """One recorded entry: an actor added, or a role or group granted or revoked."""

    seq: int
    event: str
    name: str
    kind: GrantKind | None = None  # None for actor.added
    value: str | None = None


@dataclass(frozen=True, slots=True)
class ActorReport:
    actor: ActorRecord
    changes: tuple[ActorChange, ...]


@dataclass(frozen=True, slots=True)
class SyncReport:
    source: str
    changes: tuple[ActorChange, ...]  # empty when the directory already matched the file
    unlisted: tuple[str, ...]  # actors the file does not name: left as they are


class ActorService:
    def __init__(self, db: Database, unit_of_work: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._db = db
        self._unit_of_work = unit_of_work
        self._clock = clock

    def add(
        self,
        name: str,
        *,
        emails: Sequence[str] = (),
        github: str | None = None,
        gitlab: str | None = None,
        roles: Sequence[str] = (),
        groups: Sequence[str] = (),
        pipeline: bool = False,
        by: str,
    ) -> ActorReport:
        """Record a new actor with its aliases, then one grant entry per role and group."""
        by = acting(by)
        actor = _actor(name, emails, github, gitlab, roles, groups)
        if pipeline:
            actor = replace(actor, kind=ActorKind.PIPELINE)
        now = self._clock.now()
        with self._unit_of_work() as uow:
            current = queries.directory(uow.conn)
            _check_new(actor, current.actors, "")
            _check_not_self(by, actor, current, actor.roles, actor.groups, "")
            _check_admin(by, actor.name, current, actor.roles, actor.groups, "", granted=True)
            for event in _added(actor, by, now):
                uow.record(event)
        return ActorReport(self._find(actor.name), _changes(uow.recorded))

    def grant(
        self, name: str, *, role: str | None = None, group: str | None = None, by: str
    ) -> ActorReport:
        """Grant one role or one group; refused when held, or when `by` is the actor."""
        return self._change(name, role, group, by, granted=True)

    def revoke(
        self, name: str, *, role: str | None = None, group: str | None = None, by: str
    ) -> ActorReport:
        """Revoke one role or one group; refused when not held."""
        return self._change(name, role, group, by, granted=False)

    def add_aliases(
        self,
        name: str,
        *,
        emails: Sequence[str] = (),
        github: str | None = None,
        gitlab: str | None = None,
        by: str,
    ) -> ActorReport:
        """Record more emails or logins of a known actor (`actor.alias.added`): entries
        recorded before keep the directory they were judged by; later ones use these."""
        by = acting(by)
        wanted = _aliases(name, emails, github, gitlab)
        if not wanted:
            raise UsageError(
                f"give at least one of {Field('email')}, {Field('github')} and {Field('gitlab')}"
            )
        now = self._clock.now()
        with self._unit_of_work() as uow:
            current = queries.directory(uow.conn)
            held = current.by_name(name)
            if held is None:
                raise NotFoundError(
                    f"no actor {name}",
                    hint=f"{operation('actor list')} shows them; {operation('actor add')} adds one",
                )
            added = _new_aliases(held, replace(wanted, name=held.name), "")
            if not added:
                raise ConflictError(f"{held.name} already has {wanted.words()}")
            _check_aliases_free(added, current.actors, "")
            require_admin(by, current, action=f"add aliases to {held.name}")
            uow.record(Event.of(ActorAliasAdded.of(added), by, now))
        return ActorReport(self._find(held.name), _changes(uow.recorded))

    def show(self, name: str) -> ActorRecord:
        """One actor by name (in any case, as `grant` reads it)."""
        with self._db.read() as conn:
            known = queries.directory(conn).by_name(name)
            record = queries.find_actor(conn, known.name if known is not None else name)
        if record is None:
            raise NotFoundError(
                f"no actor {name}",
                hint=f"{operation('actor list')} shows them; {operation('actor add')} adds one",
            )
        return record

    def list(self) -> tuple[ActorRecord, ...]:
        """Every actor, by name, with the roles and groups it holds now."""
        with self._db.read() as conn:
            return tuple(queries.list_actors(conn))

    def sync(self, file: Path, *, by: str) -> SyncReport:
        """Make the listed actors match the file: add the new ones, grant and revoke the
        differences, all in one transaction. Actors the file does not list are untouched."""
        by = acting(by)
        source = str(file)
        entries = read_people(_read(file), source)
        declared = [(entry, _declared(entry, source)) for entry in entries]
        now = self._clock.now()
        events: list[Event] = []
        with self._unit_of_work() as uow:
            records = {record.name: record for record in queries.list_actors(uow.conn)}
            known = {name: record.actor for name, record in records.items()}
            # The admin rule reads the directory as it was before the file: a file that
            # makes the first admin is judged, as a whole, by the setup rule.
            before = Directory(dict(known))
            roles_after = {name: actor.roles for name, actor in known.items()}
            seen: dict[str, DeclaredActor] = {}
            for entry, actor in declared:
                where = f"{source}:{entry.line}: {entry.entry}: "
                if actor.name in seen:
                    first = seen[actor.name]
                    raise InputError(
                        f"{where}{actor.name} is declared twice "
                        f"(also {first.entry} on line {first.line})"
                    )
                seen[actor.name] = entry
                record = records.get(actor.name)
                if record is None:
                    _check_new(actor, known, where)
                    directory = Directory(known)
                    _check_not_self(by, actor, directory, actor.roles, actor.groups, where)
                    _check_admin(
                        by, actor.name, before, actor.roles, actor.groups, where, granted=True
                    )
                    known[actor.name] = actor
                    roles_after[actor.name] = actor.roles
                    events.extend(_added(actor, by, now))
                    continue
                held = record.actor
                _check_no_alias_removed(held, actor, where)
                new_aliases = _new_aliases(held, _aliases_of(actor), where)
                if new_aliases:
                    _check_aliases_free(new_aliases, known, where)
                    require_admin(by, before, action=f"add aliases to {actor.name}", where=where)
                    known[actor.name] = held = held.with_aliases(new_aliases)
                    events.append(Event.of(ActorAliasAdded.of(new_aliases), by, now))
                if held.kind is not actor.kind:
                    raise ConflictError(
                        f"{where}the file makes {actor.name} a {actor.kind}, but they are "
                        f"recorded as a {held.kind}; an actor's kind cannot be changed"
                    )
                new_roles, new_groups = actor.roles - held.roles, actor.groups - held.groups
                directory = Directory(known)
                _check_not_self(by, held, directory, new_roles, new_groups, where)
                gone_roles, gone_groups = held.roles - actor.roles, held.groups - actor.groups
                _check_admin(by, actor.name, before, new_roles, new_groups, where, granted=True)
                _check_admin(by, actor.name, before, gone_roles, gone_groups, where, granted=False)
                roles_after[actor.name] = actor.roles
                events.extend(_grants(actor.name, new_roles, new_groups, by, now, granted=True))
                events.extend(_grants(actor.name, gone_roles, gone_groups, by, now, granted=False))
            after = {name for name, roles in roles_after.items() if Role.ADMIN in roles}
            gone = sorted(set(before.holders(Role.ADMIN)) - after)
            require_an_admin_remains(
                before, after, action=f"revoking admin from {', '.join(gone)}", where=f"{source}: "
            )
            for event in events:
                uow.record(event)
        unlisted = tuple(sorted(name for name in records if name not in seen))
        return SyncReport(source, _changes(uow.recorded), unlisted)

    def _change(
        self, name: str, role: str | None, group: str | None, by: str, *, granted: bool
    ) -> ActorReport:
        by = acting(by)
        kind, value = _one_grant(role, group)
        now = self._clock.now()
        with self._unit_of_work() as uow:
            # A name in any case, with spaces around it, is that actor (names differing
            # only in case are refused when added): the identity engine's one way.
            known = queries.directory(uow.conn).by_name(name)
            name = known.name if known is not None else name
            record = queries.find_actor(uow.conn, name)
            if record is None:
                raise NotFoundError(
                    f"no actor {name}",
                    hint=f"{operation('actor list')} shows them; {operation('actor add')} adds one",
                )
            held = record.grant_of(kind, value)
            roles, groups = ({value}, set()) if kind == "role" else (set(), {value})
            current = queries.directory(uow.conn)
            if granted:
                _check_not_self(by, record.actor, current, roles, groups, "")
            _check_admin(by, name, current, roles, groups, "", granted=granted)
            if granted and held is not None:
                raise ConflictError(
                    f"{name} already holds {kind} {value} "
                    f"(granted in entry {held.seq} by {held.granted_by})"
                )
            if not granted:
                if held is None:
                    raise ConflictError(f"{name} does not hold {kind} {value}")
                if (kind, value) == ("role", Role.ADMIN):
                    remaining = set(current.holders(Role.ADMIN)) - {name}
                    require_an_admin_remains(
                        current, remaining, action=f"revoking admin from {name}"
                    )
            grant = Grant(name, kind, value)
            uow.record(Event.of(grant.payload(granted=granted), by, now))
        return ActorReport(self._find(name), _changes(uow.recorded))

    def _find(self, name: str) -> ActorRecord:
        with self._db.read() as conn:
            record = queries.find_actor(conn, name)
        if record is None:  # recorded a moment ago, in a committed transaction
            raise NotFoundError(f"no actor {name}")
        return record


def check_first_actor(
    name: str, *, emails: Sequence[str] = (), roles: Sequence[str] = (), by: str
) -> None:
    """What `ActorService.add` would refuse of this actor in an empty directory, checked
    before an instance exists to add it to (`init --admin`), so a refusal leaves nothing."""
    actor = _actor(name, emails, None, None, roles, ())
    _check_not_self(acting(by), actor, Directory(), actor.roles, actor.groups, "")


def _one_grant(role: str | None, group: str | None) -> tuple[GrantKind, str]:
    if (role is None) == (group is None):
        raise UsageError(f"give exactly one of {Field('role')} and {Field('group')}")
    if role is not None:
        return "role", _role(role)
    assert group is not None
    return "group", _group(group)


def _actor(
    name: str,
    emails: Iterable[str],
    github: str | None,
    gitlab: str | None,
    roles: Iterable[str],
    groups: Iterable[str],
) -> Actor:
    """A valid actor with normalised aliases, or UsageError saying what is wrong."""
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"actor name {name!r} is not 1-200 letters, digits, '.', '_', '-', '[' or ']' "
            "starting with a letter or digit"
        )
    return Actor(
        name=name,
        emails=frozenset(_email(e) for e in emails),
        github=None if github is None else _login(github, "github"),
        gitlab=None if gitlab is None else _login(gitlab, "gitlab"),
        roles=frozenset(_role(r) for r in roles),
        groups=frozenset(_group(g) for g in groups),
    )


def _declared(entry: DeclaredActor, source: str) -> Actor:
    try:
        actor = _actor(
            entry.name, entry.emails, entry.github, entry.gitlab, entry.roles, entry.groups
        )
        return replace(actor, kind=ActorKind(entry.kind))
    except UsageError as e:
        raise ReadError(source, f"{entry.entry}: {e.template}", line=entry.line) from e


def _email(email: str) -> str:
    value = email.strip().lower()
    if not _EMAIL.fullmatch(value):
        raise UsageError(f"{email!r} is not an email address (local@domain)")
    return value


def _login(login: str, platform: str) -> str:
    value = login.strip().lower()
    if not _LOGIN.fullmatch(value):
        raise UsageError(
            f"{login!r} is not a {_PLATFORMS[platform]} login (letters, digits, '.', '_', '-')"
        )
    return value


def _role(role: str) -> str:
    if role not in ROLES:
        raise UsageError(f"{role!r} is not a role; roles are {', '.join(ROLES)}")
    return role


def _group(group: str) -> str:
    if not _GROUP.fullmatch(group):
        raise UsageError(
            f"{group!r} is not a group name (lower-case letters, digits and '-', "
            "starting with a letter or digit, at most 100)"
        )
    return group


def _logins(actor: Actor) -> dict[str, str]:
    return {
        platform: login
        for platform, login in (("github", actor.github), ("gitlab", actor.gitlab))
        if login is not None
    }


def _check_new(actor: Actor, others: Mapping[str, Actor], where: str) -> None:
    """An identity belongs to one actor: ConflictError naming both when it would not."""
    name = actor.name
    if name in others:
        raise ConflictError(
            f"{where}actor {name} already exists",
            hint=f"grant roles and groups with {operation('actor grant')}",
        )
    for other in others.values():
        if other.name.casefold() == name.casefold():
            raise ConflictError(f"{where}actor {name} differs from actor {other.name} only in case")
        for their_platform, their_login in _logins(other).items():
            if name.casefold() == their_login:
                raise ConflictError(
                    f"{where}name {name} is already {other.name}'s "
                    f"{_PLATFORMS[their_platform]} login"
                )
    _check_aliases_free(_aliases_of(actor), others, where)


def _check_aliases_free(aliases: Aliases, others: Mapping[str, Actor], where: str) -> None:
    """None of `aliases` is another actor's (as recorded, or to the identity engine)."""
    name = aliases.name
    mine = {
        platform: login
        for platform, login in (("github", aliases.github), ("gitlab", aliases.gitlab))
        if login is not None
    }
    for other in others.values():
        if other.name == name:
            continue
        theirs = _logins(other)
        shared = sorted(aliases.emails & other.emails)
        if shared:
            raise ConflictError(
                f"{where}email {shared[0]} is already {other.name}'s; it cannot be {name}'s too"
            )
        for platform, login in mine.items():
            for their_platform, their_login in theirs.items():
                if login == their_login:
                    raise ConflictError(
                        f"{where}login {login} is already {other.name}'s "
                        f"{_PLATFORMS[their_platform]} login; it cannot be {name}'s "
                        f"{_PLATFORMS[platform]} login too"
                    )
            if login == other.name.casefold():
                raise ConflictError(
                    f"{where}login {login} is the name of actor {other.name}; "
                    f"it cannot be {name}'s {_PLATFORMS[platform]} login"
                )
        _check_apart(aliases, other, where)


def _check_apart(aliases: Aliases, other: Actor, where: str) -> None:
    """An alias the identity engine takes for one of `other`'s (plus-addressing, a no-reply
    address, a look-alike letter) would make the two one person: a conflict."""
    actor = Actor(aliases.name, aliases.emails, aliases.github, aliases.gitlab)
    theirs = recorded_aliases(other)
    for mine, keys in recorded_aliases(actor):
        match = next((alias for alias, their_keys in theirs if keys & their_keys), None)
        if match is not None:
            raise ConflictError(
                f"{where}{aliases.name}'s {mine} is {other.name}'s {match} to the identity "
                f"engine (case, plus-addressing, no-reply addresses and look-alike letters "
                f"aside): they would be one person",
                hint=f"if they are, add the alias to {other.name} "
                f"({operation('actor alias add', other.name, '…')})",
            )


def _aliases_of(actor: Actor) -> Aliases:
    return Aliases(actor.name, actor.emails, actor.github, actor.gitlab)


def _aliases(name: str, emails: Iterable[str], github: str | None, gitlab: str | None) -> Aliases:
    """Valid, normalised aliases, or UsageError saying what is wrong."""
    return Aliases(
        name,
        frozenset(_email(e) for e in emails),
        None if github is None else _login(github, "github"),
        None if gitlab is None else _login(gitlab, "gitlab"),
    )


def _new_aliases(held: Actor, wanted: Aliases, where: str) -> Aliases:
    """The aliases of `wanted` that `held` does not have; an actor has one login per
    platform, so a different one is a ConflictError."""
    for platform, login in (("github", wanted.github), ("gitlab", wanted.gitlab)):
        recorded = held.github if platform == "github" else held.gitlab
        if login is not None and recorded is not None and login != recorded:
            raise ConflictError(
                f"{where}{held.name}'s {_PLATFORMS[platform]} login is {recorded}; it cannot "
                f"also be {login} (recorded aliases are never changed)"
            )
    return Aliases(
        held.name,
        wanted.emails - held.emails,
        wanted.github if held.github is None else None,
        wanted.gitlab if held.gitlab is None else None,
    )


def _check_no_alias_removed(recorded: Actor, declared: Actor, where: str) -> None:
    gone = [f"email {e}" for e in sorted(recorded.emails - declared.emails)]
    gone += [
        f"{platform} {login}"
        for platform, login in _logins(recorded).items()
        if _logins(declared).get(platform) is None
    ]
    if gone:
        raise ConflictError(
            f"{where}the file leaves out {recorded.name}'s {', '.join(gone)}, but recorded "
            f"aliases cannot be removed",
            hint=f"keep every alias {operation('actor list')} shows in the entry",
        )


def _check_admin(
    by: str,
    target: str,
    directory: Directory,
    roles: Iterable[str],
    groups: Iterable[str],
    where: str,
    *,
    granted: bool,
) -> None:
    """Once an actor holds admin, only an admin grants or revokes roles and groups."""
    changed = [f"role {r}" for r in sorted(roles)] + [f"group {g}" for g in sorted(groups)]
    if not changed:
        return
    verb, direction = ("grant", "to") if granted else ("revoke", "from")
    action = f"{verb} {', '.join(changed)} {direction} {target}"
    require_admin(by, directory, action=action, where=where)


def _check_not_self(
    by: str,
    target: Actor,
    directory: Directory,
    roles: Iterable[str],
    groups: Iterable[str],
    where: str,
) -> None:
    wanted = [f"role {r}" for r in sorted(roles)] + [f"group {g}" for g in sorted(groups)]
    if not wanted:
        return
    reason = _self(by, target, directory)
    if reason is not None:
        raise PermissionDeniedError(
            f"{where}{by} cannot grant {', '.join(wanted)} to {target.name}: {reason}",
            hint="nobody grants a role or group to themselves; another actor must grant it",
        )


def _self(by: str, target: Actor, directory: Directory) -> str | None:
    """Why `by` is `target` (by name, an alias, or through the directory), or None."""
    who = by.strip()
    if who.casefold() == target.name.casefold():
        return "they are the same actor"
    alias = who.lower()  # as aliases are stored
    if alias in target.emails:
        return f"{who} is {target.name}'s email"
    for platform, login in _logins(target).items():
        if alias == login:
            return f"{who} is {target.name}'s {_PLATFORMS[platform]} login"
    found = directory.resolve(who)
    if found is not None and found.name == target.name:
        return f"{who} is {target.name}"
    return None


def _added(actor: Actor, by: str, now: datetime) -> list[Event]:
    """`actor.added` with the aliases, then one entry per grant (each grant's seq is its key)."""
    bare = Actor(actor.name, actor.emails, actor.github, actor.gitlab, kind=actor.kind)
    return [
        Event.of(ActorAdded.of(bare), by, now),
        *_grants(actor.name, actor.roles, actor.groups, by, now, granted=True),
    ]


def _grants(
    name: str,
    roles: Iterable[str],
    groups: Iterable[str],
    by: str,
    now: datetime,
    *,
    granted: bool,
) -> list[Event]:
    grants = [Grant(name, "role", r) for r in sorted(roles)]
    grants += [Grant(name, "group", g) for g in sorted(groups)]
    return [Event.of(g.payload(granted=granted), by, now) for g in grants]


def _changes(recorded: Iterable[RecordedEvent]) -> tuple[ActorChange, ...]:
    changes = []
    for event in recorded:
        if event.type in GRANT_PAYLOADS:
            grant = event.as_(GRANT_PAYLOADS[event.type]).grant()
            changes.append(ActorChange(event.seq, event.type, grant.name, grant.kind, grant.value))
        elif event.type == ACTOR_ALIAS_ADDED:
            added = event.as_(ActorAliasAdded).aliases()
            changes.append(ActorChange(event.seq, event.type, added.name, None, added.words()))
        else:
            changes.append(ActorChange(event.seq, event.type, event.as_(ActorAdded).name))
    return tuple(changes)


def _read(file: Path) -> bytes:
    return read_input(file, "people file", limit=_MAX_FILE_BYTES)


def actor_document(record: ActorRecord) -> dict[str, JsonValue]:
    """An actor as every interface shows it."""
    a = record.actor
    return {
        "name": a.name,
        "emails": sorted(a.emails),
        "github": a.github,
        "gitlab": a.gitlab,
        "roles": sorted(a.roles),
        "groups": sorted(a.groups),
        "kind": a.kind.value,
        "seq": record.seq,
        "added_by": record.added_by,
        "added_at": record.added_at,
        "grants": [
            {"seq": g.seq, "kind": g.kind, "value": g.value, "granted_by": g.granted_by}
            for g in record.grants
        ],
    }


def change_document(change: ActorChange) -> dict[str, JsonValue]:
    """One entry an actor operation recorded."""
    return {
        "seq": change.seq,
        "event": change.event,
        "name": change.name,
        "kind": change.kind,
        "value": change.value,
    }


def report_document(report: ActorReport) -> dict[str, JsonValue]:
    """The actor as it stands after an operation, and the entries the operation recorded."""
    return {
        "actor": actor_document(report.actor),
        "changes": [change_document(c) for c in report.changes],
    }
