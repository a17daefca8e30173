"""`policy simulate`: recorded decisions re-evaluated under a proposed policy, in a real git
repository with real evidence, each with the facts as of the decision's own ledger entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.scenario import ADA, Scenario

LAX = """
version: 1
tickets: jira:PAY
environments:
  production:
    controls:
      - ticket-reference
"""

STRICT = LAX + "      - tests-passed\n"


@pytest.fixture
def decided(home: Path, tmp_path: Path, cli: Cli) -> tuple[Scenario, list[int], Path]:
    """Two releases allowed under the lax policy; only the first has passing tests."""
    s = Scenario(home, tmp_path, cli)
    s.policy.write_text(LAX)
    s.repo.commit("PAY-1 add refunds", {"refunds.py": "x = 1\n"}, author=ADA)
    tested = s.release("1.0")
    s.tests(tested)
    s.repo.commit("PAY-2 round half-even", {"money.py": "y = 2\n"}, author=ADA)
    untested = s.release("1.1")
    seqs = []
    for release in (tested, untested):
        code, doc = s.gate(release, "production")
        assert code == 0, doc
        seqs.append(int(str(doc["decision_seq"])))
    # Passing tests recorded after the decision: the simulation must not see them.
    s.tests(untested)
    strict = tmp_path / "strict.yaml"
    strict.write_text(STRICT)
    return s, seqs, strict


def simulate(s: Scenario, *args: str | Path) -> dict[str, object]:
    result = s.cli("policy", "simulate", *args, "--home", s.home, "-o", "json")
    assert result.code == 0, result.err
    doc: dict[str, object] = json.loads(result.out)
    return doc


def test_a_stricter_policy_lists_the_verdict_it_would_change_and_only_that(
    decided: tuple[Scenario, list[int], Path],
) -> None:
    s, (kept, flipped), strict = decided
    doc = simulate(s, "--policy", strict, "--since", "2000-01-01")
    assert doc["examined"] == 2
    changed = doc["changed"]
    assert isinstance(changed, list)
    assert [c["seq"] for c in changed] == [flipped]
    (only,) = changed
    assert only["release"] == "payments/1.1"
    assert only["environment"] == "production"
    assert only["old"] == {"allowed": True, "classification": "normal"}
    assert only["new"] == {"allowed": False, "classification": "normal"}
    (control,) = only["controls"]
    assert control["id"] == "tests-passed"
    assert (control["old"], control["new"]) == (None, "fail")
    assert "no test results" in control["reason"].lower()
    assert kept not in [c["seq"] for c in changed]

    text = s.cli("policy", "simulate", "--policy", strict, "--home", s.home)
    assert text.code == 0, text.err
    assert "Re-evaluated 2 recorded decisions" in text.out
    assert "1 would change" in text.out
    flat = " ".join(text.out.split())
    assert "payments/1.1" in flat
    assert "allowed → blocked" in flat
    assert "payments/1.0" not in flat


def test_the_same_policy_changes_nothing_and_filters_narrow_the_decisions(
    decided: tuple[Scenario, list[int], Path],
) -> None:
    s, _, strict = decided
    same = simulate(s, "--policy", s.policy)
    assert (same["examined"], same["changed"]) == (2, [])
    assert simulate(s, "--policy", strict, "--since", "2999-01-01")["examined"] == 0
    assert simulate(s, "--policy", strict, "--env", "staging")["examined"] == 0
    assert simulate(s, "--policy", strict, "--env", "production")["examined"] == 2


def test_a_policy_without_the_decisions_environment_blocks_them_all(
    decided: tuple[Scenario, list[int], Path], tmp_path: Path
) -> None:
    s, seqs, _ = decided
    other = tmp_path / "other.yaml"
    other.write_text(LAX.replace("production:", "staging:"))
    doc = simulate(s, "--policy", other)
    changed = doc["changed"]
    assert isinstance(changed, list)
    assert [c["seq"] for c in changed] == seqs
    ids = {c["id"] for c in changed[0]["controls"]}
    assert ids == {"environment", "ticket-reference"}


def test_simulate_refuses_a_bad_policy_or_date_with_exit_2(
    decided: tuple[Scenario, list[int], Path], tmp_path: Path
) -> None:
    s, _, strict = decided
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nenvironments: {production: {controls: [four-eyes]}}\n")
    result = s.cli("policy", "simulate", "--policy", bad, "--home", s.home)
    assert result.code == 2
    assert "four-eyes" in result.err
    result = s.cli(
        "policy", "simulate", "--policy", strict, "--since", "last week", "--home", s.home
    )
    assert result.code == 2
    assert "--since 'last week'" in result.err
