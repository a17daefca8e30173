"""Release use cases: create one from a git range, and show what it holds."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import pygit2
from sqlalchemy import Connection

from changeproof.domain.clock import Clock
from changeproof.domain.errors import ConflictError, Field, NotFoundError, UsageError, operation
from changeproof.domain.events import ActorId, Event
from changeproof.domain.history import CommitGraph, Inherited, inherits_tickets
from changeproof.domain.records import EvidenceRecord, ReleaseArtifactRecord, ReleaseRecord
from changeproof.domain.releases import (
    Commit,
    CommitRecorded,
    RangeStart,
    ReleaseCreated,
    ReleaseRef,
)
from changeproof.ingest.git import RangeEnds, open_repository, read_commits, resolve_range
from changeproof.ingest.tickets import TicketMatcher, parse_ticket_spec
from changeproof.policy.facts import EvidenceFact
from changeproof.policy.superseding import superseded
from changeproof.store import releases as queries
from changeproof.store.database import Database
from changeproof.store.unit_of_work import UnitOfWork

__all__ = ["COMMITS_PER_UNIT", "ReleaseService", "ReleaseView"]

# Commits recorded per unit of work: bounds the memory a large range's events take.
COMMITS_PER_UNIT: Final = 5_000
_END: Final = 2**62  # a ledger position past every entry


@dataclass(frozen=True)
class ReleaseView:
    release: ReleaseRecord
    commits: list[Commit]
    evidence: list[EvidenceRecord]
    artifacts: list[ReleaseArtifactRecord]
    created: bool = False  # False when `create` found the same release already recorded
    inherit_tickets: bool = True  # commits without tickets inherit their merges' (ticket spec)
    # Each superseded evidence record's seq, with the seq of the newer one superseding it.
    superseded: Mapping[int, int] = field(default_factory=dict)

    @property
    def tickets(self) -> list[str]:
        return sorted({t.key for c in self.commits for t in c.tickets})

    @cached_property
    def inherited(self) -> dict[str, tuple[Inherited, ...]]:
        """By SHA: the tickets each commit with none of its own inherits from the merges that
        brought it in, worked out from the recorded commits and parents when read."""
        if not self.inherit_tickets:
            return {}
        graph = CommitGraph(self.commits)
        tip = graph.positions.get(self.release.to_sha.lower())
        return {self.commits[i].sha: got for i, got in graph.inherited_tickets(tip).items()}

    @property
    def untracked_commits(self) -> list[str]:
        """Commits with no ticket of their own and none inherited."""
        inherited = self.inherited
        return [c.sha for c in self.commits if not c.tickets and c.sha not in inherited]


class ReleaseService:
    def __init__(
        self,
        db: Database,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        tickets: str,
        repositories: Mapping[str, Path] | None = None,
    ) -> None:
        self._db = db
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._tickets = tickets
        self._repositories = dict(repositories or {})

    def create_in(
        self,
        ref: ReleaseRef,
        *,
        repository: str,
        to_ref: str,
        from_ref: str | None,
        actor: str,
        tickets: str | None = None,
        from_root: bool = False,
    ) -> ReleaseView:
        """`create` from one of the instance's configured repositories, by its name: what a
        server's client asks for, since no path on the server's disk is the client's to give."""
        path = self._repositories.get(repository)
        if path is None:
            known = ", ".join(sorted(self._repositories)) or "none is configured"
            raise NotFoundError(
                f"{Field('repository')} {repository!r} is not one of the instance's "
                f"repositories ({known})",
                hint="an operator of the instance adds it under [repositories] in config.toml",
            )
        return self.create(
            ref,
            repository=path,
            to_ref=to_ref,
            from_ref=from_ref,
            actor=actor,
            tickets=tickets,
            from_root=from_root,
        )

    def create(
        self,
        ref: ReleaseRef,
        *,
        repository: Path,
        to_ref: str,
        from_ref: str | None,
        actor: str,
        tickets: str | None = None,
        from_root: bool = False,
    ) -> ReleaseView:
        """Read FROM..TO and record it. FROM defaults to the service's previous release (or,
        when this release exists already, the start it was recorded with), else the root;
        `from_root` starts at the root whatever the service released before.

        Commits are recorded COMMITS_PER_UNIT per unit of work while later ones are still
        being read, each only if it is new or its facts changed; release.created comes last,
        in the unit of work of the last commits. A run stopped half-way may leave commits
        recorded but never a release, and the next run skips the commits already recorded.
        """
        if from_root and from_ref is not None:
            raise UsageError(f"give {Field('from')} or {Field('from_root')}, not both")
        matcher = TicketMatcher(parse_ticket_spec(tickets or self._tickets))
        repo = open_repository(repository)
        with self._db.read() as conn:
            existing = queries.find_release(conn, ref)
            previous = queries.last_release(conn, ref.service)
        start, from_source = _range_start(from_ref, from_root, existing, previous)
        ends = resolve_range(repo, to_ref, start)
        if existing is not None:
            return self._existing(existing, ends)
        try:
            commits = self._record(
                ref, repo, ends, matcher, ActorId(actor), to_ref, start, from_source
            )
        except _CreatedMeanwhile as meanwhile:
            # Another run recorded this release while this one read git: the same range is
            # the same release (idempotent, as a rerun is), another range a conflict.
            return self._existing(meanwhile.release, ends)
        # What show() would read back, but from the commits in hand: what was just recorded.
        with self._db.read() as conn:
            release = queries.find_release(conn, ref)
            evidence = queries.evidence_for(conn, ref)
            artifacts = queries.release_artifacts(conn, ref)
        assert release is not None  # recorded above, and releases are never removed
        return ReleaseView(
            release,
            commits,
            evidence,
            artifacts,
            created=True,
            inherit_tickets=inherits_tickets(tickets or self._tickets),
        )

    def _record(
        self,
        ref: ReleaseRef,
        repo: pygit2.Repository,
        ends: RangeEnds,
        matcher: TicketMatcher,
        who: ActorId,
        to_ref: str,
        from_ref: str | None,
        from_source: RangeStart,
    ) -> list[Commit]:
        """Record the range's commits in batches while later ones are still being read, then
        release.created with the last batch; the commits read."""
        now = self._clock.now()
        # Reading git is the slow part: the write lock is only taken to record each batch.
        commits: list[Commit] = []
        batch: list[Commit] = []
        for commit in read_commits(repo, ends, matcher):
            commits.append(commit)
            batch.append(commit)
            if len(batch) == COMMITS_PER_UNIT and len(commits) < len(ends.ids):
                with self._unit_of_work() as uow:
                    _stop_if_created(uow, ref)
                    _record_commits(uow, batch, who, now)
                batch = []
        with self._unit_of_work() as uow:
            _stop_if_created(uow, ref)
            _record_commits(uow, batch, who, now)
            created = ReleaseCreated(
                service=ref.service,
                name=ref.name,
                repository=_remote(repo),
                from_ref=from_ref,
                to_ref=to_ref,
                from_sha=ends.from_sha,
                to_sha=ends.to_sha,
                from_source=from_source,
                ancestor=ends.ancestor,
                commits=tuple(c.sha for c in commits),
            )
            uow.record(Event.of(created, who, now))
        return commits

    def list(self, *, service: str | None = None) -> list[ReleaseRecord]:
        """Every release, oldest first; of one service when `service` is given."""
        with self._db.read() as conn:
            return queries.list_releases(conn, service=service)

    def show(self, ref: ReleaseRef) -> ReleaseView:
        with self._db.read() as conn:
            release = queries.find_release(conn, ref)
            if release is None:
                raise NotFoundError(
                    f"no release {ref}", hint=f"create it with {operation('release create')}"
                )
            return ReleaseView(
                release,
                queries.release_commits_of(conn, ref),
                queries.evidence_for(conn, ref),
                queries.release_artifacts(conn, ref),
                inherit_tickets=inherits_tickets(self._tickets),
                superseded=_superseded(conn, ref),
            )

    def _existing(self, existing: ReleaseRecord, found: RangeEnds) -> ReleaseView:
        if (existing.to_sha, existing.from_sha) != (found.to_sha, found.from_sha):
            raise ConflictError(
                f"release {existing.ref} already exists for "
                f"{existing.from_sha or '(root)'}..{existing.to_sha}",
                hint="give the new candidate another release name",
            )
        return self.show(existing.ref)


def _superseded(conn: Connection, ref: ReleaseRef) -> dict[int, int]:
    """Which of the release's evidence newer evidence supersedes, as the gate reads it."""
    rows = queries.evidence_as_of(conn, ref, _END)
    return superseded(
        [EvidenceFact.decoded(e.seq, e.kind, e.format, e.sha256, e.summary, e.detail) for e in rows]
    )


class _CreatedMeanwhile(Exception):
    """The release was recorded by another run since this one looked: nothing more to do."""

    def __init__(self, release: ReleaseRecord) -> None:
        super().__init__(f"release {release.ref} was created meanwhile")
        self.release = release


def _stop_if_created(uow: UnitOfWork, ref: ReleaseRef) -> None:
    """Raise _CreatedMeanwhile (leaving the unit of work, which then records nothing) when
    the release exists. The unit of work holds the head's lock from its start, so on
    PostgreSQL the look sees every append committed before this one can make its own: two
    runs cannot both miss it."""
    existing = queries.find_release(uow.conn, ref)
    if existing is not None:
        raise _CreatedMeanwhile(existing)


def _record_commits(uow: UnitOfWork, batch: list[Commit], who: ActorId, now: datetime) -> None:
    """Record each commit not recorded yet, or recorded with other facts (ticket patterns)."""
    if not batch:
        return
    recorded = queries.recorded_commit_digests(uow.conn, [c.sha for c in batch])
    for commit in batch:
        payload = CommitRecorded.of(commit)
        digest = recorded.get(commit.sha)
        if digest is None or digest != payload.record_digest():
            uow.record(Event.of(payload, who, now))


def _remote(repo: object) -> str | None:
    """The repository's origin URL: a local path means nothing to an auditor elsewhere."""
    remotes = getattr(repo, "remotes", None)
    try:
        origin = remotes["origin"] if remotes is not None else None
    except (KeyError, ValueError):
        return None
    url = getattr(origin, "url", None)
    if not isinstance(url, str):
        return None
    # https://user:token@host/repo: never let a credential into the ledger.
    parts = urlsplit(url)
    if parts.scheme and "@" in parts.netloc:
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return url


def _range_start(
    from_ref: str | None,
    from_root: bool,
    existing: ReleaseRecord | None,
    previous: ReleaseRecord | None,
) -> tuple[str | None, RangeStart]:
    """Where the range starts and why: as given, else where an existing release of this name
    started (asking again means the range it was made from), else the service's previous
    release's end, else the root."""
    if from_ref is not None:
        return from_ref, RangeStart.GIVEN
    if existing is not None and not from_root:
        return existing.from_sha, RangeStart(existing.from_source)
    if previous is not None and not from_root:
        return previous.to_sha, RangeStart.LAST_CREATED
    return None, RangeStart.ROOT
