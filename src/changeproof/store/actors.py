"""Queries over actors, their aliases and grants (projections only, never the ledger).

`directory(conn, as_of_seq)` reads the directory as it stood before ledger entry
`as_of_seq`: actors added before it, and the roles and groups granted before it and not
revoked before it. Without `as_of_seq`, as it stands now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, RowMapping, or_, select

from changeproof.domain.actors import (
    Actor,
    ActorAdded,
    ActorAliasAdded,
    ActorKind,
    Aliases,
    Directory,
    Grant,
    GrantKind,
    Origin,
)
from changeproof.domain.identity import DEFAULT_RULES, IdentityRules
from changeproof.store.database import IDENTITY_OPTION
from changeproof.store.entry_check import ACTOR, EntryCheck
from changeproof.store.schema import actor_aliases, actor_grants, actors

__all__ = [
    "ActorRecord",
    "GrantRecord",
    "checked_directory",
    "directory",
    "find_actor",
    "list_actors",
]


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A role or group an actor holds, with the entry that granted it."""

    seq: int
    kind: GrantKind
    value: str
    granted_by: str


@dataclass(frozen=True, slots=True)
class ActorRecord:
    actor: Actor
    seq: int  # the actor.added entry
    added_by: str
    added_at: str
    grants: tuple[GrantRecord, ...] = field(default=())  # held ones, oldest first
    # (entry, kind, value) of each alias: the actor.added entry, or a later actor.alias.added
    aliases: tuple[tuple[int, str, str], ...] = field(default=())

    @property
    def name(self) -> str:
        return self.actor.name

    def aliases_by_entry(self) -> dict[int, Aliases]:
        """The aliases each entry recorded."""
        found: dict[int, Aliases] = {}
        for seq, kind, value in sorted(self.aliases):
            held = found.get(seq, Aliases(self.name))
            if kind == "email":
                found[seq] = replace(held, emails=held.emails | {value})
            elif kind == "github":
                found[seq] = replace(held, github=value)
            else:
                found[seq] = replace(held, gitlab=value)
        return found

    def grant_of(self, kind: GrantKind, value: str) -> GrantRecord | None:
        return next((g for g in self.grants if (g.kind, g.value) == (kind, value)), None)


def directory(conn: Connection, as_of_seq: int | None = None) -> Directory:
    """Every actor with the aliases, roles and groups in effect before entry `as_of_seq`."""
    return _directory(conn, _records(conn, as_of_seq))


def _directory(conn: Connection, records: list[ActorRecord]) -> Directory:
    """The directory of `records`, with the instance's identity rules (which travel with the
    connection, see `store.database`) and who made each actor what it is."""
    rules = conn.get_execution_options().get(IDENTITY_OPTION, DEFAULT_RULES)
    if not isinstance(rules, IdentityRules):
        rules = DEFAULT_RULES
    origins = {
        r.name: Origin(r.added_by, {(g.kind, g.value): g.granted_by for g in r.grants})
        for r in records
    }
    return Directory.of((record.actor for record in records), rules, origins)


def checked_directory(
    conn: Connection, check: EntryCheck, as_of_seq: int | None = None
) -> Directory:
    """`directory`, each actor, alias and held grant to be held to the entry it came from
    (`check.confirm()`): a forged grant row or alias is an integrity failure, not a role."""
    records = _records(conn, as_of_seq)
    for record in records:
        a = record.actor
        by_entry = record.aliases_by_entry()
        added = by_entry.pop(record.seq, Aliases(a.name))
        bare = Actor(a.name, added.emails, added.github, added.gitlab, kind=a.kind)
        # The entry is what recording this actor with these aliases wrote; a person's
        # entry has no kind (a missing key reads as None).
        kind = None if a.kind is ActorKind.PERSON else a.kind.value
        added_data = {**ActorAdded.of(bare).to_data(), "kind": kind, ACTOR: record.added_by}
        check.expect("actors", record.seq, ActorAdded.TYPE, added_data)
        for seq, later in by_entry.items():
            check.expect(
                "actor_aliases", seq, ActorAliasAdded.TYPE, ActorAliasAdded.of(later).to_data()
            )
        for g in record.grants:
            granted = Grant(a.name, g.kind, g.value).payload(granted=True)
            check.expect(
                "actor_grants", g.seq, granted.TYPE, {**granted.to_data(), ACTOR: g.granted_by}
            )
    return _directory(conn, records)


def list_actors(conn: Connection, as_of_seq: int | None = None) -> list[ActorRecord]:
    """Every actor, by name."""
    return _records(conn, as_of_seq)


def find_actor(conn: Connection, name: str, as_of_seq: int | None = None) -> ActorRecord | None:
    """The actor of exactly that name (not an alias)."""
    found = _records(conn, as_of_seq, name)
    return found[0] if found else None


def _records(conn: Connection, as_of: int | None, name: str | None = None) -> list[ActorRecord]:
    people = select(actors).order_by(actors.c.name)
    aliases = select(actor_aliases).join(actors, actors.c.name == actor_aliases.c.name)
    grants = select(actor_grants).order_by(actor_grants.c.seq)
    if as_of is None:
        grants = grants.where(actor_grants.c.revoked_seq.is_(None))
    else:
        people = people.where(actors.c.seq < as_of)
        aliases = aliases.where(actor_aliases.c.seq < as_of)  # later aliases left out
        grants = grants.where(
            actor_grants.c.seq < as_of,
            or_(actor_grants.c.revoked_seq.is_(None), actor_grants.c.revoked_seq >= as_of),
        )
    if name is not None:
        people = people.where(actors.c.name == name)
        aliases = aliases.where(actor_aliases.c.name == name)
        grants = grants.where(actor_grants.c.name == name)
    emails: dict[str, set[str]] = defaultdict(set)
    logins: dict[str, dict[str, str]] = defaultdict(dict)
    entries: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for row in conn.execute(aliases).mappings():
        entries[row["name"]].append((int(row["seq"]), str(row["kind"]), str(row["value"])))
        if row["kind"] == "email":
            emails[row["name"]].add(row["value"])
        else:
            logins[row["name"]][row["kind"]] = row["value"]
    held: dict[str, list[GrantRecord]] = defaultdict(list)
    for row in conn.execute(grants).mappings():
        held[row["name"]].append(
            GrantRecord(int(row["seq"]), row["kind"], row["value"], row["granted_by"])
        )
    return [
        _record(
            row, emails[row["name"]], logins[row["name"]], held[row["name"]], entries[row["name"]]
        )
        for row in conn.execute(people).mappings()
    ]


def _record(
    row: RowMapping,
    emails: Iterable[str],
    logins: dict[str, str],
    grants: list[GrantRecord],
    aliases: list[tuple[int, str, str]],
) -> ActorRecord:
    actor = Actor(
        name=str(row["name"]),
        emails=frozenset(emails),
        github=logins.get("github"),
        gitlab=logins.get("gitlab"),
        roles=frozenset(g.value for g in grants if g.kind == "role"),
        groups=frozenset(g.value for g in grants if g.kind == "group"),
        kind=ActorKind(str(row["kind"])),
    )
    return ActorRecord(
        actor,
        int(row["seq"]),
        str(row["added_by"]),
        str(row["added_at"]),
        tuple(grants),
        tuple(sorted(aliases)),
    )
