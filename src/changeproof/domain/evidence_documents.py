"""What evidence records: each kind's summary and detail as a type, and `evidence.recorded`.

A reader reduces its files to a summary (what a control decides on) and a detail (what
explains a verdict later); both are recorded in the evidence's ledger entry, and the projection
keeps their canonical JSON. One Document type per kind for each, by `EVIDENCE_DOCUMENTS`:

    kind         summary               detail
    test-run     TestRunSummary        TestRunDetail
    scan         ScanSummary           ScanDetail
    sbom         SbomSummary           SbomDetail
    provenance   ProvenanceSummary     ProvenanceDetail
    review       ReviewSummary         ReviewDetail

Entries written by every earlier version decode through these same types, so their shapes
carry that history: a key that some bodies lack defaults to `MISSING` (pydantic's sentinel,
left out of the dump), never to None: the summary and detail are nested in the entry's data,
where a document's `OMIT_WHEN_NONE` is not applied, and some such keys are written as null
when present (a link's `return_value`, an SLSA v0.2 envelope's `entry_point`), so "absent" and
"null" are two values that must both read back as written. Which keys, and why:

- a test run's `suite_names`: runs recorded before superseding existed have none;
- a test run's detail `messages`: pytest-json-report's readings only;
- a review's `base_sha`: only when the payload gave one (and before reviews covered ranges);
- a review's `webhook_signature`: reviews recorded before the service checked signatures;
- a review detail's platform keys: GitHub's and GitLab's own, absent from the others';
- a provenance's `link_name` and `return_value`, and an envelope's statement-kind keys.

The SBOM's components and the provenance's subjects and materials are the plain domain
dataclasses (`Component`, `Subject`, `Material`): the reader registry imports their module,
which must not load pydantic; nested here, they decode under these documents' rules (extra
keys refused).

Key order is irrelevant to the bytes (canonical JSON sorts keys), but the fields follow the
order the readers wrote, which is the order `attest` prints a summary in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias, TypeVar, get_args

from pydantic import MISSING, StrictBool, StrictInt, ValidationInfo, field_validator

from changeproof.domain.canonical import JsonValue
from changeproof.domain.evidence import (
    EVIDENCE_RECORDED,
    Component,
    EvidenceKind,
    Material,
    ReviewState,
    Subject,
)

# The one adapter per type the codec keeps: the summary and detail validate through their own.
from changeproof.domain.payloads import Document, EventPayload, _adapter

if TYPE_CHECKING:
    from pydantic import GetJsonSchemaHandler
    from pydantic_core import CoreSchema

T = TypeVar("T")

__all__ = [
    "EVIDENCE_DOCUMENTS",
    "EvidenceDetail",
    "EvidenceFileRef",
    "EvidenceRecorded",
    "EvidenceSummary",
    "ProvenanceDetail",
    "ProvenanceEnvelope",
    "ProvenanceSummary",
    "ReviewDetail",
    "ReviewSummary",
    "SbomDetail",
    "SbomSummary",
    "ScanDetail",
    "ScanFinding",
    "ScanRunTally",
    "ScanSummary",
    "TestFileCounts",
    "TestMessage",
    "TestNamesCut",
    "TestRunDetail",
    "TestRunSummary",
    "WebhookSignature",
    "check_documents",
    "decode_documents",
    "present",
]


# --- test-run ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TestRunSummary(Document):
    """A test run (JUnit XML or pytest-json-report), every file of one attestation added up."""

    __test__ = False  # not a pytest class, whatever its name says

    dialect: str  # the producer: pytest, surefire, jest-junit … or mixed
    files: StrictInt
    suites: StrictInt
    tests: StrictInt
    passed: StrictInt
    failures: StrictInt
    errors: StrictInt
    skipped: StrictInt
    time_ms: StrictInt
    # What the run was of (sorted, capped), so a later run of the same suites supersedes it;
    # runs recorded before superseding existed have none.
    suite_names: tuple[str, ...] | MISSING = MISSING


@dataclass(frozen=True, slots=True)
class TestNamesCut(Document):
    """Whether each list of test names in the detail was cut at the reader's cap."""

    __test__ = False

    failed: StrictBool
    errored: StrictBool
    skipped: StrictBool


@dataclass(frozen=True, slots=True)
class TestFileCounts(Document):
    """One file's counts."""

    __test__ = False

    file: str
    dialect: str
    suites: StrictInt
    tests: StrictInt
    failures: StrictInt
    errors: StrictInt
    skipped: StrictInt
    time_ms: StrictInt


@dataclass(frozen=True, slots=True)
class TestMessage(Document):
    """Why a test failed or errored, and at which stage (pytest-json-report only)."""

    __test__ = False

    test: str
    stage: str | None  # setup | call | teardown | collect; None for the session
    message: str | None  # None: the report said nothing about why


@dataclass(frozen=True, slots=True)
class TestRunDetail(Document):
    """The names of the tests that failed, errored and were skipped, and each file's counts."""

    __test__ = False

    truncated: TestNamesCut
    failed: tuple[str, ...]  # "classname::name", capped
    errored: tuple[str, ...]
    skipped: tuple[str, ...]
    files: tuple[TestFileCounts, ...]
    messages: tuple[TestMessage, ...] | MISSING = MISSING  # pytest-json-report's readings


# --- scan -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanSummary(Document):
    """A SARIF 2.1.0 log: its tools and its results counted (suppressed ones apart)."""

    sarif_version: str
    tool: str  # the runs' tools, joined
    tools: tuple[str, ...]  # "name version" per run
    runs: StrictInt
    results: StrictInt  # every result, suppressed or not
    by_level: Mapping[str, StrictInt]  # unsuppressed results by effective level
    suppressed: StrictInt
    by_rule: Mapping[str, StrictInt]  # unsuppressed results by rule id
    truncated: StrictBool  # the detail's findings were capped


@dataclass(frozen=True, slots=True)
class ScanRunTally(Document):
    """One SARIF run's tool and tally: what scan-clean counts and superseding compares."""

    tool: str  # the driver's name
    version: str | None
    results: StrictInt
    suppressed: StrictInt
    by_level: Mapping[str, StrictInt]
    by_rule: Mapping[str, StrictInt]
    commits: tuple[str, ...]  # the run's versionControlProvenance revisions


@dataclass(frozen=True, slots=True)
class ScanFinding(Document):
    """One result kept in the detail; `run` is its run's index in `ScanDetail.runs`."""

    run: StrictInt
    tool: str
    rule: str | None
    level: str  # its effective level: error | warning | note | none
    file: str | None
    line: StrictInt | None
    message: str
    suppressed: StrictBool


@dataclass(frozen=True, slots=True)
class ScanDetail(Document):
    """Each run's tally, and the findings kept."""

    runs: tuple[ScanRunTally, ...]
    findings: tuple[ScanFinding, ...]  # unsuppressed first, capped
    truncated: StrictBool


# --- sbom -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SbomSummary(Document):
    """A CycloneDX or SPDX SBOM: what it describes, its components and their licenses counted."""

    format: str  # CycloneDX | SPDX
    spec_version: str
    subject: str | None
    components: StrictInt
    licenses: Mapping[str, StrictInt]  # components per license text
    without_license: StrictInt
    without_purl: StrictInt
    without_version: StrictInt
    license_names: tuple[str, ...]  # licenses given as free text, not SPDX ids
    license_name_only: StrictInt


@dataclass(frozen=True, slots=True)
class SbomDetail(Document):
    """Every component, in the SBOM's order."""

    components: tuple[Component, ...]


# --- provenance -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProvenanceSummary(Document):
    """in-toto statements or links of one file: who built which subjects from what source."""

    envelope: str  # bare | dsse | sigstore-bundle | in-toto-link | mixed
    statement_type: str | None
    predicate_type: str | None
    predicate_types: tuple[str, ...]
    statements: StrictInt
    subjects: tuple[Subject, ...]
    builder: str | None
    build_type: str | None
    source_repository: str | None
    source_uri: str | None
    source_ref: str | None
    source_commit: str | None
    materials: StrictInt
    signatures: StrictInt
    signature_verified: StrictBool | None  # None: no key was given to check with
    key_ids: tuple[str, ...]
    verified_key_ids: tuple[str, ...]
    # Links only (in-toto v0.9): the step's name and its return value (null when not an int).
    link_name: str | MISSING = MISSING
    return_value: StrictInt | MISSING | None = MISSING


@dataclass(frozen=True, slots=True)
class ProvenanceEnvelope(Document):
    """One envelope of the file: its container, its statement and its signatures.

    The keys from `link_name` on are those of the statement's kind (SLSA v0.2, SLSA v1 or a
    link) and absent from the others'."""

    where: str | None  # the envelope's place in the file, when it holds several
    container: str  # bare | dsse | sigstore-bundle:<media type> | in-toto-link-v0.9
    payload_type: str | None
    statement_type: str | None
    predicate_type: str | None
    subjects: tuple[Subject, ...]
    builder: str | None
    build_type: str | None
    source_repository: str | None
    source_uri: str | None
    source_ref: str | None
    source_commit: str | None
    materials: StrictInt
    signatures: StrictInt
    key_ids: tuple[str, ...]
    signature_verified: StrictBool | None
    verified_key_ids: tuple[str, ...]
    link_name: str | MISSING = MISSING  # links
    entry_point: str | MISSING | None = MISSING  # SLSA v0.2
    invocation_id: str | MISSING | None = MISSING  # SLSA v0.2 and v1
    return_value: StrictInt | MISSING | None = MISSING  # links
    command: tuple[str, ...] | MISSING = MISSING  # links
    stdout_last_line: str | MISSING | None = MISSING  # links


@dataclass(frozen=True, slots=True)
class ProvenanceDetail(Document):
    """The materials of every statement, and each envelope read."""

    materials: tuple[Material, ...]
    envelopes: tuple[ProvenanceEnvelope, ...]


# --- review -----------------------------------------------------------------------------------


class WebhookSignature(StrEnum):
    """Whether the service checked a review's webhook signature before reading it."""

    VERIFIED = "verified"
    NOT_CHECKED = "not checked"


@dataclass(frozen=True, slots=True)
class ReviewSummary(Document):
    """A code review: who gave which verdict on which commit of whose change."""

    platform: str  # github | gitlab | generic
    reviewer: str
    state: ReviewState
    reviewed_sha: str | None
    reviewed_sha_source: str  # the field it came from, e.g. review.commit_id
    author: str | None  # the change's author
    change_id: str | None  # "owner/repo#12", "group/project!34"
    repository: str | None
    submitted_at: str | None
    base_sha: str | MISSING = MISSING  # the change's base, when the payload gave it
    # Set by the evidence service; reviews recorded before it checked signatures have none.
    webhook_signature: WebhookSignature | MISSING = MISSING


@dataclass(frozen=True, slots=True)
class ReviewDetail(Document):
    """The review's summary (less the signature check), its change's commits, and what its
    platform's payload said besides (GitHub's and GitLab's own keys; the generic form has none)."""

    platform: str
    reviewer: str
    state: ReviewState
    reviewed_sha: str | None
    reviewed_sha_source: str
    author: str | None
    change_id: str | None
    repository: str | None
    submitted_at: str | None
    base_sha: str | MISSING = MISSING
    commits: tuple[str, ...] = field(kw_only=True)  # the change's commits, as the payload listed
    event: str | MISSING = MISSING  # pull_request_review | merge_request
    action: str | MISSING = MISSING
    # GitHub
    review_state: str | MISSING = MISSING  # the state as the payload spelled it
    head_sha: str | MISSING = MISSING
    pull_request_number: StrictInt | MISSING = MISSING
    review_id: StrictInt | MISSING = MISSING
    author_association: str | MISSING = MISSING
    # GitLab
    merge_request_iid: StrictInt | MISSING = MISSING
    author_id: StrictInt | MISSING = MISSING
    system: StrictBool | MISSING = MISSING  # GitLab itself acted (18.6+), not a person
    system_action: str | MISSING | None = MISSING  # with `system`, maybe null
    merge_request_updated_at: str | MISSING = MISSING


# --- the mapping and the event ----------------------------------------------------------------

EvidenceSummary: TypeAlias = (
    TestRunSummary | ScanSummary | SbomSummary | ProvenanceSummary | ReviewSummary
)
EvidenceDetail: TypeAlias = (
    TestRunDetail | ScanDetail | SbomDetail | ProvenanceDetail | ReviewDetail
)

EVIDENCE_DOCUMENTS: Final[
    Mapping[EvidenceKind, tuple[type[EvidenceSummary], type[EvidenceDetail]]]
] = {
    EvidenceKind.TEST_RUN: (TestRunSummary, TestRunDetail),
    EvidenceKind.SCAN: (ScanSummary, ScanDetail),
    EvidenceKind.SBOM: (SbomSummary, SbomDetail),
    EvidenceKind.PROVENANCE: (ProvenanceSummary, ProvenanceDetail),
    EvidenceKind.REVIEW: (ReviewSummary, ReviewDetail),
}
"""Each kind a reader records, with the types of its summary and its detail."""


def present(value: T | None) -> T | MISSING:
    """`value`, or MISSING for None: a key written only when it has a value."""
    return MISSING if value is None else value


def _documents(kind: EvidenceKind) -> tuple[type[EvidenceSummary], type[EvidenceDetail]]:
    found = EVIDENCE_DOCUMENTS.get(kind)
    if found is None:
        raise ValueError(f"no reader records {kind} evidence")
    return found


def check_documents(kind: EvidenceKind, summary: object, detail: object) -> None:
    """TypeError unless `summary` and `detail` are of `kind`'s types."""
    types = _documents(kind)
    if type(summary) is not types[0] or type(detail) is not types[1]:
        raise TypeError(
            f"{kind} evidence has a {types[0].__name__} and a {types[1].__name__}, not a "
            f"{type(summary).__name__} and a {type(detail).__name__}"
        )


def decode_documents(
    kind: EvidenceKind,
    summary: Mapping[str, JsonValue],
    detail: Mapping[str, JsonValue],
    *,
    where: str = "",
) -> tuple[EvidenceSummary, EvidenceDetail]:
    """A recorded summary and detail of `kind` as their types; InputError naming `where`."""
    summary_type, detail_type = _documents(kind)
    return (
        summary_type.from_data(summary, where=f"{where} summary".strip()),
        detail_type.from_data(detail, where=f"{where} detail".strip()),
    )


@dataclass(frozen=True, slots=True)
class EvidenceFileRef(Document):
    """A file read for the evidence: its base name, its digest and its size."""

    name: str
    sha256: str
    size: StrictInt


@dataclass(frozen=True, slots=True)
class EvidenceRecorded(EventPayload):
    """Evidence bound to a release: what its reader made of its files, and what it is about.

    `summary` and `detail` are of the types `kind` names (EVIDENCE_DOCUMENTS)."""

    TYPE: ClassVar[str] = EVIDENCE_RECORDED

    release: str  # SERVICE/NAME
    kind: EvidenceKind
    format: str  # what the reader read: junit/pytest, sarif/2.1.0, CycloneDX …
    sha256: str  # the file's digest, or that of the sorted digests of several
    files: tuple[EvidenceFileRef, ...]
    summary: EvidenceSummary
    detail: EvidenceDetail
    commits: tuple[str, ...]  # the commits it is about
    artifact_digests: tuple[str, ...]  # the artifacts it is about (sha256)
    notes: tuple[str, ...]  # what the reader wanted a person to know
    # True: every file in `files` is kept in the evidence vault under its digest. Entries
    # from before the vault lack the key (their files were never kept).
    files_kept: StrictBool | MISSING = MISSING

    def __post_init__(self) -> None:
        check_documents(self.kind, self.summary, self.detail)

    @field_validator("summary", "detail", mode="wrap")
    @classmethod
    def _of_kind(cls, value: Any, handler: Any, info: ValidationInfo) -> Any:
        # The kind, validated first (fields validate in order), says which type to read:
        # trying every member of the union would report five types' complaints at once.
        kind = info.data.get("kind")
        if not isinstance(kind, EvidenceKind):
            return value  # the kind is wrong: its own error is the one to report
        summary_type, detail_type = _documents(kind)
        wanted = summary_type if info.field_name == "summary" else detail_type
        if isinstance(value, wanted):
            return value
        return _adapter(wanted).validate_python(value)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        schema: dict[str, Any] = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        # The kind decides the summary's and the detail's schemas, as it decides their types.
        # Each union's schema lists its members' references in the union's order.
        refs = {
            name: dict(zip(get_args(union), target["properties"][name]["anyOf"], strict=True))
            for name, union in (("summary", EvidenceSummary), ("detail", EvidenceDetail))
        }
        target["allOf"] = [
            {
                "if": {"properties": {"kind": {"const": kind.value}}, "required": ["kind"]},
                "then": {
                    "properties": {
                        "summary": refs["summary"][summary],
                        "detail": refs["detail"][detail],
                    }
                },
            }
            for kind, (summary, detail) in EVIDENCE_DOCUMENTS.items()
        ]
        return schema
