"""tests-passed: the release was tested, and nothing failed.

Rule: at least one test-run evidence is recorded for the release; none of them has a
failed or errored test (a later passing run does not clear an earlier failing one: the
ledger keeps both, and a rerun that hides a failure is what an auditor asks about); and
the tests that ran (tests minus skipped), summed over every test-run evidence, number at
least `min_tests`. Adding a passing test run can therefore never turn a pass into a fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pydantic import Field

from changeproof.domain.canonical import JsonValue
from changeproof.domain.decisions import ControlResult, ControlStatus, EvidenceRef
from changeproof.domain.evidence import EvidenceKind
from changeproof.domain.evidence_documents import TestRunDetail, TestRunSummary
from changeproof.policy.controls.wording import counted, listing
from changeproof.policy.facts import EvidenceFact, Facts
from changeproof.policy.registry import Params, control

__all__ = ["ID", "TestsPassed", "tests_passed"]

ID: Final = "tests-passed"

_TestRun = EvidenceFact[TestRunSummary, TestRunDetail]


class TestsPassed(Params):
    __test__ = False  # not a pytest class, whatever its name says

    min_tests: int = Field(default=1, ge=0, description="Tests that must have run, at least.")


@dataclass(frozen=True, slots=True)
class _Run:
    evidence: _TestRun
    tests: int
    failures: int
    errors: int
    skipped: int
    failed: tuple[str, ...]
    errored: tuple[str, ...]

    @property
    def ran(self) -> int:
        return max(self.tests - self.skipped, 0)


def _run(e: _TestRun) -> _Run | None:
    s = e.summary
    if min(s.tests, s.failures, s.errors) < 0:
        return None  # no count a reader makes: nothing to judge by
    d = e.detail
    return _Run(e, s.tests, s.failures, s.errors, max(s.skipped, 0), d.failed, d.errored)


def _failing(run: _Run) -> str:
    parts = []
    if run.failures:
        named = f": {listing(run.failed)}" if run.failed else ""
        parts.append(f"{counted(run.failures, 'test')} failed{named}")
    if run.errors:
        named = f": {listing(run.errored)}" if run.errored else ""
        parts.append(f"{counted(run.errors, 'test')} errored{named}")
    return f"{'; '.join(parts)} (test run {run.evidence.seq}, {run.evidence.format})"


@control(
    ID,
    params=TestsPassed,
    summary="test results are recorded, enough tests ran, and none failed or errored",
)
def tests_passed(facts: Facts, params: TestsPassed) -> ControlResult:
    """Every test run passed, and together they ran at least `min_tests` tests."""
    recorded = facts.test_runs()
    runs = [(e, _run(e)) for e in recorded]
    unreadable = [e for e, run in runs if run is None]
    good = [run for _, run in runs if run is not None]
    ran = sum(r.ran for r in good)
    failing = [r for r in good if r.failures or r.errors]
    evidence = tuple(
        EvidenceRef(
            EvidenceKind.TEST_RUN.value,
            str(e.seq),
            f"{e.format}: {run.tests} tests, {run.failures} failed, {run.errors} errored"
            if run is not None
            else f"{e.format}: no readable counts",
        )
        for e, run in runs
    )
    facts_out: dict[str, JsonValue] = {
        "runs": len(recorded),
        "tests": sum(r.tests for r in good),
        "ran": ran,
        "failures": sum(r.failures for r in good),
        "errors": sum(r.errors for r in good),
        "skipped": sum(r.skipped for r in good),
        "failing_runs": len(failing),
        "min_tests": params.min_tests,
    }
    if not recorded:
        return ControlResult(
            ID,
            ControlStatus.FAIL,
            "no test results are recorded for this release",
            (),
            facts_out,
        )
    problems = [_failing(r) for r in failing]
    problems.extend(f"test run {e.seq} ({e.format}) has no readable counts" for e in unreadable)
    if ran < params.min_tests:
        problems.append(
            f"only {counted(ran, 'test')} ran across {counted(len(recorded), 'test run')}; "
            f"the policy requires at least {params.min_tests}"
        )
    if problems:
        return ControlResult(ID, ControlStatus.FAIL, "; ".join(problems), evidence, facts_out)
    skipped = sum(r.skipped for r in good)
    return ControlResult(
        ID,
        ControlStatus.PASS,
        f"{counted(ran, 'test')} ran across {counted(len(recorded), 'test run')} and none "
        f"failed or errored" + (f" ({skipped} skipped)" if skipped else ""),
        evidence,
        facts_out,
    )
