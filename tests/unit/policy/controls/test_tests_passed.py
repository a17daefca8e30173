"""tests-passed: test results exist, enough tests ran, none failed or errored."""

from __future__ import annotations

import dataclasses

from changeproof.domain.decisions import ControlStatus
from changeproof.policy.controls.tests_passed import TestsPassed
from changeproof.policy.controls.tests_passed import tests_passed as check  # not a test
from tests.unit.policy.controls.factsbuilder import commit, facts, junit

C1 = commit("c1")


def test_passing_tests_pass_and_say_how_many_ran() -> None:
    result = check(facts([C1], [junit(42, skipped=2)]), TestsPassed())
    assert result.status is ControlStatus.PASS
    assert result.reason == "40 tests ran across 1 test run and none failed or errored (2 skipped)"
    assert result.facts["ran"] == 40
    assert [(e.kind, e.ref) for e in result.evidence] == [("test-run", "10")]


def test_a_failing_test_fails_naming_it() -> None:
    failing = junit(10, failed=["tests/test_refunds.py::test_negative_amount"])
    result = check(facts([C1], [failing]), TestsPassed())
    assert result.status is ControlStatus.FAIL
    assert result.reason == (
        "1 test failed: tests/test_refunds.py::test_negative_amount (test run 10, junit/pytest)"
    )
    assert result.facts["failures"] == 1


def test_errored_tests_are_named_too() -> None:
    run = junit(10, failed=["a::x", "a::y"], errored=["b::setup"])
    result = check(facts([C1], [run]), TestsPassed())
    assert result.reason == (
        "2 tests failed: a::x and a::y; 1 test errored: b::setup (test run 10, junit/pytest)"
    )


def test_a_later_passing_run_does_not_clear_an_earlier_failure() -> None:
    result = check(facts([C1], [junit(10, failed=["a::x"]), junit(10)]), TestsPassed())
    assert result.status is ControlStatus.FAIL
    assert "a::x" in result.reason


def test_no_test_results_fail_closed() -> None:
    result = check(facts([C1], []), TestsPassed())
    assert result.status is ControlStatus.FAIL
    assert result.reason == "no test results are recorded for this release"


def test_too_few_tests_fail_counting_over_every_run() -> None:
    result = check(facts([C1], [junit(3), junit(4, skipped=2)]), TestsPassed(min_tests=10))
    assert result.status is ControlStatus.FAIL
    assert result.reason == "only 5 tests ran across 2 test runs; the policy requires at least 10"
    enough = check(facts([C1], [junit(6), junit(4)]), TestsPassed(min_tests=10))
    assert enough.status is ControlStatus.PASS


def test_unreadable_counts_fail_closed() -> None:
    recorded = junit(5)
    broken = dataclasses.replace(recorded, summary=dataclasses.replace(recorded.summary, tests=-5))
    result = check(facts([C1], [broken]), TestsPassed())
    assert result.status is ControlStatus.FAIL
    assert result.reason.startswith("test run 10 (junit/pytest) has no readable counts")
