"""Newer evidence of the same kind, tool and subject supersedes older evidence for the gate,
with real tool outputs: a re-run clean scan passes without a new release, and the first
scan stays recorded, shown as superseded by `release show`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.scenario import ADA, Scenario, failing

_HERE = Path(__file__).resolve()
CORPUS = next(
    (found for up in (3, 4) if (found := _HERE.parents[up] / "shared" / "corpus").is_dir()),
    _HERE.parents[3] / "shared" / "corpus",
)
BANDIT = CORPUS / "sarif" / "bandit-1.9.4-itsdangerous-2.2.0.sarif"
PYTEST = CORPUS / "junit" / "itsdangerous-2.2.0-pytest-pass.xml"
needs_corpus = pytest.mark.skipif(
    not BANDIT.is_file(), reason=f"the shared evidence corpus is not at {CORPUS}"
)

POLICY = """version: 1
environments:
  production:
    controls:
      - scan-clean
      - tests-passed
"""


@pytest.fixture
def s(home: Path, tmp_path: Path, cli: Cli) -> Scenario:
    scenario = Scenario(home, tmp_path, cli)
    scenario.repo.commit("PAY-1 signer", {"signer.py": "x = 1\n"}, author=ADA)
    scenario.policy.write_text(POLICY)
    return scenario


def _attest(s: Scenario, kind: str, name: str, content: bytes, release: str) -> int:
    path = s.tmp / name
    path.write_bytes(content)
    out = s.run_ok("attest", kind, path, "--release", release, "-o", "json")
    doc = json.loads(out)
    entry = doc[0] if isinstance(doc, list) else doc
    return int(entry["seq"])


def _clean(sarif: bytes) -> bytes:
    """The same bandit run after the fix: no results."""
    doc = json.loads(sarif)
    for run in doc["runs"]:
        run["results"] = []
    return json.dumps(doc).encode()


@needs_corpus
def test_a_clean_rerun_of_the_same_scanner_supersedes_the_failing_scan(s: Scenario) -> None:
    release = s.release()
    _attest(s, "test-results", "pytest.xml", PYTEST.read_bytes(), release)
    first = _attest(s, "scan", "bandit.sarif", BANDIT.read_bytes(), release)
    code, doc = s.gate(release)
    assert code == 1
    assert "B324" in failing(doc)["scan-clean"]

    again = _attest(s, "scan", "bandit-rerun.sarif", _clean(BANDIT.read_bytes()), release)
    code, doc = s.gate(release)
    assert code == 0, failing(doc)

    shown = json.loads(s.run_ok("release", "show", release, "-o", "json"))
    by_seq = {e["seq"]: e for e in shown["evidence"]}
    assert by_seq[first]["superseded_by"] == again  # still recorded, marked superseded
    assert by_seq[again]["superseded_by"] is None
    text = s.run_ok("release", "show", release)
    assert f"Evidence {first}: scan (sarif/2.1.0)" in text
    assert f"superseded by evidence {again}" in text


@needs_corpus
def test_another_scanner_or_another_suite_does_not_supersede(s: Scenario) -> None:
    release = s.release()
    _attest(s, "scan", "bandit.sarif", BANDIT.read_bytes(), release)
    other = json.loads(_clean(BANDIT.read_bytes()))
    other["runs"][0]["tool"]["driver"]["name"] = "semgrep"
    _attest(s, "scan", "semgrep.sarif", json.dumps(other).encode(), release)
    failing_run = (
        b'<testsuite name="integration" tests="1"><testcase classname="t" name="test_db">'
        b'<failure message="boom"/></testcase></testsuite>'
    )
    _attest(s, "test-results", "integration.xml", failing_run, release)
    _attest(s, "test-results", "pytest.xml", PYTEST.read_bytes(), release)
    code, doc = s.gate(release)
    assert code == 1
    reasons = failing(doc)
    assert "B324" in reasons["scan-clean"]
    assert "test_db" in reasons["tests-passed"]

    fixed = failing_run.replace(b'<failure message="boom"/>', b"")
    _attest(s, "test-results", "integration-rerun.xml", fixed, release)
    code, doc = s.gate(release)
    assert set(failing(doc)) == {"scan-clean"}
