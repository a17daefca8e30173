"""Small builders of hand-made Facts for the control tests.

Evidence is given in the order it was recorded: `facts()` numbers it from seq 10, so a
later item in the list is a later ledger entry.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from changeproof.domain.actors import Actor, Directory
from changeproof.domain.canonical import JsonValue
from changeproof.domain.evidence import EvidenceKind, ReviewState
from changeproof.domain.releases import (
    Commit,
    Identity,
    PathChange,
    Person,
    TicketRef,
    TicketSource,
)
from changeproof.policy.facts import ArtifactFact, EvidenceFact, Facts

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


def _evidence(
    kind: EvidenceKind,
    fmt: str,
    summary: Mapping[str, JsonValue],
    detail: Mapping[str, JsonValue] | None = None,
) -> EvidenceFact:
    return EvidenceFact(0, kind, fmt, digest(repr(summary)), summary, detail or {})


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
) -> EvidenceFact:
    """A review of the commit labelled `reviewed` (see `commit`), of a change whose base is
    the commit labelled `base` (by default, the one the release starts from: the review covers
    every commit up to `reviewed`); `base=None` for a review that names no base."""
    summary: dict[str, JsonValue] = {
        "platform": platform,
        "reviewer": reviewer,
        "state": state.value,
        "reviewed_sha": sha(reviewed),
        "author": author,
        "change_id": change_id,
    }
    if base is not None:
        summary["base_sha"] = sha(base)
    return _evidence(EvidenceKind.REVIEW, platform, summary, {"commits": [sha(c) for c in commits]})


def junit(
    tests: int,
    *,
    failed: Sequence[str] = (),
    errored: Sequence[str] = (),
    skipped: int = 0,
) -> EvidenceFact:
    return _evidence(
        EvidenceKind.TEST_RUN,
        "junit/pytest",
        {
            "tests": tests,
            "failures": len(failed),
            "errors": len(errored),
            "skipped": skipped,
            "passed": tests - len(failed) - len(errored) - skipped,
        },
        {"failed": list(failed), "errored": list(errored), "skipped": []},
    )


Finding = tuple[str, str, str, int, bool]  # level, rule, file, line, suppressed


def scan(tool: str, findings: Iterable[Finding] = ()) -> EvidenceFact:
    """One SARIF run of `tool` with these findings."""
    kept = list(findings)
    by_level = dict.fromkeys(("error", "warning", "note", "none"), 0)
    for level, _, _, _, suppressed in kept:
        if not suppressed:
            by_level[level] += 1
    suppressed_count = sum(1 for f in kept if f[4])
    run: dict[str, JsonValue] = {
        "tool": tool,
        "version": "1.0",
        "results": len(kept),
        "suppressed": suppressed_count,
        "by_level": dict(by_level),
        "by_rule": {},
        "commits": [],
    }
    return _evidence(
        EvidenceKind.SCAN,
        "sarif/2.1.0",
        {"tool": tool, "tools": [f"{tool} 1.0"], "by_level": dict(by_level)},
        {
            "runs": [run],
            "findings": [
                {
                    "run": 0,
                    "tool": tool,
                    "rule": rule,
                    "level": level,
                    "file": file,
                    "line": line,
                    "message": "found",
                    "suppressed": suppressed,
                }
                for level, rule, file, line, suppressed in kept
            ],
            "truncated": False,
        },
    )


def sbom(*components: tuple[str, str, Sequence[str]]) -> EvidenceFact:
    """(name, version, licenses) per component."""
    return _evidence(
        EvidenceKind.SBOM,
        "CycloneDX",
        {"format": "CycloneDX", "spec_version": "1.6", "components": len(components)},
        {
            "components": [
                {"name": n, "version": v, "purl": None, "licenses": list(lic), "type": "library"}
                for n, v, lic in components
            ]
        },
    )


def provenance(
    *subjects: str,
    builder: str = "https://github.com/actions/runner/github-hosted",
    signature_verified: bool | None = True,
) -> EvidenceFact:
    return _evidence(
        EvidenceKind.PROVENANCE,
        "in-toto",
        {
            "subjects": [{"name": "app.tar.gz", "digest": {"sha256": s}} for s in subjects],
            "builder": builder,
            "signature_verified": signature_verified,
        },
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
