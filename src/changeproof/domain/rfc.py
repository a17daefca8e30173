"""A change's RFC as typed documents: what `change open` writes, section by section.

`Rfc` is the content: what the store knew as of one ledger position (why, what, evidence,
gate, risk, plan) and the approval rule. `change.opened` and `change.refreshed` record it,
and its content digest (`Rfc.content_digest`, RFC 8785) is what an approval binds to, so its
canonical JSON must never move: every key is written, null when there is nothing to say,
and an RFC recorded by an older changeproof reads back to the very same bytes.

`RfcDocument` is the RFC as `change show --format json` prints it (docs/schemas/
change.schema.json): the content, with the change's id and digest and where it stands now
(state, approvals, review, exports), none of which is content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final

from pydantic import ConfigDict, Field, StrictBool, StrictInt

from changeproof.domain.canonical import JsonValue, canonical_json
from changeproof.domain.decisions import Classification
from changeproof.domain.payloads import Document, JsonObject, Timestamp

__all__ = [
    "RFC_SCHEMA_VERSION",
    "ApprovalRule",
    "ApprovalSummary",
    "CommitRange",
    "FailedControl",
    "GateSummary",
    "GroupRequirement",
    "Rfc",
    "RfcApproval",
    "RfcArtifact",
    "RfcCommit",
    "RfcDecision",
    "RfcDocument",
    "RfcEvidence",
    "RfcExport",
    "RfcPath",
    "RfcReview",
    "RfcTicket",
    "Risk",
    "RiskLevel",
    "Schedule",
    "What",
    "Why",
    "content_digest",
]

RFC_SCHEMA_VERSION: Final = 1


def content_digest(document: Mapping[str, JsonValue]) -> str:
    """SHA-256 of the RFC's canonical JSON (RFC 8785) without its digest and approvals."""
    content = {k: v for k, v in document.items() if k not in _NOT_CONTENT}
    return hashlib.sha256(canonical_json(content)).hexdigest()


# What happens to a change after its RFC was written is not part of what was approved.
_NOT_CONTENT: Final = frozenset(
    {"id", "digest", "approvals", "approval_status", "state", "review", "exports"}
)


@dataclass(frozen=True, slots=True)
class GroupRequirement(Document):
    """At least one of the quorum must belong to `group`, always or only when migrations or
    high-risk paths change."""

    group: str
    when: str  # "always", "migrations" or "high-risk"


@dataclass(frozen=True, slots=True)
class ApprovalRule(Document):
    """Who must approve a change of one classification in one environment."""

    quorum: StrictInt
    role: str
    valid_for_hours: StrictInt
    groups: tuple[GroupRequirement, ...] = ()

    def groups_needed(self, *, migrations: bool, high_risk: bool) -> tuple[str, ...]:
        applies = {"always": True, "migrations": migrations, "high-risk": high_risk}
        return tuple(g.group for g in self.groups if applies.get(g.when, True))


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class Risk(Document):
    """High for database or high-risk changes and failing controls; medium for large ones."""

    level: RiskLevel
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RfcTicket(Document):
    """A ticket the commits name, linked when the instance knows its tracker's URLs."""

    key: str
    system: str
    url: str | None
    commits: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Why(Document):
    tickets: tuple[RfcTicket, ...]
    untracked_commits: tuple[str, ...]  # commits naming no ticket


@dataclass(frozen=True, slots=True)
class CommitRange(Document):
    """FROM..TO in the repository (`from` is None for a release from the root)."""

    # `from` is a Python keyword: the field is from_, the key "from".
    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(
        extra="forbid", serialize_by_alias=True, validate_by_name=False
    )

    from_: Annotated[str | None, Field(alias="from")]
    to: str
    repository: str | None


@dataclass(frozen=True, slots=True)
class RfcCommit(Document):
    """A commit, and who wrote it (git emails): separation of duties reads these."""

    sha: str
    subject: str
    author: str
    committer: str
    co_authors: tuple[str, ...]
    merge: StrictBool
    tickets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RfcPath(Document):
    """A changed path, its lines summed over the commits (None for binary files)."""

    path: str
    added: StrictInt | None
    deleted: StrictInt | None
    high_risk: tuple[str, ...]  # the policy's high-risk areas it is in
    migration: StrictBool


@dataclass(frozen=True, slots=True)
class RfcArtifact(Document):
    seq: StrictInt
    name: str
    size: StrictInt
    sha256: str


@dataclass(frozen=True, slots=True)
class What(Document):
    range: CommitRange
    commits: tuple[RfcCommit, ...]
    paths: tuple[RfcPath, ...]
    migrations: tuple[str, ...]  # the paths that are schema migrations
    high_risk_areas: tuple[str, ...]
    artifacts: tuple[RfcArtifact, ...]


@dataclass(frozen=True, slots=True)
class RfcEvidence(Document):
    seq: StrictInt
    kind: str
    format: str
    sha256: str
    summary: JsonObject  # the evidence's summary, as recorded


@dataclass(frozen=True, slots=True)
class FailedControl(Document):
    id: str
    reason: str


@dataclass(frozen=True, slots=True)
class RfcDecision(Document):
    """One of the newest gate decisions for the release and environment."""

    seq: StrictInt
    allowed: StrictBool
    classification: Classification
    policy_digest: str
    failed: tuple[FailedControl, ...]


@dataclass(frozen=True, slots=True)
class GateSummary(Document):
    policy_digest: str | None  # the active policy's, None when there is none
    decisions: tuple[RfcDecision, ...]


@dataclass(frozen=True, slots=True)
class Schedule(Document):
    """The window the requester gave (ISO 8601, with a zone)."""

    start: str
    end: str


@dataclass(frozen=True, slots=True)
class Rfc(Document):
    """The content of a change's RFC: everything its digest covers."""

    schema_version: StrictInt
    title: str
    release: str
    environment: str
    classification: Classification
    urgent: StrictBool
    urgent_reason: str | None
    requested_by: str
    requested_at: Timestamp
    as_of_seq: StrictInt
    risk: Risk
    why: Why
    what: What
    evidence: tuple[RfcEvidence, ...]
    gate: GateSummary
    approval_rule: ApprovalRule | None  # None when the policy asks no approval of it
    plan: str | None
    rollback: str | None
    dry_run_output: str | None
    schedule: Schedule | None

    def content_digest(self) -> str:
        """The digest approvals bind to: of the RFC's own keys only, whatever `self` is."""
        data = self.to_data()
        return content_digest({f.name: data[f.name] for f in fields(Rfc)})


@dataclass(frozen=True, slots=True)
class RfcApproval(Document):
    seq: StrictInt
    actor: str
    verdict: str  # approved or rejected
    digest: str
    comment: str | None
    at: str
    counts: StrictBool  # counted toward the current digest


@dataclass(frozen=True, slots=True)
class ApprovalSummary(Document):
    satisfied: StrictBool
    missing: tuple[str, ...]
    stale: tuple[str, ...]
    expired: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RfcReview(Document):
    """An urgent change's after-the-fact review."""

    due: str | None
    overdue: StrictBool
    outcome: str | None  # accepted or remediate, once reviewed
    reviewed_by: str | None
    reviewed_at: str | None
    notes: str | None


@dataclass(frozen=True, slots=True)
class RfcExport(Document):
    system: str
    remote_id: str
    key: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class RfcDocument(Rfc):
    """The RFC as `change show` prints it: the content, the change's id and digest, and
    where the change stands now."""

    id: str
    digest: str  # its content digest
    state: str  # pending-approval, approved, no-approval-required or rejected
    approvals: tuple[RfcApproval, ...]
    approval_status: ApprovalSummary | None
    review: RfcReview | None  # None unless urgent
    exports: tuple[RfcExport, ...]

    @classmethod
    def of(
        cls,
        rfc: Rfc,
        *,
        id: str,
        digest: str,
        state: str,
        approvals: tuple[RfcApproval, ...],
        approval_status: ApprovalSummary | None,
        review: RfcReview | None,
        exports: tuple[RfcExport, ...],
    ) -> RfcDocument:
        return cls(
            **_values(rfc),
            id=id,
            digest=digest,
            state=state,
            approvals=approvals,
            approval_status=approval_status,
            review=review,
            exports=exports,
        )

    def to_data(self) -> dict[str, JsonValue]:
        data = Document.to_data(self)
        return {"id": data.pop("id"), **data}  # the id first, as people read it


def _values(rfc: Rfc) -> dict[str, Any]:
    return {f.name: getattr(rfc, f.name) for f in fields(Rfc)}
