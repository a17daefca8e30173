"""Projections: tables derived from ledger events, rebuildable from the ledger alone.

Each event type with a projection registers one function that applies a run of such
events (in seq order) to a connection. The unit of work calls `apply` in the same
transaction as the append; `rebuild` and `compare_with_rebuild` replay the ledger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from typing import Final

from sqlalchemy import Connection, Table, create_engine, delete, func, select

from changeproof.domain.artifacts import ARTIFACT_RECORDED, ArtifactRecorded
from changeproof.domain.canonical import json_text
from changeproof.domain.events import RecordedEvent, decode_body, format_time
from changeproof.domain.evidence import EVIDENCE_RECORDED
from changeproof.domain.evidence_documents import EvidenceRecorded
from changeproof.domain.releases import (
    COMMIT_RECORDED,
    RELEASE_CREATED,
    CommitRecorded,
    ReleaseCreated,
)
from changeproof.store.driver import DriverCursor, chunks, placeholders
from changeproof.store.ledger import SqlLogSource, read_head
from changeproof.store.schema import (
    PROJECTION_TABLES,
    commit_history,
    commit_paths,
    commit_tickets,
    commits,
    evidence,
    evidence_bindings,
    metadata,
    release_commits,
    releases,
)

__all__ = ["Difference", "apply", "compare_with_rebuild", "first_orphan", "rebuild", "rebuilt"]

Projector = Callable[[Connection, Sequence[RecordedEvent]], None]
_PROJECTORS: dict[str, Projector] = {}
# Projectors that only write, through the driver cursor, to tables no projector reads: they
# may run after the others, in the unit of work's batch with the ledger's rows.
_BATCHED: set[str] = set()


def projects(event_type: str, *, batched: bool = False) -> Callable[[Projector], Projector]:
    def register(function: Projector) -> Projector:
        _PROJECTORS[event_type] = function
        if batched:
            _BATCHED.add(event_type)
        return function

    return register


def apply(
    conn: Connection, events: Iterable[RecordedEvent], *, batched: bool | None = None
) -> None:
    """Apply each event's projection; with `batched` True or False, only the projections
    registered as batched, or only the others."""
    for event_type, run in groupby(events, key=lambda e: e.type):
        projector = _PROJECTORS.get(event_type)
        if projector is not None and batched in (None, event_type in _BATCHED):
            projector(conn, list(run))


_ARTIFACT_COLUMNS: Final = "seq, service, version, name, size, sha256, actor, recorded_at, release"


@projects(ARTIFACT_RECORDED, batched=True)
def _artifacts(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    # The busiest projection: tuples straight to the driver, as the ledger insert does.
    rows = []
    for event in events:
        a = event.as_(ArtifactRecorded)
        rows.append(
            (
                event.seq,
                a.service,
                a.version,
                a.name,
                a.size,
                a.sha256,
                event.actor,
                format_time(event.time),
                a.bound_release,
            )
        )
    DriverCursor(conn).executemany(
        f"INSERT INTO artifacts ({_ARTIFACT_COLUMNS}) VALUES ({placeholders(9)})",  # noqa: S608
        rows,
    )


@projects(COMMIT_RECORDED)
def _commits(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    """A commit recorded again (other ticket patterns) replaces its earlier rows, and the
    version it replaces moves to `commit_history`."""
    recorded = [(e, e.as_(CommitRecorded)) for e in events]
    latest = {commit.sha: (e, commit) for e, commit in recorded}
    # Most commits are new: only those already in the table have rows to replace.
    known = _known_commits(conn, list(latest))
    _keep_superseded(conn, known, [(e, c) for e, c in recorded if latest[c.sha][0] is not e])
    for table in (commits, commit_tickets, commit_paths):
        for chunk in chunks(known):
            conn.execute(delete(table).where(table.c.sha.in_(chunk)))
    commit_rows: list[tuple[object, ...]] = []
    ticket_rows: list[tuple[object, ...]] = []
    path_rows: list[tuple[object, ...]] = []
    for sha, (event, commit) in latest.items():
        record = commit.record_json()  # encoded once, for the row and its digest
        author, committer = commit.author, commit.committer
        commit_rows.append(
            (
                sha,
                event.seq,
                hashlib.sha256(record.encode("utf-8")).hexdigest(),  # commit.record_digest()
                author.name,
                author.email,
                author.time,
                committer.name,
                committer.email,
                committer.time,
                commit.subject,
                commit.merge,
                commit.reverts,
                record,
            )
        )
        ticket_rows.extend((sha, t.system, t.key, str(t.source), t.closes) for t in commit.tickets)
        path_rows.extend((sha, p.path, p.added, p.deleted, p.old_path) for p in commit.paths)
    for table, rows in (
        (commits, commit_rows),
        (commit_tickets, ticket_rows),
        (commit_paths, path_rows),
    ):
        if rows:  # tuples straight to the driver, as the ledger insert does
            conn.exec_driver_sql(_insert_all_columns(conn, table), rows)


def _keep_superseded(
    conn: Connection,
    known: Sequence[str],
    replaced: Sequence[tuple[RecordedEvent, CommitRecorded]],
) -> None:
    """Archive the recorded versions of `known` and the batch's own earlier versions."""
    for chunk in chunks(known):
        conn.exec_driver_sql(
            "INSERT INTO commit_history (sha, seq, record) "  # noqa: S608 - markers only
            f"SELECT sha, seq, record FROM commits WHERE sha IN ({placeholders(len(chunk), conn)})",
            tuple(chunk),
        )
    if replaced:
        conn.exec_driver_sql(
            _insert_all_columns(conn, commit_history),
            [(c.sha, e.seq, c.record_json()) for e, c in replaced],
        )


def _known_commits(conn: Connection, shas: Sequence[str]) -> list[str]:
    # Plain SQL: SQLAlchemy's expanding IN costs more than the query itself here.
    found: list[str] = []
    for chunk in chunks(shas):
        rows = conn.exec_driver_sql(
            f"SELECT sha FROM commits WHERE sha IN ({placeholders(len(chunk), conn)})",  # noqa: S608
            tuple(chunk),
        )
        found.extend(str(sha) for (sha,) in rows)
    return found


def _insert_all_columns(conn: Connection, table: Table) -> str:
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(column.name) for column in table.columns)
    markers = placeholders(len(table.columns), conn)
    return f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({markers})"  # noqa: S608


@projects(RELEASE_CREATED)
def _releases(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        created = event.as_(ReleaseCreated)
        conn.execute(
            releases.insert().values(
                service=created.service,
                name=created.name,
                seq=event.seq,
                from_ref=created.from_ref,
                to_ref=created.to_ref,
                from_sha=created.from_sha,
                to_sha=created.to_sha,
                from_source=created.from_source.value,
                ancestor=created.ancestor,
                repository=created.repository,
                commit_count=len(created.commits),
                actor=event.actor,
                created_at=format_time(event.time),
            )
        )
        if created.commits:
            conn.execute(
                release_commits.insert(),
                [
                    {"service": created.service, "release": created.name, "position": n, "sha": sha}
                    for n, sha in enumerate(created.commits)
                ],
            )


@projects(EVIDENCE_RECORDED)
def _evidence(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        p = event.as_(EvidenceRecorded)
        conn.execute(
            evidence.insert().values(
                seq=event.seq,
                release=p.release,
                kind=p.kind.value,
                format=p.format,
                sha256=p.sha256,
                files=json_text([f.to_data() for f in p.files]),
                summary=json_text(p.summary.to_data()),
                detail=json_text(p.detail.to_data()),
                actor=event.actor,
                recorded_at=format_time(event.time),
            )
        )
        subjects = p.commits, p.artifact_digests
        bindings = [
            {"seq": event.seq, "subject_type": kind, "subject": value}
            for kind, values in zip(("commit", "artifact"), subjects, strict=True)
            for value in dict.fromkeys(values)
        ]
        if bindings:
            conn.execute(evidence_bindings.insert(), bindings)


def first_orphan(conn: Connection, tree_size: int) -> tuple[str, int] | None:
    """A projection row keyed by an entry the ledger does not hold, if any."""
    for table in PROJECTION_TABLES:
        if "seq" not in table.c:
            continue
        seq = conn.execute(
            select(func.min(table.c.seq)).where(table.c.seq >= tree_size)
        ).scalar_one_or_none()
        if seq is not None:
            return table.name, int(seq)
    return None


def _replay(source: Connection, target: Connection) -> None:
    for batch in SqlLogSource(source).entry_batches():
        apply(target, [decode_body(body, seq=seq) for seq, _, body in batch])


def rebuild(conn: Connection) -> None:
    """Empty every projection and replay the ledger into it, in the caller's transaction."""
    # Under the head's lock (a write transaction's on SQLite): on PostgreSQL an append
    # committed half-way would otherwise be projected twice, or not at all.
    read_head(conn, lock=True)
    for table in reversed(PROJECTION_TABLES):
        conn.execute(delete(table))
    _replay(conn, conn)


@dataclass(frozen=True, slots=True)
class Difference:
    table: str
    key: tuple[object, ...]  # the row's primary key values
    columns: tuple[str, ...]
    live: tuple[object, ...] | None
    rebuilt: tuple[object, ...] | None


@contextmanager
def rebuilt(conn: Connection) -> Iterator[Connection]:
    """The projections replayed from the ledger alone into a scratch in-memory database:
    what the tables would hold had nobody edited them."""
    scratch = create_engine("sqlite://")
    metadata.create_all(scratch, tables=list(PROJECTION_TABLES))
    try:
        with scratch.begin() as target:
            _replay(conn, target)
            yield target
    finally:
        scratch.dispose()


def compare_with_rebuild(conn: Connection, limit: int = 100) -> list[Difference]:
    """Replay the ledger into a scratch database and list rows that differ from the live tables."""
    with rebuilt(conn) as target:
        differences: list[Difference] = []
        for table in PROJECTION_TABLES:
            differences.extend(_diff(table, _rows(conn, table), _rows(target, table)))
            if len(differences) >= limit:
                break
        return differences[:limit]


def _rows(conn: Connection, table: Table) -> Iterator[tuple[object, ...]]:
    key = list(table.primary_key.columns)
    for row in conn.execute(select(table).order_by(*key)):
        yield tuple(row)


def _diff(
    table: Table, live: Iterator[tuple[object, ...]], rebuilt: Iterator[tuple[object, ...]]
) -> Iterator[Difference]:
    positions = [list(table.columns).index(c) for c in table.primary_key.columns]
    columns = tuple(c.name for c in table.columns)

    def differ(left: tuple[object, ...] | None, right: tuple[object, ...] | None) -> Difference:
        row = left if left is not None else right
        assert row is not None
        return Difference(table.name, tuple(row[p] for p in positions), columns, left, right)

    left, right = next(live, None), next(rebuilt, None)
    while left is not None or right is not None:
        lkey = None if left is None else _key(left, positions)
        rkey = None if right is None else _key(right, positions)
        if lkey == rkey:
            if left != right:
                yield differ(left, right)
            left, right = next(live, None), next(rebuilt, None)
        elif rkey is None or (lkey is not None and lkey < rkey):
            yield differ(left, None)
            left = next(live, None)
        else:
            yield differ(None, right)
            right = next(rebuilt, None)


def _key(row: tuple[object, ...], positions: list[int]) -> tuple[str, ...]:
    # Primary keys are integers or text; compare them as zero-padded text so both order alike.
    return tuple(
        f"{value:020d}" if isinstance(value, int) else str(value)
        for value in (row[p] for p in positions)
    )


# Projections kept in their own modules register themselves on import.
from changeproof.store import (  # noqa: E402, F401
    actor_projections,
    change_projections,
    decision_projections,
    hook_projections,
    token_projections,
)
