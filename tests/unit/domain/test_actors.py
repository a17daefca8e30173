"""Actor and grant payloads: what the actor events carry, and reading them back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.actors import (
    ACTOR_ADDED,
    ACTOR_GROUP_GRANTED,
    ACTOR_GROUP_REVOKED,
    ACTOR_ROLE_GRANTED,
    ACTOR_ROLE_REVOKED,
    GRANT_PAYLOADS,
    Actor,
    ActorAdded,
    ActorAliasAdded,
    ActorKind,
    Aliases,
    Directory,
    Grant,
    RoleGranted,
)
from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import InputError
from changeproof.domain.events import ActorId, RecordedEvent, Seq

_text = st.text(min_size=1, max_size=20)
_set = st.frozensets(_text, max_size=4)


@given(_text, _set, st.none() | _text, st.none() | _text, _set, _set)
def test_actor_data_round_trips(
    name: str,
    emails: frozenset[str],
    github: str | None,
    gitlab: str | None,
    roles: frozenset[str],
    groups: frozenset[str],
) -> None:
    actor = Actor(name, emails, github, gitlab, roles, groups)
    data = ActorAdded.of(actor).to_data()
    assert list(data) == ["name", "emails", "github", "gitlab", "roles", "groups"]
    assert data["emails"] == sorted(emails)
    assert ActorAdded.from_data(data).actor() == actor


def test_only_a_pipeline_identity_records_its_kind_and_entries_without_one_are_persons() -> None:
    pipeline = Actor("ci", kind=ActorKind.PIPELINE)
    data = ActorAdded.of(pipeline).to_data()
    assert data["kind"] == "pipeline"
    assert ActorAdded.from_data(data).actor() == pipeline
    person = ActorAdded.of(Actor("ada")).to_data()
    assert "kind" not in person
    assert ActorAdded.from_data(person).actor().kind is ActorKind.PERSON


_ACTOR: dict[str, JsonValue] = {
    "name": "a",
    "emails": [],
    "github": None,
    "gitlab": None,
    "roles": [],
    "groups": [],
}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({k: v for k, v in _ACTOR.items() if k != "name"}, "name"),
        ({**_ACTOR, "github": 1}, "github"),
        ({**_ACTOR, "gitlab": ["x"]}, "gitlab"),
        ({**_ACTOR, "emails": "a@x"}, "emails"),
        ({**_ACTOR, "roles": [1]}, "roles/0"),
        ({**_ACTOR, "kind": "robot"}, "kind"),
        ({**_ACTOR, "note": "x"}, "note"),
    ],
)
def test_malformed_actor_data_is_refused(data: dict[str, JsonValue], field: str) -> None:
    with pytest.raises(InputError, match=f"ledger entry 3: ActorAdded field '{field}'"):
        ActorAdded.from_data(data, where="ledger entry 3")


def test_alias_data_round_trips_sorted() -> None:
    aliases = Aliases("ada", frozenset({"b@x", "a@x"}), "ada-gh")
    data = ActorAliasAdded.of(aliases).to_data()
    assert data == {"name": "ada", "emails": ["a@x", "b@x"], "github": "ada-gh", "gitlab": None}
    assert ActorAliasAdded.from_data(data).aliases() == aliases


@pytest.mark.parametrize(
    ("grant", "granted", "event_type", "data"),
    [
        (Grant("a", "role", "admin"), True, ACTOR_ROLE_GRANTED, {"name": "a", "role": "admin"}),
        (Grant("a", "role", "admin"), False, ACTOR_ROLE_REVOKED, {"name": "a", "role": "admin"}),
        (Grant("a", "group", "dba"), True, ACTOR_GROUP_GRANTED, {"name": "a", "group": "dba"}),
        (Grant("a", "group", "dba"), False, ACTOR_GROUP_REVOKED, {"name": "a", "group": "dba"}),
    ],
)
def test_grant_events(grant: Grant, granted: bool, event_type: str, data: dict[str, str]) -> None:
    assert grant.event_type(granted=granted) == event_type
    payload = grant.payload(granted=granted)
    assert event_type == payload.TYPE
    assert payload.to_data() == data
    assert GRANT_PAYLOADS[event_type].from_data(data).grant() == grant


def test_malformed_grant_data_is_refused() -> None:
    added = RecordedEvent(
        Seq(4), ACTOR_ADDED, ActorId("root"), datetime(2026, 1, 1, tzinfo=UTC), {"name": "a"}
    )
    with pytest.raises(InputError, match=r"is actor\.added, not actor\.role\.granted"):
        added.as_(RoleGranted)
    with pytest.raises(InputError, match="RoleGranted field 'role'"):
        RoleGranted.from_data({"name": "a", "group": "dba"})


def test_identify_finds_an_actor_by_any_identity_and_holders_by_role() -> None:
    people = Directory.of(
        [
            Actor(
                "alice", frozenset({"alice@example.com"}), "alice-gh", roles=frozenset({"admin"})
            ),
            Actor("Bob", gitlab="bob-gl", roles=frozenset({"admin", "approver"})),
            Actor("carol"),
        ]
    )
    for identity in ("alice", " ALICE ", "Alice@Example.com", "alice-gh"):
        found = people.identify(identity)
        assert found is not None
        assert found.name == "alice"
    bobs = [people.identify(i) for i in ("bob", "BOB-GL")]
    assert [b.name if b else None for b in bobs] == ["Bob", "Bob"]
    assert people.identify("dave") is None
    assert people.identify("carol@example.com") is None
    assert people.holders("admin") == ("Bob", "alice")
    assert people.holders("auditor") == ()
