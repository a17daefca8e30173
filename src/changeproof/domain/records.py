"""What the projections hold, as services hand it to every interface: the current state of
releases, their evidence and artifacts, changes and their approvals and exports, deployments
and their checks, policy proposals and governance, and gate decisions. Each record's `seq` is
the ledger entry that made it; the store builds them from its rows, so no interface depends on
a table's shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from changeproof.domain.canonical import JsonValue
from changeproof.domain.decisions import GateDecided
from changeproof.domain.releases import ReleaseRef
from changeproof.domain.rfc import Rfc

__all__ = [
    "ChangeRecord",
    "CheckRecord",
    "DecisionRecord",
    "DeploymentRecord",
    "DeploymentUpdateRecord",
    "EvidenceRecord",
    "ExportRecord",
    "GovernanceRecord",
    "ProposalRecord",
    "ReleaseArtifactRecord",
    "ReleaseRecord",
    "VerdictRecord",
]


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    seq: int
    release: str
    environment: str
    urgent: bool
    urgent_reason: str | None
    state: str
    digest: str
    document: Rfc  # its current RFC
    opened_by: str
    opened_at: str
    review_due: str | None
    reviewed_seq: int | None
    review_outcome: str | None
    reviewed_by: str | None
    reviewed_at: str | None
    review_notes: str | None


@dataclass(frozen=True, slots=True)
class VerdictRecord:
    seq: int
    verdict: str  # approved or rejected
    actor: str
    digest: str
    comment: str | None
    decided_at: str


@dataclass(frozen=True, slots=True)
class ExportRecord:
    seq: int
    system: str
    remote_id: str
    remote_key: str | None
    url: str | None
    digest: str
    exported_at: str


@dataclass(frozen=True, slots=True)
class DeploymentRecord:
    seq: int
    release: str
    environment: str
    artifact: str
    actor: str
    status: str
    pipeline_run: str | None
    authorized: bool
    reason: str
    decision_seq: int | None
    change_seq: int | None
    urgent: bool
    recorded_at: str
    updated_at: str
    policy_digest: str | None = None  # the authorizing decision's policy
    policy_active: bool | None = None  # whether that policy was the active one then


@dataclass(frozen=True, slots=True)
class DeploymentUpdateRecord:
    seq: int
    status: str
    actor: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class CheckRecord:
    seq: int
    name: str
    status: str
    details_sha256: str | None
    actor: str
    checked_at: str


@dataclass(frozen=True, slots=True)
class ProposalRecord:
    seq: int
    digest: str
    previous_digest: str | None
    source: str | None
    simulation: dict[str, JsonValue] | None
    actor: str
    proposed_at: str
    state: str  # pending | activated | rejected
    decided_seq: int | None
    decided_by: str | None
    decided_at: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class GovernanceRecord:
    seq: int
    one_person: bool
    approver_role: str
    actor: str
    set_at: str


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    seq: int
    allowed: bool
    classification: str
    artifact: str | None
    deployer: str | None
    policy_digest: str
    document: GateDecided


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    ref: ReleaseRef
    seq: int
    from_ref: str | None
    to_ref: str
    from_sha: str | None
    to_sha: str
    from_source: str
    ancestor: bool
    repository: str | None
    commit_count: int
    actor: str
    created_at: str


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    seq: int
    release: str
    kind: str
    format: str
    sha256: str
    files: list[dict[str, JsonValue]]
    summary: dict[str, JsonValue]
    actor: str
    recorded_at: str


@dataclass(frozen=True, slots=True)
class ReleaseArtifactRecord:
    seq: int
    name: str
    size: int
    sha256: str
    actor: str
    recorded_at: str
