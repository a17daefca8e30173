"""`gate --attestation`: the decision as a signed SLSA verification summary that changeproof's
own provenance reader verifies with the instance's public key."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from changeproof.ingest.errors import ReadError
from changeproof.ingest.provenance import read_provenance
from changeproof.ledger.keys import parse_public_key
from tests.conftest import Cli
from tests.integration.scenario import Scenario, compliant, failing

ORIGIN = "test.example/ledger"  # the `home` fixture's


@pytest.fixture
def scenario(home: Path, tmp_path: Path, cli: Cli) -> Scenario:
    return Scenario(home, tmp_path, cli)


def _with_artifact(s: Scenario) -> tuple[str, str]:
    """A compliant release with one artifact recorded for it: (release, artifact digest)."""
    release = compliant(s)
    content = "payments build 1.0\n"
    s.evidence("artifact", release, content, ".tar.gz")
    return release, hashlib.sha256(content.encode()).hexdigest()


def _statement(path: Path) -> dict[str, Any]:
    envelope = json.loads(path.read_bytes())
    statement: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return statement


def _public_key(s: Scenario) -> bytes:
    return (s.home / "public-key.pem").read_bytes()


def test_a_passing_decision_writes_a_vsa_that_verifies_with_the_instance_key(
    scenario: Scenario,
) -> None:
    release, digest = _with_artifact(scenario)
    out = scenario.tmp / "vsa.intoto.json"
    code, doc = scenario.gate(release, "production", "--deployer", "pat", "--attestation", str(out))
    assert code == 0, failing(doc)
    assert doc["attestation"] == str(out)

    data = out.read_bytes()
    reading = read_provenance(
        data, str(out), public_keys=[_public_key(scenario)], require_signature=True
    )
    assert reading.summary.to_data()["signature_verified"] is True
    assert reading.artifact_digests == (digest,)

    envelope = json.loads(data)
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    verifier = parse_public_key(_public_key(scenario), name=ORIGIN)
    assert [s["keyid"] for s in envelope["signatures"]] == [verifier.key_id.hex()]

    statement = _statement(out)
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"] == [{"name": "evidence-4.tar.gz", "digest": {"sha256": digest}}]
    assert statement["predicateType"] == "https://slsa.dev/verification_summary/v1"
    predicate = statement["predicate"]
    assert predicate["verifier"] == {"id": f"changeproof:{ORIGIN}"}
    assert predicate["resourceUri"] == f"changeproof:release:{release}@production"
    assert predicate["policy"] == {
        "uri": "changeproof:policy",
        "digest": {"sha256": doc["policy_digest"]},
    }
    assert predicate["verificationResult"] == "PASSED"
    assert predicate["verifiedLevels"] == ["CHANGEPROOF_GATE_PRODUCTION"]
    assert predicate["timeVerified"].endswith("Z")
    extension = predicate["changeproof:decision"]
    assert extension["seq"] == doc["decision_seq"]
    assert extension["asOfSeq"] == doc["as_of_seq"]
    assert extension["classification"] == "normal"
    assert extension["failedControls"] == []

    # The evidence the decision saw: the review, the test run and the scan, by entry and file.
    shown = scenario.cli("release", "show", release, "--home", scenario.home, "-o", "json")
    assert shown.code == 0, shown.err
    evidence = json.loads(shown.out)["evidence"]
    expected = [
        {"uri": f"changeproof:ledger:{e['seq']}", "digest": {"sha256": e["sha256"]}}
        for e in sorted(evidence, key=lambda e: e["seq"])
    ]
    assert len(expected) == 3
    assert predicate["inputAttestations"] == expected


def test_the_signature_binds_the_statement_and_the_key(scenario: Scenario) -> None:
    release, _ = _with_artifact(scenario)
    out = scenario.tmp / "vsa.json"
    code, _ = scenario.gate(release, "production", "--deployer", "pat", "--attestation", str(out))
    assert code == 0
    other = Ed25519PrivateKey.generate().public_key()
    other_pem = other.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ReadError, match="no signature by the given key"):
        read_provenance(out.read_bytes(), "vsa", public_keys=[other_pem], require_signature=True)

    envelope = json.loads(out.read_bytes())
    statement = _statement(out)
    statement["subject"][0]["digest"]["sha256"] = "0" * 64  # another artifact
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    with pytest.raises(ReadError, match="no signature by the given key"):
        read_provenance(
            json.dumps(envelope).encode(),
            "vsa",
            public_keys=[_public_key(scenario)],
            require_signature=True,
        )


def test_a_blocked_decision_still_writes_a_failed_vsa(scenario: Scenario) -> None:
    release, digest = _with_artifact(scenario)
    scenario.tests(release, failing=True)
    out = scenario.tmp / "vsa.json"
    code, doc = scenario.gate(
        release, "production", "--deployer", "pat", "--artifact", f"sha256:{digest}",
        "--attestation", str(out),
    )  # fmt: skip
    assert code == 1
    assert "tests-passed" in failing(doc)
    read_provenance(
        out.read_bytes(), "vsa", public_keys=[_public_key(scenario)], require_signature=True
    )
    predicate = _statement(out)["predicate"]
    assert predicate["verificationResult"] == "FAILED"
    assert predicate["verifiedLevels"] == ["FAILED"]
    assert predicate["changeproof:decision"]["failedControls"] == ["tests-passed"]
    assert predicate["changeproof:decision"]["seq"] == doc["decision_seq"]
    assert len(predicate["inputAttestations"]) == 4  # the failing run is evidence it saw


def test_an_artifact_asked_for_is_the_only_subject(scenario: Scenario) -> None:
    release, digest = _with_artifact(scenario)
    scenario.evidence("artifact", release, "a second file\n", ".zip")
    out = scenario.tmp / "vsa.json"
    scenario.gate(release, "production", "--deployer", "pat", "--attestation", str(out))
    assert [s["name"] for s in _statement(out)["subject"]] == [
        "evidence-4.tar.gz",
        "evidence-5.zip",
    ]
    scenario.gate(
        release, "production", "--deployer", "pat", "--artifact", digest, "--attestation", str(out)
    )
    assert _statement(out)["subject"] == [
        {"name": "evidence-4.tar.gz", "digest": {"sha256": digest}}
    ]


def _errs(s: Scenario, out: Path, release: str, *extra: str | Path) -> str:
    s.activate()
    result = s.cli("gate", "--release", release, "--env", "production", "--policy", s.policy,
                   "--home", s.home, "--attestation", out, *extra)  # fmt: skip
    assert result.code == 2, (result.out, result.err)
    return result.err


def test_nothing_is_written_or_recorded_when_the_gate_errs(scenario: Scenario) -> None:
    release = compliant(scenario)  # no artifact recorded
    scenario.activate()
    out = scenario.tmp / "vsa.json"
    head = scenario.cli("ledger", "status", "--home", scenario.home, "-o", "json").out
    err = _errs(scenario, out, release)
    assert "has none recorded" in err
    assert "--artifact" in err
    assert not out.exists()
    assert "no release" in _errs(scenario, out, "payments/9.9")
    assert "not a sha256 digest" in _errs(scenario, out, release, "--artifact", "abc")
    assert "needs --reason" in _errs(scenario, out, release, "--urgent")
    assert "no directory" in _errs(scenario, scenario.tmp / "missing" / "vsa.json", release)
    assert not out.exists()
    assert scenario.cli("ledger", "status", "--home", scenario.home, "-o", "json").out == head

    out.write_text("an earlier attestation\n")  # an error leaves an existing file alone
    _errs(scenario, out, release)
    assert out.read_text() == "an earlier attestation\n"
    assert [p.name for p in scenario.tmp.iterdir() if p.name.startswith(".vsa")] == []
