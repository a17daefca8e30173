"""Small builders of hand-made Facts for the control tests.

Evidence is given in the order it was recorded: `facts()` numbers it from seq 10, so a
later item in the list is a later ledger entry.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import MISSING

from changeproof.domain.actors import Actor, Directory
from changeproof.domain.evidence import Component, EvidenceKind, ReviewState, Subject
from changeproof.domain.evidence_documents import (
    EvidenceDetail,
    EvidenceSummary,
    ProvenanceDetail,
    ProvenanceSummary,
    ReviewDetail,
    ReviewSummary,
    SbomDetail,
    SbomSummary,
    ScanDetail,
    ScanFinding,
    ScanRunTally,
    ScanSummary,
    TestNamesCut,
    TestRunDetail,
    TestRunSummary,
)
from changeproof.domain.releases import (
    Commit,
    Identity,
    PathChange,
    Person,
    TicketRef,
    TicketSource,
)
from changeproof.policy.facts import ArtifactFact, EvidenceFact, Facts

S = TypeVar("S", bound=EvidenceSummary)
D = TypeVar("D", bound=EvidenceDetail)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

ALICE = Actor(
    "alice", frozenset({"alice@example.com"}), github="alice", roles=frozenset({"developer"})
)
BOB = Actor("bob", frozenset({"bob@example.com"}), github="bob", gitlab="bobby")
CAROL = Actor(
    "carol", frozenset({"carol@example.com"}), github="carol-dba", groups=frozenset({"dba"})
)
DAVE = Actor(
    "dave",
    frozenset({"dave@example.com"}),
    github="dave",
    roles=frozenset({"production-pusher"}),
)
ERIN = Actor("erin", frozenset({"erin@example.com"}), github="erin", groups=frozenset({"dba"}))
PEOPLE = (ALICE, BOB, CAROL, DAVE, ERIN)
START = "start"  # the label of the commit every release `facts()` builds starts from


def sha(label: str) -> str:
    return hashlib.sha1(label.encode(), usedforsecurity=False).hexdigest()


def digest(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def commit(
    label: str,
    subject: str | None = None,
    *,
    author: str = "alice@example.com",
    committer: str | None = None,
    co_authors: Sequence[str] = (),
    paths: Sequence[str] = ("app/main.py",),
    tickets: Sequence[str] = ("PAY-1",),
    merge: bool = False,
) -> Commit:
    def person(email: str) -> Person:
        return Person(email.split("@")[0], email, "2026-11-25T10:00:00+00:00")

    return Commit(
        sha=sha(label),
        parents=(sha(f"{label}^1"), sha(f"{label}^2")) if merge else (sha(f"{label}^"),),
        author=person(author),
        committer=person(committer or author),
        co_authors=tuple(Identity(e.split("@")[0], e) for e in co_authors),
        subject=subject or f"Change {label}",
        message=subject or f"Change {label}",
        paths=tuple(PathChange(p, 1, 0) for p in paths),
        tickets=tuple(TicketRef(t, "jira", TicketSource.SUBJECT) for t in tickets),
    )


def _evidence(kind: EvidenceKind, fmt: str, summary: S, detail: D) -> EvidenceFact[S, D]:
    return EvidenceFact(0, kind, fmt, digest(repr(summary)), summary, detail)


def review(
    reviewer: str,
    reviewed: str,
    state: ReviewState = ReviewState.APPROVED,
    *,
    platform: str = "github",
    author: str | None = None,
    base: str | None = START,
    change_id: str | None = None,
    commits: Sequence[str] = (),
) -> EvidenceFact[ReviewSummary, ReviewDetail]:
    """A review of the commit labelled `reviewed` (see `commit`), of a change whose base is
    the commit labelled `base` (by default, the one the release starts from: the review covers
    every commit up to `reviewed`); `base=None` for a review that names no base."""
    summary = ReviewSummary(
        platform=platform,
        reviewer=reviewer,
        state=state,
        reviewed_sha=sha(reviewed),
        reviewed_sha_source="review.commit_id",
        author=author,
        change_id=change_id,
        repository=None,
        submitted_at=None,
        base_sha=MISSING if base is None else sha(base),
    )
    detail = ReviewDetail(
        platform=platform,
        reviewer=reviewer,
        state=state,
        reviewed_sha=summary.reviewed_sha,
        reviewed_sha_source=summary.reviewed_sha_source,
        author=author,
        change_id=change_id,
        repository=None,
        submitted_at=None,
        base_sha=summary.base_sha,
        commits=tuple(sha(c) for c in commits),
    )
    return _evidence(EvidenceKind.REVIEW, platform, summary, detail)


def junit(
    tests: int,
    *,
    failed: Sequence[str] = (),
    errored: Sequence[str] = (),
    skipped: int = 0,
) -> EvidenceFact[TestRunSummary, TestRunDetail]:
    """A run of one file, naming no suites (so no other run supersedes it)."""
    return _evidence(
        EvidenceKind.TEST_RUN,
        "junit/pytest",
        TestRunSummary(
            dialect="pytest",
            files=1,
            suites=1,
            tests=tests,
            passed=tests - len(failed) - len(errored) - skipped,
            failures=len(failed),
            errors=len(errored),
            skipped=skipped,
            time_ms=0,
        ),
        TestRunDetail(
            truncated=TestNamesCut(failed=False, errored=False, skipped=False),
            failed=tuple(failed),
            errored=tuple(errored),
            skipped=(),
            files=(),
        ),
    )


Finding = tuple[str, str, str, int, bool]  # level, rule, file, line, suppressed


def scan(tool: str, findings: Iterable[Finding] = ()) -> EvidenceFact[ScanSummary, ScanDetail]:
    """One SARIF run of `tool` with these findings."""
    kept = list(findings)
    by_level = dict.fromkeys(("error", "warning", "note", "none"), 0)
    for level, _, _, _, suppressed in kept:
        if not suppressed:
            by_level[level] += 1
    suppressed_count = sum(1 for f in kept if f[4])
    run = ScanRunTally(
        tool=tool,
        version="1.0",
        results=len(kept),
        suppressed=suppressed_count,
        by_level=dict(by_level),
        by_rule={},
        commits=(),
    )
    return _evidence(
        EvidenceKind.SCAN,
        "sarif/2.1.0",
        ScanSummary(
            sarif_version="2.1.0",
            tool=tool,
            tools=(f"{tool} 1.0",),
            runs=1,
            results=len(kept),
            by_level=dict(by_level),
            suppressed=suppressed_count,
            by_rule={},
            truncated=False,
        ),
        ScanDetail(
            runs=(run,),
            findings=tuple(
                ScanFinding(
                    run=0,
                    tool=tool,
                    rule=rule,
                    level=level,
                    file=file,
                    line=line,
                    message="found",
                    suppressed=suppressed,
                )
                for level, rule, file, line, suppressed in kept
            ),
            truncated=False,
        ),
    )


def sbom(*components: tuple[str, str, Sequence[str]]) -> EvidenceFact[SbomSummary, SbomDetail]:
    """(name, version, licenses) per component."""
    return _evidence(
        EvidenceKind.SBOM,
        "CycloneDX",
        SbomSummary(
            format="CycloneDX",
            spec_version="1.6",
            subject=None,
            components=len(components),
            licenses={},
            without_license=0,
            without_purl=len(components),
            without_version=0,
            license_names=(),
            license_name_only=0,
        ),
        SbomDetail(
            components=tuple(
                Component(n, v, None, tuple(lic), "library") for n, v, lic in components
            )
        ),
    )


def provenance(
    *subjects: str,
    builder: str | None = "https://github.com/actions/runner/github-hosted",
    signature_verified: bool | None = True,
) -> EvidenceFact[ProvenanceSummary, ProvenanceDetail]:
    return _evidence(
        EvidenceKind.PROVENANCE,
        "in-toto",
        ProvenanceSummary(
            envelope="bare",
            statement_type="https://in-toto.io/Statement/v1",
            predicate_type="https://slsa.dev/provenance/v1",
            predicate_types=("https://slsa.dev/provenance/v1",),
            statements=1,
            subjects=tuple(Subject("app.tar.gz", {"sha256": s}) for s in subjects),
            builder=builder,
            build_type=None,
            source_repository=None,
            source_uri=None,
            source_ref=None,
            source_commit=None,
            materials=0,
            signatures=1,
            signature_verified=signature_verified,
            key_ids=(),
            verified_key_ids=(),
        ),
        ProvenanceDetail(materials=(), envelopes=()),
    )


def artifact(name: str, sha256: str) -> ArtifactFact:
    return ArtifactFact(0, name, sha256)


def chained(commits: Sequence[Commit]) -> tuple[Commit, ...]:
    """The commits as one line of history, in the order given, starting from `START`: each
    one's first parent is the one before it (a merge keeps its second parent)."""
    out: list[Commit] = []
    previous = sha(START)
    for c in commits:
        out.append(dataclasses.replace(c, parents=(previous, *c.parents[1:])))
        previous = c.sha
    return tuple(out)


def facts(
    commits: Sequence[Commit] = (),
    evidence: Sequence[EvidenceFact] = (),
    *,
    actors: Iterable[Actor] = PEOPLE,
    artifacts: Sequence[ArtifactFact] = (),
    environment: str = "production",
    deployer: str | None = None,
    artifact: str | None = None,
    urgent: bool = False,
    urgent_reason: str | None = None,
    high_risk_groups: Mapping[str, tuple[str, ...]] | None = None,
    now: datetime = NOW,
) -> Facts:
    return Facts(
        release="payments/1.2.0",
        environment=environment,
        commits=chained(commits),
        evidence=tuple(dataclasses.replace(e, seq=10 + i) for i, e in enumerate(evidence)),
        artifacts=tuple(dataclasses.replace(a, seq=5 + i) for i, a in enumerate(artifacts)),
        directory=Directory.of(actors),
        now=now,
        deployer=deployer,
        artifact=artifact,
        urgent=urgent,
        urgent_reason=urgent_reason,
        high_risk_groups=dict(high_risk_groups or {}),
    )
