"""Actor and grant payloads: what the actor events carry, and reading them back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.actors import (
    ACTOR_GROUP_GRANTED,
    ACTOR_GROUP_REVOKED,
    ACTOR_ROLE_GRANTED,
    ACTOR_ROLE_REVOKED,
    Actor,
    Directory,
    Grant,
    actor_from_data,
    grant_from_data,
)

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
    data = actor.to_data()
    assert list(data) == ["name", "emails", "github", "gitlab", "roles", "groups"]
    assert data["emails"] == sorted(emails)
    assert actor_from_data(data) == actor


@pytest.mark.parametrize(
    "data",
    [
        {"emails": []},
        {"name": "a", "github": 1},
        {"name": "a", "gitlab": ["x"]},
        {"name": "a", "emails": "a@x"},
        {"name": "a", "roles": [1]},
    ],
)
def test_malformed_actor_data_is_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="actor"):
        actor_from_data(data)  # type: ignore[arg-type]  # deliberately not JSON-typed


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
    assert grant.to_data() == data
    assert grant_from_data(event_type, data) == grant


def test_malformed_grant_data_is_refused() -> None:
    with pytest.raises(ValueError, match="not a grant event"):
        grant_from_data("actor.added", {"name": "a"})
    with pytest.raises(ValueError, match="needs string name and role"):
        grant_from_data(ACTOR_ROLE_GRANTED, {"name": "a", "group": "dba"})


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
