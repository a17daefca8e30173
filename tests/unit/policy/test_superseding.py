"""Which evidence records supersede which: same kind, same tool, same subject, newest wins."""

from __future__ import annotations

import dataclasses

from changeproof.policy.superseding import superseded
from tests.unit.policy.controls.factsbuilder import digest, facts, junit, provenance, scan


def test_a_newer_scan_by_the_same_tool_supersedes_an_older_one() -> None:
    made = facts((), [scan("bandit", [("error", "B324", "a.py", 1, False)]), scan("bandit")])
    assert made.superseded == {10: 11}
    assert [e.seq for e in made.of_kind(scan("x").kind)] == [11]


def test_scans_by_different_tools_all_stand() -> None:
    assert facts((), [scan("bandit"), scan("semgrep")]).superseded == {}


def test_test_runs_without_suite_names_never_supersede() -> None:
    assert facts((), [junit(3, failed=["t::a"]), junit(3)]).superseded == {}


def test_suite_names_and_dialect_make_a_test_run_the_same() -> None:
    first, second = junit(3, failed=["t::a"]), junit(3)
    named = [
        dataclasses.replace(
            e, summary=dataclasses.replace(e.summary, dialect="pytest", suite_names=("unit",))
        )
        for e in (first, second)
    ]
    assert facts((), named).superseded == {10: 11}
    other = dataclasses.replace(
        named[1], summary=dataclasses.replace(named[1].summary, suite_names=("integration",))
    )
    assert facts((), [named[0], other]).superseded == {}


def test_provenance_of_the_same_subjects_by_the_same_builder_supersedes() -> None:
    a, b = digest("a"), digest("b")
    assert facts((), [provenance(a), provenance(a)]).superseded == {10: 11}
    assert facts((), [provenance(a), provenance(b)]).superseded == {}
    assert facts((), [provenance(a), provenance(a, builder="https://other")]).superseded == {}
    assert superseded([]) == {}
