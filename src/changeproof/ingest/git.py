"""Reading a commit range from git with libgit2 (pygit2), never by scraping `git` output.

`read_range(repo, to, from)` is what git means by FROM..TO: commits reachable from TO and
not from FROM, oldest first. Per commit: parents, author, committer, Co-authored-by
trailers, subject and message, tickets, reverted commit, and changed paths with added and
deleted lines against the first parent, renames detected as `git log` does by default.
Merge commits list no paths, as `git log --numstat` prints none for them: what a merge
brings in is the commits it merges, which are in the range themselves.

`resolve_range` then `read_commits` do the same in two steps, for a caller that records
commits while later ones are still being read.

Changed paths are found by walking only the subtrees whose ids differ between the parent's
tree and the commit's (libgit2's tree diff expands every subtree, changed or not), and each
changed file's lines are counted with a blob-to-blob patch. Whenever rename detection could
matter (a commit both adds and deletes files, or `diff.renames` asks for copies) or a change
is anything but a file edited, added or deleted (a type or mode change, a submodule), the
commit is read with libgit2's tree diff and `find_similar` instead, as it always was: both
give the same paths, order and counts. Large ranges have their paths read by worker
processes, each with the repository open on its own, while this one reads the rest.
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Final

import pygit2

from changeproof.domain.errors import InputError
from changeproof.domain.releases import Commit, Identity, PathChange, Person
from changeproof.ingest.tickets import TicketMatcher

__all__ = [
    "GitRange",
    "RangeEnds",
    "changed_paths",
    "open_repository",
    "read_commits",
    "read_range",
    "resolve",
    "resolve_range",
]

_CO_AUTHOR: Final = re.compile(r"^co-authored-by:\s*(.*?)\s*<([^<>]*)>\s*$", re.IGNORECASE | re.M)
_REVERTS: Final = re.compile(r"This reverts commit ([0-9a-f]{7,40})")
_LINK: Final = pygit2.enums.FileMode.LINK

# A worker takes ~0.2 s to start and read its first task: below this many commits (~1 s of
# reading) one process is about as fast, and simpler.
PARALLEL_MIN: Final = 2_000
_MAX_WORKERS: Final = 2  # measured on 2 cores; this process still reads commits and records
_TASK: Final = 200  # commits per task handed to a worker: ~9 KB of SHAs on its pipe
_AHEAD: Final = 50  # tasks workers may read ahead of the commit asked for: 10,000 commits


@dataclass(frozen=True, slots=True)
class GitRange:
    to_sha: str
    from_sha: str | None
    ancestor: bool  # FROM is an ancestor of TO: the range is a plain line of history
    commits: tuple[Commit, ...]


@dataclass(frozen=True, slots=True)
class RangeEnds:
    """FROM..TO resolved: its ends, and the ids of its commits, oldest first."""

    to_sha: str
    from_sha: str | None
    ancestor: bool
    ids: tuple[pygit2.Oid, ...]


def open_repository(path: Path) -> pygit2.Repository:
    """A working tree (or any folder in it) or a bare repository."""
    try:
        found = pygit2.discover_repository(str(path))
    except pygit2.GitError as e:  # an unreadable folder
        raise InputError(f"{path}: {e}") from e
    if found is None:
        raise InputError(f"{path} is not a git repository (nor inside one)")
    try:
        return pygit2.Repository(found)
    except pygit2.GitError as e:
        raise InputError(f"cannot open the git repository at {path}: {e}") from e


def resolve(repo: pygit2.Repository, ref: str) -> pygit2.Commit:
    try:
        target = repo.revparse_single(ref)
        commit = target.peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError) as e:
        where = repo.workdir or repo.path
        raise InputError(f"ref {ref!r} does not name a commit in {where}") from e
    assert isinstance(commit, pygit2.Commit)
    return commit


def read_range(
    repo: pygit2.Repository, to_ref: str, from_ref: str | None, tickets: TicketMatcher
) -> GitRange:
    ends = resolve_range(repo, to_ref, from_ref)
    return GitRange(
        to_sha=ends.to_sha,
        from_sha=ends.from_sha,
        ancestor=ends.ancestor,
        commits=tuple(read_commits(repo, ends, tickets)),
    )


def resolve_range(repo: pygit2.Repository, to_ref: str, from_ref: str | None) -> RangeEnds:
    to = resolve(repo, to_ref)
    start = resolve(repo, from_ref) if from_ref is not None else None
    walker = repo.walk(to.id, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
    ancestor = True
    if start is not None:
        walker.hide(start.id)
        ancestor = start.id == to.id or repo.descendant_of(to.id, start.id)
    return RangeEnds(
        to_sha=str(to.id),
        from_sha=None if start is None else str(start.id),
        ancestor=ancestor,
        ids=tuple(commit.id for commit in walker),
    )


def read_commits(
    repo: pygit2.Repository,
    ends: RangeEnds,
    tickets: TicketMatcher,
    *,
    workers: int | None = None,
) -> Iterator[Commit]:
    """The range's commits, oldest first. `workers` (default: up to 2 for ranges of at least
    PARALLEL_MIN commits, else none) is how many processes read changed paths."""
    fast = _renames_only(repo)
    if workers is None:
        workers = min(_MAX_WORKERS, _cpus()) if len(ends.ids) >= PARALLEL_MIN else 0
        workers = workers if workers >= 2 else 0  # one core: a worker only adds its start-up
    if workers < 1:
        for oid in ends.ids:
            commit = _lookup(repo, oid)
            yield _commit(commit, changed_paths(commit, fast), tickets)
        return
    yield from _read_in_workers(repo, ends.ids, tickets, fast, workers)


def _lookup(repo: pygit2.Repository, oid: pygit2.Oid | str) -> pygit2.Commit:
    commit = repo[oid]
    assert isinstance(commit, pygit2.Commit)  # the walk yields commits only
    return commit


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _read_in_workers(
    repo: pygit2.Repository,
    ids: Sequence[pygit2.Oid],
    tickets: TicketMatcher,
    fast: bool,
    workers: int,
) -> Iterator[Commit]:
    """Paths read by worker processes, everything else here, in the range's order.

    Workers stay at most _AHEAD tasks ahead of the commit asked for, so they keep working
    while the caller records earlier commits. A task no worker could read (it failed, or no
    worker is left) is read here: slower, never stuck, and a git error is raised here.
    """
    tasks = [
        [str(oid) for oid in ids[start : start + _TASK]] for start in range(0, len(ids), _TASK)
    ]
    pool = _Workers.start(os.path.abspath(repo.path), fast, workers, tasks)
    try:
        for number, shas in enumerate(tasks):
            commits = [_lookup(repo, sha) for sha in shas]
            found = None if pool is None else pool.take(number)
            if found is None or len(found) != len(commits):
                for commit in commits:
                    yield _commit(commit, changed_paths(commit, fast), tickets)
                continue
            for commit, paths in zip(commits, found, strict=True):
                yield _commit(commit, tuple(PathChange(*p) for p in paths), tickets)
    finally:
        if pool is not None:
            pool.close()


# A task's answer: per commit, its changed paths as PathChange fields.
_Answer = list[list[tuple[str, int | None, int | None, str | None]]]
# The folder holding the changeproof package: a worker started there imports this very copy.
_SOURCE_ROOT: Final = str(Path(__file__).resolve().parents[2])


class _Workers:
    """`changeproof.ingest.gitworker` processes, each fed by a thread of this process.

    A feeder claims the next task, keeps two on its worker's stdin pipe (a few KB: the pipes
    never fill both ways) and files the answers by task number for `take`.
    """

    def __init__(self, tasks: Sequence[Sequence[str]]) -> None:
        self._tasks = tasks
        self._answers: dict[int, _Answer | None] = {}
        self._changed = threading.Condition()
        self._claimed = 0  # tasks handed to a worker so far
        self._wanted = 0  # the task `take` waits for
        self._feeding = 0  # feeders still running
        self._closed = False
        self._processes: list[subprocess.Popen[bytes]] = []
        self._feeders: list[threading.Thread] = []

    @classmethod
    def start(
        cls, repository: str, fast: bool, count: int, tasks: Sequence[Sequence[str]]
    ) -> _Workers | None:
        if not sys.executable:
            return None
        command = [sys.executable, "-m", "changeproof.ingest.gitworker", repository]
        command.append("fast" if fast else "exact")
        pool = cls(tasks)
        try:
            for _ in range(count):
                pool._processes.append(
                    subprocess.Popen(  # noqa: S603 - this interpreter, our own module
                        command,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        cwd=_SOURCE_ROOT,
                        start_new_session=True,  # Ctrl-C stops us; we then end the workers
                    )
                )
        except OSError:
            pool.close()
            return None
        pool._feeding = len(pool._processes)
        for process in pool._processes:
            feeder = threading.Thread(target=pool._feed, args=(process,), daemon=True)
            pool._feeders.append(feeder)
            feeder.start()
        return pool

    def take(self, number: int) -> _Answer | None:
        """Task `number`'s answer: None when it is for this process to read."""
        with self._changed:
            self._wanted = number
            self._changed.notify_all()
            while number not in self._answers:
                if number >= self._claimed and self._feeding == 0:
                    return None  # no worker left to read it
                self._changed.wait()
            return self._answers.pop(number)

    def close(self) -> None:
        """End the workers: each exits at the end of its tasks' pipe, after at most the two
        tasks it holds; one still running a second later is killed (it only reads)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        for process in self._processes:
            if process.stdin is not None:
                with suppress(OSError, ValueError):  # ValueError: a feeder closed it first
                    process.stdin.close()
        for process in self._processes:
            try:
                process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for feeder in self._feeders:
            feeder.join()
        for process in self._processes:
            if process.stdout is not None:
                with suppress(OSError):
                    process.stdout.close()

    def _claim(self, wait: bool) -> int | None:
        """The next task for a feeder; None when none is left or it would have to wait while
        it has answers to collect (`wait` False)."""
        with self._changed:
            while True:
                if self._closed or self._claimed >= len(self._tasks):
                    return None
                if self._claimed < self._wanted + _AHEAD:
                    self._claimed += 1
                    return self._claimed - 1
                if not wait:
                    return None
                self._changed.wait()

    def _file(self, number: int, answer: _Answer | None) -> None:
        with self._changed:
            self._answers[number] = answer
            self._changed.notify_all()

    def _feed(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None
        assert process.stdout is not None
        queued: deque[int] = deque()
        try:
            while True:
                number = self._claim(wait=not queued)
                if number is not None:
                    queued.append(number)
                    pickle.dump(self._tasks[number], process.stdin, pickle.HIGHEST_PROTOCOL)
                    process.stdin.flush()
                    if len(queued) < 2:
                        continue
                if not queued:
                    return
                answer: _Answer | None = pickle.load(process.stdout)  # noqa: S301 - our worker
                self._file(queued.popleft(), answer)
        except BaseException:  # the worker is gone, or was ended: the reader reads these itself
            for number in queued:
                self._file(number, None)
        finally:
            with self._changed:
                self._feeding -= 1
                self._changed.notify_all()


def _commit(commit: pygit2.Commit, paths: tuple[PathChange, ...], tickets: TicketMatcher) -> Commit:
    message = commit.message
    subject, _, body = message.partition("\n")
    body = body.strip("\n")
    reverts = _REVERTS.search(body)
    return Commit(
        sha=str(commit.id),
        parents=tuple(str(p) for p in commit.parent_ids),
        author=_person(commit.author),
        committer=_person(commit.committer),
        co_authors=tuple(Identity(name, email) for name, email in _CO_AUTHOR.findall(message)),
        subject=subject.strip(),
        message=message,
        paths=paths,
        tickets=tickets.find(subject, body),
        reverts=reverts.group(1) if reverts else None,
    )


def _person(signature: pygit2.Signature) -> Person:
    zone = _zone(signature.offset)
    moment = datetime.fromtimestamp(signature.time, UTC).astimezone(zone)
    return Person(signature.name, signature.email, moment.isoformat())


@lru_cache(maxsize=256)
def _zone(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))


def _renames_only(repo: pygit2.Repository) -> bool:
    """Whether rename detection here pairs only deleted with added files, as by default.

    `find_similar` follows `diff.renames`: "copies" (or "copy") also pairs added files with
    modified ones, and then every commit is read with the tree diff.
    """
    try:
        value = repo.config["diff.renames"]
    except KeyError:
        return True
    except (ValueError, pygit2.GitError):
        return False
    return not isinstance(value, str) or value.lower() not in ("copies", "copy")


class _Fallback(Exception):
    """The commit holds a change only the tree diff reports exactly."""


_Change = tuple[str, pygit2.Blob | None, pygit2.Blob | None]  # path, before, after


def changed_paths(commit: pygit2.Commit, fast: bool) -> tuple[PathChange, ...]:
    """What `commit` changed against its first parent. `fast`: walk the changed subtrees
    whenever that gives the tree diff's answer (`_renames_only` says when it may)."""
    if len(commit.parent_ids) > 1:
        return ()
    if fast:
        walked = _walked_paths(commit)
        if walked is not None:
            return walked
    return _diffed_paths(commit)


def _diffed_paths(commit: pygit2.Commit) -> tuple[PathChange, ...]:
    """libgit2's tree diff with rename detection: exact for every kind of change."""
    parent_tree = commit.parents[0].tree if commit.parent_ids else None
    if parent_tree is None:
        diff = commit.tree.diff_to_tree(swap=True, context_lines=0)
    else:
        diff = parent_tree.diff_to_tree(commit.tree, context_lines=0)
    diff.find_similar()
    changes = []
    for patch in diff:
        if patch is None:
            continue
        delta = patch.delta
        renamed = delta.status == pygit2.enums.DeltaStatus.RENAMED
        if delta.is_binary:
            added = deleted = None
        else:
            _, added, deleted = patch.line_stats
        changes.append(
            PathChange(
                path=delta.new_file.path,
                added=added,
                deleted=deleted,
                old_path=delta.old_file.path if renamed else None,
            )
        )
    return tuple(changes)


def _walked_paths(commit: pygit2.Commit) -> tuple[PathChange, ...] | None:
    """The changed files from the subtrees that differ; None when the tree diff must decide."""
    found: list[_Change] = []
    try:
        if commit.parent_ids:
            _changed(commit.parents[0].tree, commit.tree, "", found)
        else:
            _every_file(commit.tree, "", found, added=True)
    except _Fallback:
        return None
    if any(before is None for _, before, _ in found) and any(
        after is None for _, _, after in found
    ):
        return None  # files both added and deleted: find_similar may pair them as renames
    # libgit2 lists deltas by path, bytewise: for text that is code point order.
    found.sort(key=lambda change: change[0])
    changes = []
    for path, before, after in found:
        try:
            if before is None:
                # Added: the reverse of deleting it. libgit2 takes the path's attributes
                # (binary, -diff) from the old side, so the blob goes there.
                assert after is not None
                patch = pygit2.Patch.create_from(after, None, path, path, context_lines=0)
            else:
                patch = pygit2.Patch.create_from(before, after, path, path, context_lines=0)
        except UnicodeEncodeError:  # a file name that is not UTF-8
            return None
        if patch.delta.is_binary:
            added = deleted = None
        else:
            _, added, deleted = patch.line_stats
            if before is None:
                added, deleted = deleted, added
        changes.append(PathChange(path=path, added=added, deleted=deleted))
    return tuple(changes)


def _changed(before: pygit2.Tree, after: pygit2.Tree, prefix: str, found: list[_Change]) -> None:
    """Append the files that differ between two trees, descending only into changed subtrees."""
    old = {entry.name: entry for entry in before}
    for entry in after:
        name = entry.name
        assert name is not None  # entries read from a tree are named
        was = old.pop(name, None)
        if was is None:
            _added_or_deleted(entry, prefix + name, found, added=True)
        elif was.id == entry.id:
            # Same content; a mode change (chmod +x, a file turned symlink) is a delta too.
            if not isinstance(entry, pygit2.Tree) and was.filemode != entry.filemode:
                raise _Fallback
        elif isinstance(entry, pygit2.Tree) and isinstance(was, pygit2.Tree):
            _changed(was, entry, f"{prefix}{name}/", found)
        elif (
            isinstance(entry, pygit2.Blob)
            and isinstance(was, pygit2.Blob)
            and (entry.filemode == _LINK) == (was.filemode == _LINK)
        ):
            found.append((prefix + name, was, entry))
        else:
            raise _Fallback  # a file turned folder or symlink, a submodule
    for gone, was in old.items():
        assert gone is not None
        _added_or_deleted(was, prefix + gone, found, added=False)


def _added_or_deleted(entry: pygit2.Object, path: str, found: list[_Change], added: bool) -> None:
    if isinstance(entry, pygit2.Tree):
        _every_file(entry, path + "/", found, added=added)
    elif isinstance(entry, pygit2.Blob):
        found.append((path, None, entry) if added else (path, entry, None))
    else:
        raise _Fallback  # a submodule


def _every_file(tree: pygit2.Tree, prefix: str, found: list[_Change], added: bool) -> None:
    for entry in tree:
        name = entry.name
        assert name is not None
        _added_or_deleted(entry, prefix + name, found, added=added)
