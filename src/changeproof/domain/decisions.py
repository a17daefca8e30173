"""Decisions: a policy's verdict on putting a release into an environment, control by control."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from changeproof.domain.canonical import JsonValue

__all__ = [
    "GATE_DECIDED",
    "POLICY_ACTIVATED",
    "POLICY_RECORDED",
    "Classification",
    "ControlResult",
    "ControlStatus",
    "Decision",
    "EvidenceRef",
]

GATE_DECIDED: Final = "gate.decided"
POLICY_RECORDED: Final = "policy.recorded"
# The instance's active policy changed (`domain.policies.PolicyActivated`).
POLICY_ACTIVATED: Final = "policy.activated"


class ControlStatus(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    NOT_APPLICABLE = "not-applicable"


class Classification(StrEnum):
    STANDARD = "standard"  # pre-approved kind of change
    NORMAL = "normal"  # needs a change authority's approval
    URGENT = "urgent"  # goes out now, reviewed after the fact


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """What a control looked at: a ledger entry, a commit, an artifact or a path."""

    kind: str  # evidence kind, "commit", "artifact", "path", "actor"
    ref: str  # seq, SHA, digest, path or name
    note: str | None = None

    def to_data(self) -> dict[str, JsonValue]:
        return {"kind": self.kind, "ref": self.ref, "note": self.note}


@dataclass(frozen=True, slots=True)
class ControlResult:
    id: str
    status: ControlStatus
    reason: str  # plain words a person acts on
    evidence: tuple[EvidenceRef, ...] = ()
    facts: Mapping[str, JsonValue] = field(default_factory=dict)  # counts and flags for rules

    def to_data(self) -> dict[str, JsonValue]:
        return {
            "id": self.id,
            "status": self.status,
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
