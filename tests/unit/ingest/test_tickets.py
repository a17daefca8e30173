from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.errors import ConfigError
from changeproof.domain.releases import TicketSource
from changeproof.ingest.tickets import TicketMatcher, parse_ticket_spec


def _keys(spec: str, subject: str, body: str = "") -> list[tuple[str, str, bool]]:
    found = TicketMatcher(parse_ticket_spec(spec)).find(subject, body)
    return [(t.key, t.source, t.closes) for t in found]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("PAY-12 fix rounding", [("PAY-12", "subject", False)]),
        ("fix(PAY-12): rounding", [("PAY-12", "subject", False)]),
        ("Closes PAY-12", [("PAY-12", "subject", True)]),
        ("PAY-0 is not an issue number", []),
        ("utf-8 and x86-64 are not tickets", []),
        ("MYPAY-12", [("MYPAY-12", "subject", False)]),
        ("use SHA-256 over UTF-8, per ISO-8601 and RFC-9162", []),
    ],
)
def test_jira_keys(subject: str, expected: list[tuple[str, str, bool]]) -> None:
    assert _keys("jira", subject) == expected


def test_jira_allow_list_keeps_only_listed_projects() -> None:
    assert _keys("jira:PAY,OPS", "PAY-1 OPS-2 HR-3") == [
        ("PAY-1", "subject", False),
        ("OPS-2", "subject", False),
    ]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Add export (#12)", [("#12", "subject", False)]),
        ("fixes #3", [("#3", "subject", True)]),
        ("Resolved: octo/cat#44", [("octo/cat#44", "subject", True)]),
        ("see GH-9", [("GH-9", "subject", False)]),
        ("colour #ff0000 and a#1", []),
    ],
)
def test_github_references(subject: str, expected: list[tuple[str, str, bool]]) -> None:
    assert _keys("github", subject) == expected


def test_trac_needs_its_keywords() -> None:
    assert _keys("trac", "Fixed #31: crash") == [("#31", "subject", True)]
    assert _keys("trac", "Refs #2, unrelated #5") == [("#2", "subject", False)]
    assert _keys("trac", "bump to #4") == []


def test_body_and_branch_sources_are_named() -> None:
    matcher = TicketMatcher(parse_ticket_spec("jira:PAY"))
    found = matcher.find("Merge branch 'feature/pay-7-x'", "Also PAY-8.")
    assert [(t.key, t.source) for t in found] == [
        ("PAY-8", TicketSource.BODY),
        ("PAY-7", TicketSource.BRANCH),
    ]


@pytest.mark.parametrize("spec", ["redmine", "jira:pay", "github:PAY", "jira,lowercase", "nope:X"])
def test_bad_specs_are_configuration_errors(spec: str) -> None:
    with pytest.raises(ConfigError, match=r"ticket spec|unknown ticket preset"):
        parse_ticket_spec(spec)


@given(st.text(max_size=300), st.text(max_size=300))
def test_matching_any_text_returns_well_formed_unique_references(subject: str, body: str) -> None:
    found = TicketMatcher(parse_ticket_spec("jira,github,trac")).find(subject, body)
    pairs = [(t.system, t.key) for t in found]
    assert len(pairs) == len(set(pairs))
    for ticket in found:
        assert ticket.key
        assert ticket.key in subject or ticket.key in body
