"""scan-clean: scans exist and report nothing unsuppressed at or above the level."""

from __future__ import annotations

import dataclasses

from changeproof.domain.decisions import ControlStatus
from changeproof.policy.controls.scan import ScanClean, scan_clean
from tests.unit.policy.controls.factsbuilder import commit, facts, scan

C1 = commit("c1")
SHELL = ("error", "B602", "app/run.py", 12, False)


def test_an_unsuppressed_error_fails_naming_rule_and_place() -> None:
    result = scan_clean(facts([C1], [scan("Bandit", [SHELL])]), ScanClean())
    assert result.status is ControlStatus.FAIL
    assert result.reason == (
        "1 unsuppressed result at or above error: B602 at app/run.py:12 (error, Bandit)"
    )
    assert result.facts["findings"] == 1


def test_a_suppressed_error_does_not_count_and_is_mentioned() -> None:
    suppressed = ("error", "B602", "app/run.py", 12, True)
    result = scan_clean(facts([C1], [scan("Bandit", [suppressed])]), ScanClean())
    assert result.status is ControlStatus.PASS
    assert result.reason == (
        "1 scan run (Bandit) reports no unsuppressed result at or above error; "
        "1 suppressed result not counted"
    )
    assert result.facts["suppressed"] == 1


def test_suppressed_results_are_counted_beside_a_failure() -> None:
    findings = [SHELL, ("error", "B105", "app/keys.py", 3, True)]
    result = scan_clean(facts([C1], [scan("Bandit", findings)]), ScanClean())
    assert result.status is ControlStatus.FAIL
    assert result.reason.endswith("(error, Bandit); 1 suppressed result not counted")


def test_the_level_sets_the_threshold() -> None:
    warning = ("warning", "B311", "app/random.py", 7, False)
    evidence = facts([C1], [scan("Bandit", [warning])])
    assert scan_clean(evidence, ScanClean()).status is ControlStatus.PASS
    result = scan_clean(evidence, ScanClean(level="warning"))
    assert result.status is ControlStatus.FAIL
    assert "B311 at app/random.py:7 (warning, Bandit)" in result.reason
    assert scan_clean(evidence, ScanClean(level="note")).status is ControlStatus.FAIL


def test_no_scan_fails_closed() -> None:
    result = scan_clean(facts([C1], []), ScanClean())
    assert result.status is ControlStatus.FAIL
    assert result.reason == "no scan results are recorded for this release"


def test_named_tools_must_each_have_scanned_matched_by_prefix_in_any_case() -> None:
    evidence = facts([C1], [scan("Bandit")])
    assert scan_clean(evidence, ScanClean(tools=["bandit"])).status is ControlStatus.PASS
    result = scan_clean(evidence, ScanClean(tools=["bandit", "semgrep"]))
    assert result.status is ControlStatus.FAIL
    assert result.reason == "no scan from semgrep is recorded (scans seen: Bandit)"


def test_named_tools_judge_only_their_own_runs() -> None:
    evidence = facts([C1], [scan("Bandit"), scan("Semgrep OSS", [SHELL])])
    assert scan_clean(evidence, ScanClean(tools=["bandit"])).status is ControlStatus.PASS
    assert scan_clean(evidence, ScanClean(tools=["semgrep"])).status is ControlStatus.FAIL
    assert scan_clean(evidence, ScanClean()).status is ControlStatus.FAIL


def test_a_scan_without_run_tallies_fails_closed() -> None:
    recorded = scan("Bandit")
    broken = dataclasses.replace(recorded, detail=dataclasses.replace(recorded.detail, runs=()))
    result = scan_clean(facts([C1], [broken]), ScanClean())
    assert result.status is ControlStatus.FAIL
    assert result.reason == "scan 10 (sarif/2.1.0) has no readable run tallies"
