"""Projections of the actor events: `actors`, `actor_aliases` and `actor_grants`.

`store.projections` imports this module so its registry holds these functions.

actor.added            one `actors` row; one `actor_aliases` row per email and login
actor.alias.added      one `actor_aliases` row per email and login, keyed to its entry
actor.role.granted     one `actor_grants` row keyed by the entry's seq
actor.group.granted    (kind `group`)
actor.role.revoked     sets `revoked_seq` on the actor's open grant of that role
actor.group.revoked
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, update

from changeproof.domain.actors import (
    ACTOR_ADDED,
    ACTOR_ALIAS_ADDED,
    ACTOR_GROUP_GRANTED,
    ACTOR_GROUP_REVOKED,
    ACTOR_ROLE_GRANTED,
    ACTOR_ROLE_REVOKED,
    GRANT_PAYLOADS,
    ActorAdded,
    ActorAliasAdded,
)
from changeproof.domain.events import RecordedEvent, format_time
from changeproof.store.projections import projects
from changeproof.store.schema import actor_aliases, actor_grants, actors

__all__: list[str] = []


@projects(ACTOR_ADDED)
def _actors_added(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    actor_rows: list[dict[str, object]] = []
    alias_rows: list[dict[str, object]] = []
    for event in events:
        actor = event.as_(ActorAdded).actor()
        if actor.roles or actor.groups:
            # Each grant is its own entry (its seq is the grant's key and what a revoke names).
            raise ValueError(
                f"entry {event.seq}: actor.added carries roles or groups; "
                "they are recorded as actor.role.granted / actor.group.granted entries"
            )
        actor_rows.append(
            {
                "name": actor.name,
                "seq": event.seq,
                "added_by": event.actor,
                "added_at": format_time(event.time),
                "kind": actor.kind.value,
            }
        )
        aliases = [("email", email) for email in sorted(actor.emails)]
        aliases += [
            (kind, login)
            for kind, login in (("github", actor.github), ("gitlab", actor.gitlab))
            if login
        ]
        alias_rows.extend(_alias_rows(actor.name, aliases, event.seq))
    conn.execute(actors.insert(), actor_rows)
    if alias_rows:
        conn.execute(actor_aliases.insert(), alias_rows)


@projects(ACTOR_ALIAS_ADDED)
def _aliases_added(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    rows: list[dict[str, object]] = []
    for event in events:
        added = event.as_(ActorAliasAdded).aliases()
        aliases = [("email", email) for email in sorted(added.emails)]
        aliases += [
            (kind, login)
            for kind, login in (("github", added.github), ("gitlab", added.gitlab))
            if login
        ]
        rows.extend(_alias_rows(added.name, aliases, event.seq))
    if rows:
        conn.execute(actor_aliases.insert(), rows)


def _alias_rows(name: str, aliases: Sequence[tuple[str, str]], seq: int) -> list[dict[str, object]]:
    return [
        {"kind": kind, "value": value.lower(), "name": name, "seq": seq} for kind, value in aliases
    ]


@projects(ACTOR_ROLE_GRANTED)
@projects(ACTOR_GROUP_GRANTED)
def _granted(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    rows = []
    for event in events:
        grant = event.as_(GRANT_PAYLOADS[event.type]).grant()
        rows.append(
            {
                "seq": event.seq,
                "name": grant.name,
                "kind": grant.kind,
                "value": grant.value,
                "granted_by": event.actor,
                "revoked_seq": None,
            }
        )
    conn.execute(actor_grants.insert(), rows)


@projects(ACTOR_ROLE_REVOKED)
@projects(ACTOR_GROUP_REVOKED)
def _revoked(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        grant = event.as_(GRANT_PAYLOADS[event.type]).grant()
        conn.execute(
            update(actor_grants)
            .where(
                actor_grants.c.name == grant.name,
                actor_grants.c.kind == grant.kind,
                actor_grants.c.value == grant.value,
                actor_grants.c.seq < event.seq,
                actor_grants.c.revoked_seq.is_(None),
            )
            .values(revoked_seq=event.seq)
        )
