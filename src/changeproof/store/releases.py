"""Queries over releases, commits, evidence and artifacts (projections only, never the ledger)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from changeproof.domain.canonical import JsonValue
from changeproof.domain.records import EvidenceRecord, ReleaseArtifactRecord, ReleaseRecord
from changeproof.domain.releases import Commit, CommitRecorded, ReleaseRef
from changeproof.store.driver import chunks, placeholders
from changeproof.store.schema import (
    artifacts,
    commit_history,
    commits,
    evidence,
    release_commits,
    releases,
)

__all__ = [
    "ArtifactRow",
    "EvidenceDetailRow",
    "artifacts_with_digests",
    "evidence_as_of",
    "evidence_citing",
    "evidence_for",
    "evidence_seqs_as_of",
    "find_evidence",
    "find_release",
    "last_release",
    "list_releases",
    "recorded_commit_digests",
    "release_artifacts",
    "release_artifacts_as_of",
    "release_commit_records",
    "release_commit_shas",
    "release_commits_of",
    "stored_commit",
]


def _release(row: object) -> ReleaseRecord:
    r = row._mapping  # type: ignore[attr-defined]  # a SQLAlchemy Row
    return ReleaseRecord(
        ref=ReleaseRef(r["service"], r["name"]),
        seq=int(r["seq"]),
        from_ref=r["from_ref"],
        to_ref=r["to_ref"],
        from_sha=r["from_sha"],
        to_sha=r["to_sha"],
        from_source=r["from_source"],
        ancestor=bool(r["ancestor"]),
        repository=r["repository"],
        commit_count=int(r["commit_count"]),
        actor=r["actor"],
        created_at=r["created_at"],
    )


def find_release(conn: Connection, ref: ReleaseRef) -> ReleaseRecord | None:
    row = conn.execute(
        select(releases).where(releases.c.service == ref.service, releases.c.name == ref.name)
    ).first()
    return None if row is None else _release(row)


def list_releases(conn: Connection, *, service: str | None = None) -> list[ReleaseRecord]:
    """Releases oldest first, of one service when `service` is given."""
    query = select(releases).order_by(releases.c.seq)
    if service is not None:
        query = query.where(releases.c.service == service)
    return [_release(row) for row in conn.execute(query)]


def last_release(conn: Connection, service: str) -> ReleaseRecord | None:
    row = conn.execute(
        select(releases).where(releases.c.service == service).order_by(releases.c.seq.desc())
    ).first()
    return None if row is None else _release(row)


def recorded_commit_digests(conn: Connection, shas: Sequence[str]) -> dict[str, str]:
    # Plain SQL: SQLAlchemy's expanding IN costs more than the query itself here.
    found: dict[str, str] = {}
    for chunk in chunks(shas):
        rows = conn.exec_driver_sql(
            "SELECT sha, record_sha256 FROM commits "  # noqa: S608 - markers only
            f"WHERE sha IN ({placeholders(len(chunk), conn)})",
            tuple(chunk),
        )
        found.update((str(sha), str(digest)) for sha, digest in rows)
    return found


def release_commit_shas(conn: Connection, ref: ReleaseRef) -> list[str]:
    rows = conn.execute(
        select(release_commits.c.sha)
        .where(release_commits.c.service == ref.service, release_commits.c.release == ref.name)
        .order_by(release_commits.c.position)
    )
    return [str(sha) for (sha,) in rows]


def release_commits_of(conn: Connection, ref: ReleaseRef) -> list[Commit]:
    """The release's commits, each as recorded when the release was created: a commit that a
    later release recorded again (other ticket patterns) is read from `commit_history`."""
    return [stored_commit(sha, record) for sha, _, record in release_commit_records(conn, ref)]


def stored_commit(sha: str, record: str) -> Commit:
    """The commit a `commits` or `commit_history` row's record holds (its entry's data)."""
    return CommitRecorded.from_data(json.loads(record), where=f"the record of commit {sha}").commit


def release_commit_records(conn: Connection, ref: ReleaseRef) -> list[tuple[str, int, str]]:
    """(sha, seq, record) of each of the release's commits, in order: the `commit.recorded`
    entry that held its facts when the release was created, and those facts' JSON."""
    created = select(releases.c.seq).where(
        releases.c.service == ref.service, releases.c.name == ref.name
    )
    release_seq = conn.execute(created).scalar_one_or_none()
    if release_seq is None:
        return []
    rows = conn.execute(
        select(release_commits.c.sha, commits.c.seq, commits.c.record)
        .select_from(release_commits.join(commits, release_commits.c.sha == commits.c.sha))
        .where(release_commits.c.service == ref.service, release_commits.c.release == ref.name)
        .order_by(release_commits.c.position)
    )
    records = [(str(sha), int(seq), str(record)) for sha, seq, record in rows]
    newer = [sha for sha, seq, _ in records if seq > release_seq]
    if not newer:
        return records
    earlier = _records_before(conn, newer, int(release_seq))
    return [
        (sha, *earlier.get(sha, (seq, record))) if seq > release_seq else (sha, seq, record)
        for sha, seq, record in records
    ]


def _records_before(conn: Connection, shas: Sequence[str], seq: int) -> dict[str, tuple[int, str]]:
    """Each commit's newest superseded (seq, record) from before ledger position `seq`."""
    h = commit_history.c
    found: dict[str, tuple[int, str]] = {}
    for chunk in chunks(sorted(set(shas))):
        rows = conn.execute(
            select(h.sha, h.seq, h.record).where(h.sha.in_(chunk), h.seq < seq).order_by(h.seq)
        )
        found.update((str(sha), (int(at), str(record))) for sha, at, record in rows)
    return found


def _evidence(row: object) -> EvidenceRecord:
    r = row._mapping  # type: ignore[attr-defined]  # a SQLAlchemy Row
    return EvidenceRecord(
        seq=int(r["seq"]),
        release=r["release"],
        kind=r["kind"],
        format=r["format"],
        sha256=r["sha256"],
        files=json.loads(r["files"]),
        summary=json.loads(r["summary"]),
        actor=r["actor"],
        recorded_at=r["recorded_at"],
    )


def evidence_for(conn: Connection, ref: ReleaseRef) -> list[EvidenceRecord]:
    rows = conn.execute(
        select(evidence).where(evidence.c.release == str(ref)).order_by(evidence.c.seq)
    )
    return [_evidence(row) for row in rows]


def evidence_citing(conn: Connection, sha256: str) -> list[int]:
    """The evidence rows whose digest or one of whose files' digests is `sha256`, by seq:
    where to look in the ledger (the caller proves each from its entry)."""
    c = evidence.c
    rows = conn.execute(
        select(c.seq)
        .where((c.sha256 == sha256) | c.files.contains(sha256, autoescape=True))
        .order_by(c.seq)
    )
    return [int(seq) for (seq,) in rows]


def find_evidence(
    conn: Connection, ref: ReleaseRef, kind: str, sha256: str
) -> EvidenceRecord | None:
    row = conn.execute(
        select(evidence).where(
            evidence.c.release == str(ref), evidence.c.kind == kind, evidence.c.sha256 == sha256
        )
    ).first()
    return None if row is None else _evidence(row)


@dataclass(frozen=True, slots=True)
class ArtifactRow:
    sha256: str
    release: str | None
    seq: int
    actor: str
    recorded_at: str


def artifacts_with_digests(conn: Connection, digests: Iterable[str]) -> list[ArtifactRow]:
    """Every recorded artifact with one of `digests`."""
    wanted = sorted(set(digests))
    c = artifacts.c
    found: list[ArtifactRow] = []
    for chunk in chunks(wanted):
        rows = conn.execute(
            select(c.sha256, c.release, c.seq, c.actor, c.recorded_at).where(c.sha256.in_(chunk))
        )
        found.extend(
            ArtifactRow(str(d), None if r is None else str(r), int(s), str(a), str(t))
            for d, r, s, a, t in rows
        )
    return found


@dataclass(frozen=True, slots=True)
class EvidenceDetailRow:
    seq: int
    kind: str
    format: str
    sha256: str
    summary: dict[str, JsonValue]
    detail: dict[str, JsonValue]


def evidence_as_of(conn: Connection, ref: ReleaseRef, as_of_seq: int) -> list[EvidenceDetailRow]:
    """The release's evidence recorded before ledger position `as_of_seq`, oldest first."""
    c = evidence.c
    rows = conn.execute(
        select(c.seq, c.kind, c.format, c.sha256, c.summary, c.detail)
        .where(c.release == str(ref), c.seq < as_of_seq)
        .order_by(c.seq)
    )
    return [
        EvidenceDetailRow(int(s), str(k), str(f), str(d), json.loads(su), json.loads(de))
        for s, k, f, d, su, de in rows
    ]


def evidence_seqs_as_of(conn: Connection, ref: ReleaseRef, as_of_seq: int) -> list[int]:
    """The entries of the release's evidence recorded before `as_of_seq`, oldest first: for
    a reader that takes the evidence itself from those entries."""
    c = evidence.c
    rows = conn.execute(
        select(c.seq).where(c.release == str(ref), c.seq < as_of_seq).order_by(c.seq)
    )
    return [int(seq) for (seq,) in rows]


def release_artifacts_as_of(
    conn: Connection, ref: ReleaseRef, as_of_seq: int
) -> list[tuple[int, str, str]]:
    """(seq, name, sha256) of the artifacts recorded for the release before `as_of_seq`."""
    c = artifacts.c
    rows = conn.execute(
        select(c.seq, c.name, c.sha256)
        .where(c.release == str(ref), c.seq < as_of_seq)
        .order_by(c.seq)
    )
    return [(int(s), str(n), str(d)) for s, n, d in rows]


def release_artifacts(conn: Connection, ref: ReleaseRef) -> list[ReleaseArtifactRecord]:
    """The artifacts recorded for the release (`attest artifact --release`), oldest first."""
    c = artifacts.c
    rows = conn.execute(
        select(c.seq, c.name, c.size, c.sha256, c.actor, c.recorded_at)
        .where(c.release == str(ref))
        .order_by(c.seq)
    )
    return [
        ReleaseArtifactRecord(int(s), str(n), int(z), str(d), str(a), str(t))
        for s, n, z, d, a, t in rows
    ]
