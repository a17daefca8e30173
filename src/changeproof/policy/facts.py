"""Facts: everything a policy may look at to decide on one release, gathered once.

Services build Facts from the store (as of a ledger position, so a decision can be
replayed); controls only read them. Evidence keeps the summary and detail its reader
recorded, decoded once into their kind's types when the facts are built; the accessors
below hand each kind's records to controls with those types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Generic, cast

from pydantic import MISSING
from typing_extensions import TypeVar

from changeproof.domain.actors import Actor, Directory
from changeproof.domain.canonical import JsonValue
from changeproof.domain.changes import ChangeFact
from changeproof.domain.deployments import DeploymentFact
from changeproof.domain.evidence import EvidenceKind, ReviewState
from changeproof.domain.evidence_documents import (
    EvidenceDetail,
    EvidenceRecorded,
    EvidenceSummary,
    ProvenanceDetail,
    ProvenanceSummary,
    ReviewDetail,
    ReviewSummary,
    SbomDetail,
    SbomSummary,
    ScanDetail,
    ScanSummary,
    TestRunDetail,
    TestRunSummary,
    check_documents,
    decode_documents,
)
from changeproof.domain.history import CommitGraph, Inherited
from changeproof.domain.releases import Commit
from changeproof.policy.model import Policy
from changeproof.policy.superseding import superseded

__all__ = ["ArtifactFact", "EvidenceFact", "Facts", "ReviewFact", "expert_groups"]

_T = TypeVar("_T")
S = TypeVar("S", bound=EvidenceSummary, default=EvidenceSummary, covariant=True)
D = TypeVar("D", bound=EvidenceDetail, default=EvidenceDetail, covariant=True)


@dataclass(frozen=True, slots=True)
class EvidenceFact(Generic[S, D]):
    """A piece of evidence as controls see it: its summary and detail of its kind's types."""

    seq: int
    kind: EvidenceKind
    format: str
    sha256: str
    summary: S
    detail: D

    def __post_init__(self) -> None:
        check_documents(self.kind, self.summary, self.detail)

    @classmethod
    def recorded(cls, seq: int, payload: EvidenceRecorded) -> EvidenceFact:
        """The evidence an `evidence.recorded` entry at `seq` records."""
        p = payload
        return EvidenceFact(seq, p.kind, p.format, p.sha256, p.summary, p.detail)

    @classmethod
    def decoded(
        cls,
        seq: int,
        kind: str,
        format: str,
        sha256: str,
        summary: Mapping[str, JsonValue],
        detail: Mapping[str, JsonValue],
    ) -> EvidenceFact:
        """The evidence a projection row keeps, its summary and detail decoded (InputError
        naming the entry when they are not its kind's)."""
        known = EvidenceKind(kind)
        documents = decode_documents(known, summary, detail, where=f"evidence {seq}")
        return EvidenceFact(seq, known, format, sha256, *documents)


@dataclass(frozen=True, slots=True)
class ArtifactFact:
    seq: int
    name: str
    sha256: str


@dataclass(frozen=True, slots=True)
class ReviewFact:
    """A review as controls see it: who, what verdict, on which SHA, recorded when (seq)."""

    seq: int
    platform: str
    reviewer: str  # login or email as the platform gave it
    state: ReviewState
    reviewed_sha: str
    author: str | None  # the change's author as the platform named them
    base_sha: str | None = None  # the change's base, when the payload gave it
    commits: tuple[str, ...] = ()  # the commits the review names as its change's
    change_id: str | None = None  # how the review system names the change


# Not slots: the views below are `cached_property`s, each computed at most once per decision
# by whichever control asks first (several ask for the same ones), and never at load time.
@dataclass(frozen=True)
class Facts:
    release: str  # SERVICE/NAME
    environment: str
    commits: tuple[Commit, ...]  # oldest first
    evidence: tuple[EvidenceFact, ...]  # in seq order
    artifacts: tuple[ArtifactFact, ...]  # recorded for this release
    directory: Directory
    now: datetime
    deployer: str | None = None  # an actor name, or the raw identity when none matches
    artifact: str | None = None  # the sha256 asked to deploy, when given
    urgent: bool = False
    urgent_reason: str | None = None
    high_risk_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    change: ChangeFact | None = None  # the newest change for this release and environment
    # Deployments of the artifacts in question, anywhere, before the decision (only read
    # when the environment requires promoted-from).
    deployments: tuple[DeploymentFact, ...] = ()

    def of_kind(self, kind: EvidenceKind) -> tuple[EvidenceFact, ...]:
        """The records of `kind` that stand: superseded ones left out (see `superseding`)."""
        return self._by_kind.get(kind, ())

    # Each kind's standing records with its documents' types: an EvidenceFact holds its
    # kind's types (it checks when built), so the casts below only tell the type checker.
    def test_runs(self) -> tuple[EvidenceFact[TestRunSummary, TestRunDetail], ...]:
        found = self.of_kind(EvidenceKind.TEST_RUN)
        return cast(tuple[EvidenceFact[TestRunSummary, TestRunDetail], ...], found)

    def scans(self) -> tuple[EvidenceFact[ScanSummary, ScanDetail], ...]:
        found = self.of_kind(EvidenceKind.SCAN)
        return cast(tuple[EvidenceFact[ScanSummary, ScanDetail], ...], found)

    def sboms(self) -> tuple[EvidenceFact[SbomSummary, SbomDetail], ...]:
        found = self.of_kind(EvidenceKind.SBOM)
        return cast(tuple[EvidenceFact[SbomSummary, SbomDetail], ...], found)

    def provenance(self) -> tuple[EvidenceFact[ProvenanceSummary, ProvenanceDetail], ...]:
        found = self.of_kind(EvidenceKind.PROVENANCE)
        return cast(tuple[EvidenceFact[ProvenanceSummary, ProvenanceDetail], ...], found)

    def review_records(self) -> tuple[EvidenceFact[ReviewSummary, ReviewDetail], ...]:
        found = self.of_kind(EvidenceKind.REVIEW)
        return cast(tuple[EvidenceFact[ReviewSummary, ReviewDetail], ...], found)

    @cached_property
    def superseded(self) -> Mapping[int, int]:
        """Each superseded record's seq, with the seq of the newer one superseding it."""
        return superseded(self.evidence)

    @cached_property
    def _by_kind(self) -> dict[EvidenceKind, tuple[EvidenceFact, ...]]:
        found: dict[EvidenceKind, list[EvidenceFact]] = {}
        gone = self.superseded
        for e in self.evidence:
            if e.seq not in gone:
                found.setdefault(e.kind, []).append(e)
        return {kind: tuple(facts) for kind, facts in found.items()}

    def reviews(self) -> tuple[ReviewFact, ...]:
        return self._reviews

    @cached_property
    def _reviews(self) -> tuple[ReviewFact, ...]:
        found = []
        for e in self.review_records():
            s = e.summary
            if s.reviewed_sha is None:
                continue  # about no commit: it approves nothing
            found.append(
                ReviewFact(
                    seq=e.seq,
                    platform=s.platform,
                    reviewer=s.reviewer,
                    state=s.state,
                    reviewed_sha=s.reviewed_sha,
                    author=s.author,
                    base_sha=None if s.base_sha is MISSING else s.base_sha,
                    commits=e.detail.commits,
                    change_id=s.change_id,
                )
            )
        return tuple(found)

    def paths(self) -> tuple[str, ...]:
        """Every path the release changes, renamed-from paths included, sorted."""
        return self._paths

    @cached_property
    def _paths(self) -> tuple[str, ...]:
        return tuple(sorted(self.touching))

    @cached_property
    def touching(self) -> Mapping[str, tuple[int, ...]]:
        """Each path the release changes (renamed-from paths included): the positions in
        `commits` of the commits that change it, ascending."""
        found: dict[str, list[int]] = {}
        for i, commit in enumerate(self.commits):
            for change in commit.paths:
                for path in (change.path, change.old_path) if change.old_path else (change.path,):
                    at = found.get(path)
                    if at is None:
                        found[path] = [i]
                    elif at[-1] != i:
                        at.append(i)
        return {path: tuple(at) for path, at in found.items()}

    @cached_property
    def positions(self) -> Mapping[str, int]:
        """Each commit's place in the release, oldest first (by full SHA, lower-cased)."""
        return {c.sha.lower(): i for i, c in enumerate(self.commits)}

    @cached_property
    def graph(self) -> CommitGraph:
        """The release's commits and their recorded parents, to walk."""
        return CommitGraph(self.commits)

    @property
    def parent_positions(self) -> tuple[tuple[int, ...], ...]:
        return self.graph.parents

    @property
    def boundary(self) -> frozenset[str]:
        return self.graph.boundary

    def ancestry(self, position: int, hidden: int | None = None) -> frozenset[int]:
        """See `CommitGraph.ancestry`."""
        return self.graph.ancestry(position, hidden)

    @cached_property
    def inherited(self) -> Mapping[int, tuple[Inherited, ...]]:
        """See `CommitGraph.inherited_tickets`: by position, for commits without tickets."""
        return self.graph.inherited_tickets()

    @cached_property
    def by_writers(self) -> Mapping[tuple[str, ...], tuple[int, ...]]:
        """The positions in `commits` of the commits each set of writers made, ascending:
        keyed by the author's, the committer's and the co-authors' emails as recorded. A
        release of thousands of commits has a few dozen such sets."""
        found: dict[tuple[str, ...], list[int]] = {}
        for i, c in enumerate(self.commits):
            key: tuple[str, ...] = (c.author.email, c.committer.email)
            if c.co_authors:
                key += tuple(a.email for a in c.co_authors)
            at = found.get(key)
            if at is None:
                found[key] = [i]
            else:
                at.append(i)
        return {key: tuple(at) for key, at in found.items()}

    def shared(self, derive: Callable[[Facts], _T]) -> _T:
        """`derive(self)`, worked out once per Facts for every control that asks: for what
        several derive alike from the facts (who is who, which reviews stand)."""
        if derive not in self._shared:
            self._shared[derive] = derive(self)
        return cast(_T, self._shared[derive])

    @cached_property
    def _shared(self) -> dict[Callable[[Facts], object], object]:
        return {}

    def actor(self, identity: str | None, platform: str | None = None) -> Actor | None:
        return None if identity is None else self.directory.resolve(identity, platform)


def expert_groups(policy: Policy) -> dict[str, tuple[str, ...]]:
    """`Facts.high_risk_groups`: each high-risk glob with the expert groups named for it."""
    groups: dict[str, tuple[str, ...]] = {}
    for area in policy.high_risk:
        for glob in area.paths:
            groups[glob] = (*groups.get(glob, ()), area.experts)
    return groups
