"""Telling people apart: actors by name, raw identities by alias of the same kind."""

from __future__ import annotations

import pytest

from changeproof.domain.actors import Actor, Directory
from changeproof.policy.controls.people import People, Sameness, Who, unknown_because
from tests.unit.policy.controls.factsbuilder import PEOPLE

LOGIN_ONLY = Actor("gina", github="gina")
PEOPLE_HERE = People(Directory.of((*PEOPLE, LOGIN_ONLY)))


def email(text: str) -> Who:
    return PEOPLE_HERE.email(text)


def login(text: str, platform: str | None = "github") -> Who:
    return PEOPLE_HERE.login(text, platform)


@pytest.mark.parametrize(
    ("one", "two", "expected"),
    [
        (login("bob"), email("BOB@example.com"), Sameness.SAME),  # one actor, two aliases
        (login("bobby", "gitlab"), login("bob"), Sameness.SAME),
        (login("bob"), email("alice@example.com"), Sameness.DIFFERENT),
        (login("bob"), email("zed@elsewhere.org"), Sameness.DIFFERENT),  # raw email vs emails
        (login("mallory"), email("zed@elsewhere.org"), Sameness.UNKNOWN),  # different kinds
        (login("gina"), email("zed@elsewhere.org"), Sameness.UNKNOWN),  # gina has no email
        (email("zed@elsewhere.org"), email("Zed@Elsewhere.ORG"), Sameness.SAME),
        (email("zed@elsewhere.org"), email("yan@elsewhere.org"), Sameness.DIFFERENT),
        (login("mallory"), login("mallory", "gitlab"), Sameness.UNKNOWN),
        (login("mallory", None), login("trent", None), Sameness.DIFFERENT),
        (login("mallory", "generic"), login("Mallory"), Sameness.SAME),
        (login("zed@elsewhere.org", "generic"), email("zed@elsewhere.org"), Sameness.SAME),
    ],
)
def test_sameness(one: Who, two: Who, expected: Sameness) -> None:
    assert one.same_as(two) is expected
    assert two.same_as(one) is expected


def test_a_deployer_is_named_by_actor_name_email_or_login() -> None:
    assert PEOPLE_HERE.identity("dave").label == "dave"
    assert PEOPLE_HERE.identity("dave@example.com").label == "dave"
    assert PEOPLE_HERE.identity("carol-dba").label == "carol"
    assert PEOPLE_HERE.identity("ci-bot").actor is None


def test_why_unknown_says_what_is_missing() -> None:
    assert unknown_because(login("gina"), email("zed@elsewhere.org")) == (
        "zed@elsewhere.org maps to no actor and gina has no email alias to compare; "
        "if zed@elsewhere.org is gina's, register it "
        "(`changeproof actor alias add gina --email …`)"
    )
