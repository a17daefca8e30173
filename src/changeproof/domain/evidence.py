"""Evidence: typed, digest-bound facts about a release, as its readers extract them.

Every reading reduces a file to a small summary (what a control decides on) plus the
detail needed to explain a verdict later (which test failed, which finding where, which
reviewer approved which SHA): typed documents, one pair per kind, in
`changeproof.domain.evidence_documents`. Values are canonical-JSON friendly: no floats
(durations are integer milliseconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Final

# The documents import pydantic; the reader registry imports this module and must not.
if TYPE_CHECKING:
    from changeproof.domain.evidence_documents import EvidenceDetail, EvidenceSummary

__all__ = [
    "EVIDENCE_RECORDED",
    "Component",
    "EvidenceKind",
    "Finding",
    "Material",
    "Provenance",
    "Reading",
    "Review",
    "ReviewState",
    "Sbom",
    "Scan",
    "Subject",
    "TestRun",
]

EVIDENCE_RECORDED: Final = "evidence.recorded"


class EvidenceKind(StrEnum):
    REVIEW = "review"
    TEST_RUN = "test-run"
    SCAN = "scan"
    SBOM = "sbom"
    PROVENANCE = "provenance"
    ARTIFACT = "artifact"
    CHECK = "check"


@dataclass(frozen=True, slots=True)
class TestRun:
    """JUnit-style results, merged over every file of one attestation."""

    __test__ = False  # not a pytest class, whatever its name says

    dialect: str  # pytest, surefire, jest-junit, go-junit-report, phpunit, junit, ...
    suites: int
    tests: int
    failures: int
    errors: int
    skipped: int
    time_ms: int
    failed: tuple[str, ...] = ()  # "classname::name" of each failed test
    errored: tuple[str, ...] = ()
    skipped_tests: tuple[str, ...] = ()

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped


@dataclass(frozen=True, slots=True)
class Finding:
    """One SARIF result, with its effective level (SARIF 2.1.0 §3.27.10)."""

    tool: str
    rule_id: str | None
    level: str  # error | warning | note | none
    message: str
    file: str | None
    line: int | None
    suppressed: bool


@dataclass(frozen=True, slots=True)
class Scan:
    tools: tuple[str, ...]  # "name version" per run
    sarif_version: str
    results: int  # every result, suppressed or not
    by_level: Mapping[str, int]  # unsuppressed results by effective level; all four keys
    suppressed: int
    by_rule: Mapping[str, int]  # unsuppressed results by rule id
    findings: tuple[Finding, ...] = ()  # unsuppressed first; capped, see `truncated`
    truncated: bool = False
    commits: tuple[str, ...] = ()  # versionControlProvenance revision ids, when present


@dataclass(frozen=True, slots=True)
class Component:
    """A component an SBOM lists, as its detail records it (`SbomDetail`)."""

    name: str
    version: str | None
    purl: str | None
    licenses: tuple[str, ...]  # SPDX ids or expressions; license names when that is all there is
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Sbom:
    format: str  # CycloneDX | SPDX
    spec_version: str
    components: tuple[Component, ...]
    subject: str | None = None  # the described software: metadata.component / documentDescribes
    artifact_digests: tuple[str, ...] = ()  # sha256 of the described software, when given


@dataclass(frozen=True, slots=True)
class Subject:
    """What a statement is about: a name and its digests (as `ProvenanceSummary` records it)."""

    name: str
    digest: Mapping[str, str]  # algorithm -> lowercase hex


@dataclass(frozen=True, slots=True)
class Material:
    """What a build consumed: a URI and its digests (as `ProvenanceDetail` records it)."""

    uri: str
    digest: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Provenance:
    envelope: str  # bare | dsse | sigstore-bundle | in-toto-link
    statement_type: str | None  # https://in-toto.io/Statement/v0.1 or /v1; None for links
    predicate_type: str | None
    subjects: tuple[Subject, ...]
    builder: str | None
    build_type: str | None
    materials: tuple[Material, ...]
    source_repository: str | None = None
    source_commit: str | None = None
    signatures: int = 0
    signature_verified: bool | None = None  # None: no key was given to check with
    key_ids: tuple[str, ...] = ()
    link_name: str | None = None  # in-toto link step name


class ReviewState(StrEnum):
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    COMMENTED = "commented"
    DISMISSED = "dismissed"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class Review:
    platform: str  # github | gitlab | generic
    reviewer: str  # login, or email for the generic form
    state: ReviewState
    reviewed_sha: str | None
    reviewed_sha_source: str  # the field it came from, e.g. review.commit_id
    author: str | None  # the change's author (PR/MR author)
    change_id: str | None = None  # "owner/repo#12", "group/project!34"
    repository: str | None = None
    submitted_at: str | None = None
    commits: tuple[str, ...] = ()  # the change's commits, when the payload lists them
    base_sha: str | None = None  # the change's base: it covers base..reviewed_sha


@dataclass(frozen=True, slots=True)
class Reading:
    """What a reader made of one or more files: the summary, the detail, and what it is about.

    The summary and detail are of the types `kind` names (`EVIDENCE_DOCUMENTS`)."""

    kind: EvidenceKind
    format: str
    summary: EvidenceSummary
    detail: EvidenceDetail
    commits: tuple[str, ...] = ()
    artifact_digests: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())  # what the reader wants a person to know

    def __post_init__(self) -> None:
        from changeproof.domain.evidence_documents import check_documents

        check_documents(self.kind, self.summary, self.detail)
