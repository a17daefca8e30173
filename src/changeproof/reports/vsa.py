"""A gate decision as a SLSA verification summary (VSA v1) in an in-toto Statement v1.

Another system, or a segregated instance, holding the instance's public key can check
offline who decided what about which artifact under which policy:

    _type           https://in-toto.io/Statement/v1
    subject         the artifact(s) the decision is about: [{name, digest: {sha256}}]
    predicateType   https://slsa.dev/verification_summary/v1
    predicate
      verifier            {id: "changeproof:<instance origin>"}
      timeVerified        when the gate decided (RFC 3339, UTC)
      resourceUri         "changeproof:release:SERVICE/NAME@ENV"
      policy              {uri: "changeproof:policy", digest: {sha256: <policy digest>}}
      inputAttestations   the evidence the decision saw: [{uri: "changeproof:ledger:<seq>",
                          digest: {sha256: <evidence file digest>}}], in ledger order
      verificationResult  PASSED when the gate allowed the release, else FAILED
      verifiedLevels      ["CHANGEPROOF_GATE_<ENV>"] when PASSED, ["FAILED"] when not
      changeproof:decision  an extension field (the VSA lets producers add fields named by
                          URIs): the decision's ledger entry, the position its facts were
                          read at, the classification and the controls that failed

Custom levels must not start with `SLSA_` (the VSA spec), hence `CHANGEPROOF_GATE_`; the
environment's name is upper-cased with anything but letters and digits turned into `_`,
and `resourceUri` keeps it exactly. Pure: the service signs the statement (DSSE) and writes it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from changeproof.domain.canonical import JsonValue
from changeproof.domain.decisions import Decision
from changeproof.domain.events import format_time
from changeproof.domain.evidence import Subject

__all__ = [
    "DECISION_EXTENSION",
    "STATEMENT_V1",
    "VSA_V1",
    "InputAttestation",
    "verification_summary",
    "verified_level",
]

STATEMENT_V1: Final = "https://in-toto.io/Statement/v1"
VSA_V1: Final = "https://slsa.dev/verification_summary/v1"
DECISION_EXTENSION: Final = "changeproof:decision"
_NOT_ALNUM: Final = re.compile(r"[^A-Z0-9]+")


@dataclass(frozen=True, slots=True)
class InputAttestation:
    """One piece of evidence a decision saw: its ledger entry and the digest of its file."""

    seq: int
    sha256: str


def verified_level(environment: str) -> str:
    """The custom SLSA result a passing decision for `environment` verifies."""
    return "CHANGEPROOF_GATE_" + _NOT_ALNUM.sub("_", environment.upper()).strip("_")


def verification_summary(
    decision: Decision,
    *,
    decision_seq: int,
    as_of_seq: int,
    origin: str,
    verified_at: datetime,
    subjects: Sequence[Subject],
    inputs: Sequence[InputAttestation],
) -> dict[str, JsonValue]:
    """The in-toto Statement v1 (VSA v1 predicate) for `decision`, recorded at `decision_seq`.

    ValueError when there is no subject: a statement is always about something.
    """
    if not subjects:
        raise ValueError("a verification summary needs at least one subject")
    passed = decision.allowed
    predicate: dict[str, JsonValue] = {
        "verifier": {"id": f"changeproof:{origin}"},
        "timeVerified": format_time(verified_at),
        "resourceUri": f"changeproof:release:{decision.release}@{decision.environment}",
        "policy": {"uri": "changeproof:policy", "digest": {"sha256": decision.policy_digest}},
        "inputAttestations": [
            {"uri": f"changeproof:ledger:{i.seq}", "digest": {"sha256": i.sha256}}
            for i in sorted(inputs, key=lambda i: i.seq)
        ],
        "verificationResult": "PASSED" if passed else "FAILED",
        "verifiedLevels": [verified_level(decision.environment) if passed else "FAILED"],
        DECISION_EXTENSION: {
            "seq": decision_seq,
            "asOfSeq": as_of_seq,
            "classification": str(decision.classification),
            "approvalRequired": decision.approval_required,
            "failedControls": [c.id for c in decision.failed],
            "bypassedControls": list(decision.bypassed),
        },
    }
    return {
        "_type": STATEMENT_V1,
        "subject": [{"name": s.name, "digest": dict(s.digest)} for s in subjects],
        "predicateType": VSA_V1,
        "predicate": predicate,
    }
