"""Decisions: a policy's verdict on putting a release into an environment, control by control."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Final

from pydantic import StrictBool, StrictInt

from changeproof.domain.canonical import JsonValue
from changeproof.domain.payloads import Document, EventPayload, JsonObject
from changeproof.domain.verdicts import Classification, ControlStatus

__all__ = [
    "GATE_DECIDED",
    "POLICY_ACTIVATED",
    "POLICY_RECORDED",
    "Classification",
    "ControlResult",
    "ControlStatus",
    "Decision",
    "EvidenceRef",
    "GateDecided",
]

GATE_DECIDED: Final = "gate.decided"
POLICY_RECORDED: Final = "policy.recorded"
# The instance's active policy changed (`domain.policies.PolicyActivated`).
POLICY_ACTIVATED: Final = "policy.activated"


@dataclass(frozen=True, slots=True)
class EvidenceRef(Document):
    """What a control looked at: a ledger entry, a commit, an artifact or a path."""

    kind: str  # evidence kind, "commit", "artifact", "path", "actor"
    ref: str  # seq, SHA, digest, path or name
    note: str | None = None

    def to_data(self) -> dict[str, JsonValue]:
        # Thousands per decision: built by hand, held equal to the codec by a test.
        return {"kind": self.kind, "ref": self.ref, "note": self.note}


@dataclass(frozen=True, slots=True)
class ControlResult(Document):
    """One control's verdict on a release, with what it looked at and the facts rules read."""

    id: str
    status: ControlStatus
    reason: str  # plain words a person acts on
    evidence: tuple[EvidenceRef, ...] = ()
    facts: JsonObject = field(default_factory=dict)  # counts and flags for rules

    def to_data(self) -> dict[str, JsonValue]:
        return {
            "id": self.id,
            "status": str(self.status),
            "reason": self.reason,
            "evidence": [e.to_data() for e in self.evidence],
            "facts": dict(self.facts),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    release: str
    environment: str
    allowed: bool
    classification: Classification
    classification_reason: str
    approval_required: bool
    controls: tuple[ControlResult, ...]
    policy_digest: str
    deployer: str | None = None
    artifact: str | None = None
    urgent_reason: str | None = None
    bypassed: tuple[str, ...] = ()  # failing controls an urgent change was allowed past

    @property
    def failed(self) -> tuple[ControlResult, ...]:
        return tuple(c for c in self.controls if c.status is ControlStatus.FAIL)


@dataclass(frozen=True, slots=True)
class GateDecided(EventPayload):
    """A gate decision as recorded: the verdict, every control's result, and what it was asked
    (release, environment, deployer, artifact, declared classification, the time and the
    ledger position it decided as of), so that it can be replayed."""

    TYPE: ClassVar[str] = GATE_DECIDED

    release: str
    environment: str
    allowed: StrictBool
    classification: Classification
    classification_reason: str
    approval_required: StrictBool
    controls: tuple[ControlResult, ...]
    policy_digest: str
    deployer: str | None
    deployer_identity: str | None  # as the gate was asked, before resolving it to an actor
    artifact: str | None
    urgent_reason: str | None
    bypassed: tuple[str, ...]
    as_of_seq: StrictInt
    # Every body since the gate's first writes both: required, so a body without is refused.
    declared: Classification | None  # what the pipeline claimed the change was
    now: str  # the decision's clock, ISO 8601 with its offset (replay decides as of it)

    @classmethod
    def of(
        cls,
        decision: Decision,
        as_of: int,
        deployer_identity: str | None,
        *,
        declared: Classification | None = None,
        now: str = "",
    ) -> GateDecided:
        return cls(
            release=decision.release,
            environment=decision.environment,
            allowed=decision.allowed,
            classification=decision.classification,
            classification_reason=decision.classification_reason,
            approval_required=decision.approval_required,
            controls=decision.controls,
            policy_digest=decision.policy_digest,
            deployer=decision.deployer,
            deployer_identity=deployer_identity,
            artifact=decision.artifact,
            urgent_reason=decision.urgent_reason,
            bypassed=decision.bypassed,
            as_of_seq=as_of,
            declared=declared,
            now=now,
        )

    def verdict(self) -> dict[str, JsonValue]:
        """The decision without what it was asked when: what a replay must reproduce."""
        data = self.to_data()
        del data["declared"], data["now"]
        return data

    def control(self, control_id: str) -> ControlResult | None:
        return next((c for c in self.controls if c.id == control_id), None)

    def to_data(self) -> dict[str, JsonValue]:
        # A decision at thousands of commits carries thousands of evidence references: the
        # controls encode by hand (`ControlResult.to_data`), the envelope through the codec.
        return {
            "release": self.release,
            "environment": self.environment,
            "allowed": self.allowed,
            "classification": str(self.classification),
            "classification_reason": self.classification_reason,
            "approval_required": self.approval_required,
            "controls": [c.to_data() for c in self.controls],
            "policy_digest": self.policy_digest,
            "deployer": self.deployer,
            "deployer_identity": self.deployer_identity,
            "artifact": self.artifact,
            "urgent_reason": self.urgent_reason,
            "bypassed": list(self.bypassed),
            "as_of_seq": self.as_of_seq,
            "declared": None if self.declared is None else str(self.declared),
            "now": self.now,
        }
