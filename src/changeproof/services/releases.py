"""Release use cases: create one from a git range, and show what it holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from changeproof.domain.clock import Clock
from changeproof.domain.errors import ConflictError, NotFoundError
from changeproof.domain.events import ActorId, Event
from changeproof.domain.releases import (
    COMMIT_RECORDED,
    RELEASE_CREATED,
    Commit,
    ReleaseRef,
    record_digest,
)
from changeproof.ingest.git import GitRange, open_repository, read_range
from changeproof.ingest.tickets import TicketMatcher, parse_ticket_spec
from changeproof.store import releases as queries
from changeproof.store.database import Database
from changeproof.store.releases import EvidenceRow, ReleaseRow
from changeproof.store.unit_of_work import UnitOfWork

__all__ = ["ReleaseService", "ReleaseView"]


@dataclass(frozen=True, slots=True)
class ReleaseView:
    release: ReleaseRow
    commits: list[Commit]
    evidence: list[EvidenceRow]
    created: bool = False  # False when `create` found the same release already recorded

    @property
    def tickets(self) -> list[str]:
        return sorted({t.key for c in self.commits for t in c.tickets})

    @property
    def untracked_commits(self) -> list[str]:
        return [c.sha for c in self.commits if not c.tickets]


class ReleaseService:
    def __init__(
        self,
        db: Database,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        tickets: str,
    ) -> None:
        self._db = db
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._tickets = tickets

    def create(
        self,
        ref: ReleaseRef,
        *,
        repository: Path,
        to_ref: str,
        from_ref: str | None,
        actor: str,
        tickets: str | None = None,
    ) -> ReleaseView:
        """Read FROM..TO (FROM defaulting to the service's previous release) and record it."""
        matcher = TicketMatcher(parse_ticket_spec(tickets or self._tickets))
        repo = open_repository(repository)
        with self._db.read() as conn:
            existing = queries.find_release(conn, ref)
            previous = queries.last_release(conn, ref.service) if from_ref is None else None
        from_source = "given" if from_ref is not None else "root"
        start = from_ref
        if previous is not None:
            start, from_source = previous.to_sha, "last-created"
        # Reading git is the slow part: do it before taking the write lock.
        found = read_range(repo, to_ref, start, matcher)
        if existing is not None:
            return self._existing(existing, found)
        now = self._clock.now()
        who = ActorId(actor)
        with self._unit_of_work() as uow:
            if queries.find_release(uow.conn, ref) is not None:
                raise ConflictError(f"release {ref} was created meanwhile by someone else")
            shas = [c.sha for c in found.commits]
            recorded = queries.recorded_commit_digests(uow.conn, shas)
            for commit in found.commits:
                data = commit.to_data()
                if recorded.get(commit.sha) != record_digest(data):
                    uow.record(Event(COMMIT_RECORDED, who, now, data))
            uow.record(
                Event(
                    RELEASE_CREATED,
                    who,
                    now,
                    {
                        "service": ref.service,
                        "name": ref.name,
                        "repository": _remote(repo),
                        "from_ref": from_ref if from_ref is not None else start,
                        "to_ref": to_ref,
                        "from_sha": found.from_sha,
                        "to_sha": found.to_sha,
                        "from_source": from_source,
                        "ancestor": found.ancestor,
                        "commits": shas,
                    },
                )
            )
        view = self.show(ref)
        return ReleaseView(view.release, view.commits, view.evidence, created=True)

    def show(self, ref: ReleaseRef) -> ReleaseView:
        with self._db.read() as conn:
            release = queries.find_release(conn, ref)
            if release is None:
                raise NotFoundError(
                    f"no release {ref}", hint="create it with `changeproof release create`"
                )
            return ReleaseView(
                release, queries.release_commits_of(conn, ref), queries.evidence_for(conn, ref)
            )

    def _existing(self, existing: ReleaseRow, found: GitRange) -> ReleaseView:
        if (existing.to_sha, existing.from_sha) != (found.to_sha, found.from_sha):
            raise ConflictError(
                f"release {existing.ref} already exists for "
                f"{existing.from_sha or '(root)'}..{existing.to_sha}",
                hint="give the new candidate another release name",
            )
        return self.show(existing.ref)


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
