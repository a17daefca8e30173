"""`changeproof policy test DIR` as a policy repository's CI runs it: no instance, exit codes
0 (every case holds), 1 (a decision differs, naming the case and how) and 2 (malformed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import Cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policy-tests"
HEAD = "b2" * 20


@pytest.fixture
def pci(tmp_path: Path, cli: Cli) -> Path:
    policy = tmp_path / "changeproof.yaml"
    assert cli("policy", "init", "--template", "pci", "--out", policy).code == 0
    return policy


@pytest.fixture
def cases(tmp_path: Path) -> Path:
    """A copy of the shipped examples, to change one case at a time."""
    copy = tmp_path / "cases"
    shutil.copytree(EXAMPLES, copy)
    return copy


def test_the_shipped_examples_pass_under_the_pci_template(pci: Path, cli: Cli) -> None:
    result = cli("policy", "test", EXAMPLES, "--policy", pci)
    assert result.code == 0, result.out + result.err
    count = len(list(EXAMPLES.glob("*.yaml")))
    assert count >= 8
    assert f"{count} cases: {count} hold, 0 differ" in result.out
    doc = json.loads(cli("policy", "test", EXAMPLES, "--policy", pci, "-o", "json").out)
    assert doc["ok"] is True
    assert doc["failed"] == 0
    by_name = {Path(c["case"]).name: c for c in doc["cases"]}
    assert by_name["development-docs-standard.yaml"]["classification"] == "standard"
    assert by_name["staging-self-approved.yaml"]["allowed"] is False


def test_a_wrong_expectation_exits_1_naming_the_case_and_the_difference(
    pci: Path, cases: Path, cli: Cli
) -> None:
    case = cases / "staging-compliant.yaml"
    case.write_text(
        case.read_text()
        .replace("allowed: true", "allowed: false")
        .replace("[PAY-1, PAY-2]", "[PAY-1, PAY-77]")
    )
    result = cli("policy", "test", cases, "--policy", pci, "-o", "json")
    assert result.code == 1, result.err
    doc = json.loads(result.out)
    assert doc["ok"] is False
    failed = [c for c in doc["cases"] if not c["held"]]
    assert [Path(c["case"]).name for c in failed] == ["staging-compliant.yaml"]
    assert failed[0]["differences"] == [
        "allowed: expected false, got true",
        "controls.ticket-reference: the reason lacks 'PAY-77': "
        "each of the 2 commits references a ticket (PAY-1 and PAY-2)",
    ]
    assert doc["held"] == len(doc["cases"]) - 1

    text = cli("policy", "test", cases, "--policy", pci)
    assert text.code == 1
    flat = " ".join(text.out.split())
    assert "FAIL" in flat
    assert "1 differ" in flat


def test_a_control_status_that_differs_is_named_with_its_reason(
    pci: Path, tmp_path: Path, cli: Cli
) -> None:
    case = tmp_path / "self-approval.yaml"
    case.write_text(
        (EXAMPLES / "staging-self-approved.yaml")
        .read_text()
        .replace("{status: fail, reason_contains: [a1a1a1a, ada]}", "pass")
        .replace("failing: [independent-review]", "failing: []")
    )
    shutil.copytree(EXAMPLES / "evidence", tmp_path / "evidence")
    result = cli("policy", "test", case, "--policy", pci, "-o", "json")
    assert result.code == 1
    (only,) = json.loads(result.out)["cases"]
    assert only["differences"][0] == "failing: expected [], got [independent-review]"
    assert only["differences"][1].startswith("controls.independent-review: expected pass, got fail")
    assert "ada approved their own change" in only["differences"][1]


def test_a_malformed_case_exits_2_naming_file_line_and_key(
    pci: Path, cases: Path, cli: Cli
) -> None:
    bad = cases / "zz-bad.yaml"
    bad.write_text(
        "environment: staging\n"
        "commits:\n"
        '  - sha: "abc"\n'
        "    author: Ada <ada@example.com>\n"
        "    subject: PAY-1 x\n"
        "expect:\n"
        "  allowed: yes please\n"
        "  controlz: {}\n"
    )
    result = cli("policy", "test", cases, "--policy", pci)
    assert result.code == 2
    lines = result.err.splitlines()
    assert f"error: {bad}:3: commits[0].sha: a commit SHA is 40" in lines[0]
    assert lines[1].startswith(f"error: {bad}:7: expect.allowed: ")
    assert lines[2].startswith(f"error: {bad}:8: expect.controlz: unknown key")
    assert "hint:" in result.err
    assert result.out == ""  # nothing was evaluated


def test_a_missing_or_unreadable_evidence_file_is_malformed_and_names_both_files(
    pci: Path, cases: Path, cli: Cli
) -> None:
    case = cases / "staging-compliant.yaml"
    case.write_text(case.read_text().replace("evidence/junit-pass.xml", "evidence/nope.xml"))
    (cases / "staging-self-approved.yaml").write_text(
        (cases / "staging-self-approved.yaml")
        .read_text()
        .replace(
            "{kind: scan, file: evidence/bandit-clean.sarif}", "{kind: scan, text: 'not json'}"
        )
    )
    result = cli("policy", "test", cases, "--policy", pci, "-o", "json")
    assert result.code == 2
    errors = json.loads(result.out)["errors"]
    assert [(Path(e["path"]).name, e["key"]) for e in errors] == [
        ("staging-compliant.yaml", "evidence[0].file"),
        ("staging-self-approved.yaml", "evidence[1].text"),
    ]
    assert "nope.xml does not exist" in errors[0]["problem"]
    assert errors[0]["line"] == 21  # the evidence entry's line in the case file


def test_evidence_about_a_commit_outside_the_case_is_refused_as_attest_would(
    pci: Path, cases: Path, cli: Cli
) -> None:
    case = cases / "staging-compliant.yaml"
    case.write_text(
        case.read_text().replace(f'reviewed_sha: "{HEAD}"', f'reviewed_sha: "{"e" * 40}"')
    )
    result = cli("policy", "test", cases, "--policy", pci)
    assert result.code == 2
    assert "evidence[2].document: it is about commit eeeeeeeeeeee" in result.err


def test_a_case_for_an_environment_the_policy_lacks_is_malformed(
    pci: Path, cases: Path, cli: Cli
) -> None:
    case = cases / "staging-compliant.yaml"
    case.write_text(case.read_text().replace("environment: staging", "environment: qa"))
    result = cli("policy", "test", cases, "--policy", pci)
    assert result.code == 2
    assert f"{case}:6: environment: the policy has no environment 'qa'" in result.err


def test_a_folder_without_cases_is_a_usage_error(pci: Path, tmp_path: Path, cli: Cli) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("policy", "test", empty, "--policy", pci)
    assert result.code == 2
    assert "holds no test cases" in result.err


def test_a_pytest_json_report_in_a_case_is_read_as_attest_reads_it(
    pci: Path, tmp_path: Path, cli: Cli
) -> None:
    case = tmp_path / "failing-pytest-json.yaml"
    case.write_text(
        (EXAMPLES / "staging-compliant.yaml")
        .read_text()
        .replace(
            "{kind: test-results, file: evidence/junit-pass.xml}",
            "{kind: test-results, format: pytest-json, document: {exitcode: 1, tests: "
            '[{nodeid: "tests/test_refunds.py::test_round", outcome: failed}]}}',
        )
        .replace("allowed: true", "allowed: false")
        .replace("failing: []", "failing: [tests-passed]")
        .replace(
            "tests-passed: pass",
            "tests-passed: {status: fail, reason_contains: [tests/test_refunds.py::test_round]}",
        )
    )
    shutil.copytree(EXAMPLES / "evidence", tmp_path / "evidence")
    result = cli("policy", "test", case, "--policy", pci, "-o", "json")
    assert result.code == 0, result.out + result.err
    (only,) = json.loads(result.out)["cases"]
    assert only["held"] is True
