"""Policy test cases, pure: their shape, the Facts they describe, and how a decision differs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from changeproof.domain.decisions import (
    Classification,
    ControlResult,
    ControlStatus,
    Decision,
)
from changeproof.domain.releases import TicketRef, TicketSource
from changeproof.policy.cases import (
    Expectation,
    case_facts,
    check_case,
    compare,
    inline_evidence,
    read_case,
)
from changeproof.policy.errors import PolicyError
from changeproof.policy.loader import load_policy

POLICY = load_policy(
    b"version: 1\n"
    b"high_risk:\n"
    b"  - {name: migrations, paths: ['db/**'], experts: dba}\n"
    b"environments:\n"
    b"  production:\n"
    b"    controls: [ticket-reference]\n",
    "changeproof.yaml",
).policy
A, B = "a" * 40, "b" * 40
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)

CASE = f"""\
environment: production
deployer: PAT@example.com
actors:
  - {{name: pat, emails: [Pat@Example.com], github: Pat-P, roles: [production-pusher]}}
commits:
  - sha: "{A}"
    author: Ada Lovelace <ada@example.com>
    subject: PAY-1 one
    paths: [app.py, {{path: db/1.sql, added: 3, deleted: 1}}]
  - sha: "{B}"
    author: grace@example.com
    co_authors: [Carol <carol@example.com>]
    subject: two
    body: fixes PAY-2
    tickets: [OPS-9]
evidence:
  - {{kind: review, document: {{reviewer: x, when: 2026-11-25T12:00:00Z}}}}
expect:
  controls:
    ticket-reference: pass
""".encode()


def finder(subject: str, body: str) -> tuple[TicketRef, ...]:
    return tuple(
        TicketRef(word, "jira", TicketSource.SUBJECT)
        for word in f"{subject} {body}".split()
        if word.startswith("PAY-")
    )


def test_a_case_becomes_the_facts_the_gate_would_gather() -> None:
    file = read_case(CASE, "case.yaml")
    assert check_case(file, POLICY) == []
    facts = case_facts(file, POLICY, (), finder, NOW)
    first, second = facts.commits
    assert facts.now == NOW
    assert facts.deployer == "pat"  # resolved through the actor's (lower-cased) email
    assert facts.directory.by_login("pat-p") is not None
    assert facts.high_risk_groups == {"db/**": ("dba",)}
    assert (first.parents, second.parents) == ((), (A,))
    assert [t.key for t in first.tickets] == ["PAY-1"]
    assert [t.key for t in second.tickets] == ["OPS-9"]  # given: the patterns are not asked
    assert (second.author.name, second.author.email) == ("grace", "grace@example.com")
    assert second.committer == second.author
    assert [c.email for c in second.co_authors] == ["carol@example.com"]
    assert second.message == "two\n\nfixes PAY-2"
    assert [(p.path, p.added, p.deleted) for p in first.paths] == [
        ("app.py", 1, 0),
        ("db/1.sql", 3, 1),
    ]
    assert facts.paths() == ("app.py", "db/1.sql")


def test_inline_documents_keep_yaml_timestamps_as_text() -> None:
    (evidence,) = read_case(CASE, "case.yaml").case.evidence
    assert inline_evidence(evidence) == (b'{"reviewer": "x", "when": "2026-11-25T12:00:00+00:00"}')


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        (b"environment: production\n", 1, "expect", "required"),
        (b"environment: production\nexpect: {}\n", 2, "expect", "say what the decision"),
        (b"environment: p\nnow: 2026-11-25T12:00:00\nexpect: {allowed: true}\n", 2, "now", "zone"),
        (
            b"environment: p\nartifact: abc\nexpect: {allowed: true}\n",
            2,
            "artifact",
            "64 hex digits",
        ),
        (
            b"environment: p\nevidence:\n  - {kind: scan, file: a, text: b}\n"
            b"expect: {allowed: true}\n",
            3,
            "evidence[0]",
            "exactly one of file, document or text",
        ),
        (b"", 1, None, "the file is empty"),
    ],
)
def test_malformed_cases_name_line_and_key(
    text: bytes, line: int, key: str | None, words: str
) -> None:
    with pytest.raises(PolicyError) as raised:
        read_case(text, "case.yaml")
    problem = raised.value.problems[0]
    assert (problem.line, problem.key) == (line, key)
    assert words in problem.problem


def test_the_meaning_pass_checks_the_case_against_the_policy() -> None:
    file = read_case(
        f'environment: staging\nurgent: true\ncommits:\n  - {{sha: "{A}", author: a@b.c, '
        f'subject: x}}\n  - {{sha: "{A}", author: a@b.c, subject: y}}\n'
        "expect: {allowed: true}\n".encode(),
        "case.yaml",
    )
    assert [(p.line, p.key) for p in check_case(file, POLICY)] == [
        (1, "environment"),
        (2, "urgent"),
        (5, "commits[1]"),
    ]


def decision(**overrides: object) -> Decision:
    values: dict[str, object] = {
        "release": "r",
        "environment": "production",
        "allowed": False,
        "classification": Classification.NORMAL,
        "classification_reason": "a normal change: it changes db/1.sql",
        "approval_required": True,
        "controls": (
            ControlResult("ticket-reference", ControlStatus.FAIL, "1 of 2 commits: bbbbbbb"),
            ControlResult("tests-passed", ControlStatus.PASS, "3 tests ran"),
        ),
        "policy_digest": "0" * 64,
        **overrides,
    }
    return Decision(**values)  # type: ignore[arg-type]  # the test's own overrides


def test_a_decision_that_holds_has_no_differences() -> None:
    expect = Expectation.model_validate(
        {
            "allowed": False,
            "classification": "normal",
            "classification_reason_contains": ["db/1.sql"],
            "approval_required": True,
            "failing": ["ticket-reference"],
            "bypassed": [],
            "controls": {
                "ticket-reference": {"status": "fail", "reason_contains": ["bbbbbbb"]},
                "tests-passed": "pass",
            },
        }
    )
    assert compare(expect, decision()) == ()


def test_each_difference_is_named_in_words() -> None:
    expect = Expectation.model_validate(
        {
            "allowed": True,
            "classification": "standard",
            "classification_reason_contains": ["docs"],
            "failing": [],
            "controls": {
                "ticket-reference": {"status": "fail", "reason_contains": ["aaaaaaa"]},
                "tests-passed": "fail",
                "scan-clean": "pass",
            },
        }
    )
    assert compare(expect, decision()) == (
        "allowed: expected true, got false",
        "classification: expected standard, got normal (a normal change: it changes db/1.sql)",
        "classification_reason lacks 'docs': a normal change: it changes db/1.sql",
        "failing: expected [], got [ticket-reference]",
        "controls.ticket-reference: the reason lacks 'aaaaaaa': 1 of 2 commits: bbbbbbb",
        "controls.tests-passed: expected fail, got pass: 3 tests ran",
        "controls.scan-clean: expected pass, but the decision has no such control "
        "(it has: ticket-reference, tests-passed)",
    )
