"""The identity engine: which identities are one person, which are not, which cannot be told."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.actors import Actor, Directory
from changeproof.domain.identity import (
    IdentityRules,
    Sameness,
    Who,
    email_aliases,
    fold,
    key,
    same,
    unknown_because,
)

ADA = Actor("ada", frozenset({"ada@corp.test"}), github="ada-gh", gitlab="ada-gl")
BEA = Actor("bea", frozenset({"bea@corp.test"}))
DIRECTORY = Directory.of((ADA, BEA))
CYRILLIC_A = "\u0430"


def ada() -> Who:
    return DIRECTORY.who_of(ADA)


@pytest.mark.parametrize(
    "email",
    [
        "ada@corp.test",
        " ADA@Corp.Test ",
        "ada+ci@corp.test",  # plus-addressing
        "12345+ada-gh@users.noreply.github.com",  # GitHub no-reply with an id
        "ada-gh@users.noreply.github.com",  # GitHub no-reply without one
        "12345-ada-gl@users.noreply.gitlab.com",  # GitLab no-reply
        f"{CYRILLIC_A}da@corp.test",  # a Cyrillic a, U+0430
        "\uff41da@corp.test",  # a fullwidth a (NFKC)
    ],
)
def test_every_way_ada_can_write_her_email_is_ada(email: str) -> None:
    assert DIRECTORY.by_email(email) == ADA
    assert same(ada(), DIRECTORY.who_email(email)) is Sameness.SAME
    assert same(DIRECTORY.who_email(email), ada()) is Sameness.SAME


@pytest.mark.parametrize("email", ["", "   ", "ada", "@corp.test", "ada@", "a b@corp.test"])
def test_an_empty_or_malformed_email_cannot_be_told_apart_from_anyone(email: str) -> None:
    who = DIRECTORY.who_email(email)
    assert who.actor is None
    assert same(ada(), who) is Sameness.UNKNOWN
    assert same(who, who) is Sameness.UNKNOWN
    assert "cannot be told apart from ada" in unknown_because(ada(), who)


def test_a_raw_email_matching_none_of_an_actors_emails_stays_different() -> None:
    assert same(ada(), DIRECTORY.who_email("zed@corp.test")) is Sameness.DIFFERENT
    assert same(ada(), DIRECTORY.who_email("adam@corp.test")) is Sameness.DIFFERENT


def test_a_kind_the_actor_has_no_alias_of_cannot_be_told_apart_and_says_how_to_register() -> None:
    bea = DIRECTORY.who_of(BEA)
    noreply = DIRECTORY.who_email("999+someone@users.noreply.github.com")
    assert same(bea, noreply) is Sameness.UNKNOWN
    assert unknown_because(bea, noreply) == (
        "999+someone@users.noreply.github.com maps to no actor and bea has no github alias to "
        "compare; if 999+someone@users.noreply.github.com is bea's, register it "
        "(`changeproof actor alias add bea --github …`)"
    )


def test_plus_addressing_can_be_turned_off_per_domain() -> None:
    strict = Directory.of((ADA,), IdentityRules(frozenset({"corp.test"})))
    assert strict.by_email("ada+ci@corp.test") is None
    assert same(strict.who_of(ADA), strict.who_email("ada+ci@corp.test")) is Sameness.DIFFERENT
    assert strict.by_email("ada+ci@other.test") is None
    assert email_aliases("x+y@other.test", strict.rules) == email_aliases("x@other.test")


def test_two_actors_sharing_a_key_resolve_to_neither_and_match_both() -> None:
    twin = Actor("ada2", frozenset({f"{CYRILLIC_A}da@corp.test"}))
    both = Directory.of((ADA, twin))
    assert both.by_email("ada@corp.test") is None
    raw = both.who_email("ada@corp.test")
    assert same(raw, both.who_of(ADA)) is Sameness.SAME
    assert same(raw, both.who_of(twin)) is Sameness.SAME
    assert same(both.who_of(ADA), both.who_of(twin)) is Sameness.SAME  # fails closed


@pytest.mark.parametrize("name", ["ada", "ADA", " Ada ", "\tada\n"])
def test_names_resolve_whatever_their_case_and_spaces(name: str) -> None:
    assert DIRECTORY.resolve(name) == ADA
    assert DIRECTORY.identify(name) == ADA
    assert DIRECTORY.who(name).actor == ADA


def test_logins_resolve_through_the_engine() -> None:
    assert DIRECTORY.by_login(" ADA-GH ", "github") == ADA
    assert DIRECTORY.by_login(f"{CYRILLIC_A}da-gh", "github") == ADA
    assert DIRECTORY.by_login("ada-gh", "gitlab") is None
    assert DIRECTORY.resolve("ada-gl") == ADA


def test_confusable_digits_and_letters_share_a_skeleton() -> None:
    assert key("b0b") == key("bob")
    assert key("\u0391DA") == key("ada")  # a Greek capital alpha
    assert key("ada") != key("eda")


identities = st.text(st.characters(codec="utf-8"), max_size=30) | st.emails().map(str)


@given(identities)
def test_folding_and_keys_are_idempotent(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    assert key(key(text)) == key(text)


@given(identities, identities)
def test_sameness_is_symmetric(one: str, two: str) -> None:
    a, b = DIRECTORY.who(one), DIRECTORY.who(two)
    assert same(a, b) is same(b, a)
    x, y = DIRECTORY.who_email(one), DIRECTORY.who_email(two)
    assert same(x, y) is same(y, x)


@given(identities)
def test_an_identity_is_never_different_from_itself(text: str) -> None:
    who = DIRECTORY.who(text)
    assert same(who, who) is not Sameness.DIFFERENT
    if who.aliases or who.actor is not None:
        assert same(who, who) is Sameness.SAME


@given(st.emails().map(str), st.sampled_from([str.upper, str.lower, str.title, str.swapcase]),
       st.sampled_from(["", " ", "\t", "  "]))  # fmt: skip
def test_case_and_space_variants_are_the_same(email: str, case: object, pad: str) -> None:
    assert callable(case)
    variant = f"{pad}{case(email)}{pad}"
    assert key(variant) == key(email)
    one, two = DIRECTORY.who_email(email), DIRECTORY.who_email(variant)
    if one.aliases:
        assert same(one, two) is Sameness.SAME
