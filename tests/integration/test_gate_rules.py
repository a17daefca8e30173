"""Custom rules (CEL) at the gate, in a real repository with real evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.scenario import ADA, Scenario, failing

POLICY = """
version: 1
tickets: jira:PAY
environments:
  production:
    controls:
      - ticket-reference
  staging:
    controls:
      - ticket-reference
rules:
  - name: one commit at a time
    expression: "facts['ticket-reference'].commits <= 1"
    message: "production takes one commit per release; split it"
    environments: [production]
  - name: traced
    expression: "facts['ticket-reference'].untracked == 0 && release.paths >= 1"
    message: "every commit needs a ticket"
"""


@pytest.fixture
def rules(home: Path, tmp_path: Path, cli: Cli) -> Scenario:
    scenario = Scenario(home, tmp_path, cli)
    scenario.policy.write_text(POLICY)
    return scenario


def test_a_rule_blocks_a_two_commit_release_with_its_message(rules: Scenario) -> None:
    rules.repo.commit("PAY-1 one", author=ADA)
    rules.repo.commit("PAY-2 two", author=ADA)
    release = rules.release()
    code, doc = rules.gate(release, "production")
    assert code == 1
    assert failing(doc) == {
        "rule:one commit at a time": "production takes one commit per release; split it"
    }
    controls = doc["controls"]
    assert isinstance(controls, list)
    statuses = {c["id"]: c["status"] for c in controls}
    assert statuses == {
        "rule:one commit at a time": "fail",
        "ticket-reference": "pass",
        "rule:traced": "pass",
    }
    code, doc = rules.gate(release, "staging")  # the rule names production only
    assert code == 0, failing(doc)
    text = rules.cli("gate", "--release", release, "--env", "production",
                     "--policy", rules.policy, "--home", rules.home)  # fmt: skip
    assert text.code == 1
    assert "rule:one commit at a time" in text.out
    assert "split it" in text.out


def test_a_one_commit_release_passes_and_the_decision_replays(rules: Scenario) -> None:
    rules.repo.commit("PAY-1 one", author=ADA)
    release = rules.release()
    code, doc = rules.gate(release, "production")
    assert code == 0, failing(doc)
    replay = rules.cli("decision", "replay", str(doc["decision_seq"]), "--home", rules.home,
                       "-o", "json")  # fmt: skip
    assert replay.code == 0, replay.err
    assert json.loads(replay.out)["same"] is True


def test_a_rule_that_cannot_be_evaluated_fails_closed(rules: Scenario) -> None:
    rules.policy.write_text(
        POLICY.replace("facts['ticket-reference'].commits", "facts['tests-passed'].tests")
    )
    rules.repo.commit("PAY-1 one", author=ADA)
    code, doc = rules.gate(rules.release(), "production")
    assert code == 1
    reason = failing(doc)["rule:one commit at a time"]
    assert reason.startswith("cannot evaluate the rule: no key 'tests-passed'")


def test_an_expression_that_does_not_parse_is_a_policy_error(rules: Scenario) -> None:
    rules.policy.write_text(POLICY.replace("commits <= 1", "commits <="))
    rules.repo.commit("PAY-1 one", author=ADA)
    release = rules.release()
    result = rules.cli("gate", "--release", release, "--env", "production",
                       "--policy", rules.policy, "--home", rules.home)  # fmt: skip
    assert result.code == 2
    assert f"{rules.policy}:13: rules[0].expression: rule 'one commit at a time'" in result.err
    assert "not a CEL expression" in result.err
