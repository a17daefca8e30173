"""The verification summary built from a decision: pure, so pinned field by field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from changeproof.domain.decisions import Classification, ControlResult, ControlStatus, Decision
from changeproof.domain.evidence import Subject
from changeproof.reports.vsa import InputAttestation, verification_summary, verified_level

SUBJECT = Subject("app.tar.gz", {"sha256": "a" * 64})


def decision(*failed: str, bypassed: tuple[str, ...] = ()) -> Decision:
    controls = tuple(ControlResult(c, ControlStatus.FAIL, "no") for c in failed)
    return Decision(
        release="payments/1.0",
        environment="pci-production",
        allowed=not set(failed) - set(bypassed),
        classification=Classification.URGENT if bypassed else Classification.NORMAL,
        classification_reason="because",
        approval_required=not bypassed,
        controls=(*controls, ControlResult("ticket-reference", ControlStatus.PASS, "ok")),
        policy_digest="p" * 64,
        bypassed=bypassed,
    )


def summary(d: Decision, inputs: tuple[InputAttestation, ...] = ()) -> dict[str, Any]:
    return verification_summary(
        d,
        decision_seq=12,
        as_of_seq=11,
        origin="example.org/ledger",
        verified_at=datetime(2026, 11, 25, 13, 0, tzinfo=timezone(timedelta(hours=1))),
        subjects=[SUBJECT],
        inputs=inputs,
    )


def test_a_passing_decision() -> None:
    inputs = (InputAttestation(9, "c" * 64), InputAttestation(4, "b" * 64))
    assert summary(decision(), inputs) == {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "app.tar.gz", "digest": {"sha256": "a" * 64}}],
        "predicateType": "https://slsa.dev/verification_summary/v1",
        "predicate": {
            "verifier": {"id": "changeproof:example.org/ledger"},
            "timeVerified": "2026-11-25T12:00:00.000000Z",
            "resourceUri": "changeproof:release:payments/1.0@pci-production",
            "policy": {"uri": "changeproof:policy", "digest": {"sha256": "p" * 64}},
            "inputAttestations": [
                {"uri": "changeproof:ledger:4", "digest": {"sha256": "b" * 64}},
                {"uri": "changeproof:ledger:9", "digest": {"sha256": "c" * 64}},
            ],
            "verificationResult": "PASSED",
            "verifiedLevels": ["CHANGEPROOF_GATE_PCI_PRODUCTION"],
            "changeproof:decision": {
                "seq": 12,
                "asOfSeq": 11,
                "classification": "normal",
                "approvalRequired": True,
                "failedControls": [],
                "bypassedControls": [],
            },
        },
    }


def test_a_failing_decision_verifies_no_level() -> None:
    predicate = summary(decision("tests-passed", "rule:small"))["predicate"]
    assert predicate["verificationResult"] == "FAILED"
    assert predicate["verifiedLevels"] == ["FAILED"]
    assert predicate["changeproof:decision"]["failedControls"] == ["tests-passed", "rule:small"]


def test_an_urgent_change_past_a_failing_control_passes_and_says_so() -> None:
    predicate = summary(decision("tests-passed", bypassed=("tests-passed",)))["predicate"]
    assert predicate["verificationResult"] == "PASSED"
    assert predicate["changeproof:decision"]["bypassedControls"] == ["tests-passed"]
    assert predicate["changeproof:decision"]["classification"] == "urgent"


@pytest.mark.parametrize(
    ("environment", "level"),
    [
        ("production", "CHANGEPROOF_GATE_PRODUCTION"),
        ("pci-production", "CHANGEPROOF_GATE_PCI_PRODUCTION"),
        ("EU west.2", "CHANGEPROOF_GATE_EU_WEST_2"),
    ],
)
def test_levels_never_start_with_slsa(environment: str, level: str) -> None:
    assert verified_level(environment) == level


def test_a_statement_is_about_something() -> None:
    with pytest.raises(ValueError, match="at least one subject"):
        verification_summary(
            decision(),
            decision_seq=1,
            as_of_seq=0,
            origin="o",
            verified_at=datetime(2026, 1, 1, tzinfo=UTC),
            subjects=[],
            inputs=[],
        )
