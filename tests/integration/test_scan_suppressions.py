"""SARIF suppressions as the gate reads them, on real bandit output: only an accepted
suppression (or one giving no status) hides a result; `underReview` and `rejected` do not
(SARIF 2.1.0 §3.35.3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.scenario import ADA, Scenario, failing
from tests.integration.test_superseded_evidence import BANDIT, needs_corpus

POLICY = "version: 1\nenvironments:\n  production:\n    controls:\n      - scan-clean\n"


@pytest.fixture
def s(home: Path, tmp_path: Path, cli: Cli) -> Scenario:
    scenario = Scenario(home, tmp_path, cli)
    scenario.repo.commit("PAY-1 signer", {"signer.py": "x = 1\n"}, author=ADA)
    scenario.policy.write_text(POLICY)
    return scenario


def _suppressed(status: str | None) -> bytes:
    """The bandit run with its B324 error suppressed in source, with this status."""
    doc = json.loads(BANDIT.read_bytes())
    for result in doc["runs"][0]["results"]:
        if result["ruleId"] == "B324":
            suppression: dict[str, object] = {"kind": "inSource", "justification": "legacy"}
            if status is not None:
                suppression["status"] = status
            result["suppressions"] = [suppression]
    return json.dumps(doc).encode()


@needs_corpus
@pytest.mark.parametrize(
    ("status", "blocked"),
    [("underReview", True), ("rejected", True), ("accepted", False), (None, False)],
)
def test_only_an_accepted_suppression_hides_a_result(
    s: Scenario, status: str | None, blocked: bool
) -> None:
    release = s.release()
    path = s.tmp / "bandit.sarif"
    path.write_bytes(_suppressed(status))
    s.run_ok("attest", "scan", path, "--release", release)
    code, doc = s.gate(release)
    assert code == (1 if blocked else 0), doc
    if blocked:
        assert "B324 at " in failing(doc)["scan-clean"]
