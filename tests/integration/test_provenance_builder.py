"""artifact-integrity with require_provenance: provenance that names no builder vouches for
nothing, and no reason ever says `built by None`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.scenario import ADA, Scenario, failing

POLICY = """version: 1
environments:
  production:
    controls:
      - artifact-integrity
"""


@pytest.fixture
def s(home: Path, tmp_path: Path, cli: Cli) -> Scenario:
    scenario = Scenario(home, tmp_path, cli)
    scenario.repo.commit("PAY-1 build", {"app.py": "x = 1\n"}, author=ADA)
    scenario.policy.write_text(POLICY)
    return scenario


def _statement(s: Scenario, digest: str, builder: str | None) -> Path:
    """An in-toto v1 Statement with SLSA v1 provenance for the artifact, as a build writes it;
    with `builder` None, its runDetails name no builder."""
    run: dict[str, object] = {"metadata": {"invocationId": "build-7"}}
    if builder is not None:
        run["builder"] = {"id": builder}
    doc = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app.tar.gz", "digest": {"sha256": digest}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {"buildType": "https://example.com/build/v1"},
            "runDetails": run,
        },
    }
    path = s.tmp / f"provenance-{builder is None}.json"
    path.write_text(json.dumps(doc))
    return path


def test_provenance_naming_no_builder_fails_artifact_integrity(s: Scenario) -> None:
    release = s.release()
    artifact = s.tmp / "app.tar.gz"
    artifact.write_bytes(b"the build output\n")
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    s.run_ok("attest", "artifact", artifact, "--release", release)
    s.run_ok("attest", "provenance", _statement(s, digest, None), "--release", release)

    code, doc = s.gate(release)
    assert code == 1
    reason = failing(doc)["artifact-integrity"]
    assert "names no builder" in reason
    assert "None" not in json.dumps(doc["controls"])

    builder = "https://github.com/actions/runner/github-hosted"
    s.run_ok("attest", "provenance", _statement(s, digest, builder), "--release", release)
    code, doc = s.gate(release)
    assert code == 0, failing(doc)
    controls = doc["controls"]
    assert isinstance(controls, list)
    assert f"built by {builder}" in controls[0]["reason"]
