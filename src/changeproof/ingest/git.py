"""Reading a commit range from git with libgit2 (pygit2), never by scraping `git` output.

`read_range(repo, to, from)` is what git means by FROM..TO: commits reachable from TO and
not from FROM, oldest first. Per commit: parents, author, committer, Co-authored-by
trailers, subject and message, tickets, reverted commit, and changed paths with added and
deleted lines against the first parent, renames detected as `git log` does by default.
Merge commits list no paths, as `git log --numstat` prints none for them: what a merge
brings in is the commits it merges, which are in the range themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Final

import pygit2

from changeproof.domain.errors import InputError
from changeproof.domain.releases import Commit, Identity, PathChange, Person
from changeproof.ingest.tickets import TicketMatcher

__all__ = ["GitRange", "open_repository", "read_range", "resolve"]

_CO_AUTHOR: Final = re.compile(r"^co-authored-by:\s*(.*?)\s*<([^<>]*)>\s*$", re.IGNORECASE | re.M)
_REVERTS: Final = re.compile(r"This reverts commit ([0-9a-f]{7,40})")


@dataclass(frozen=True, slots=True)
class GitRange:
    to_sha: str
    from_sha: str | None
    ancestor: bool  # FROM is an ancestor of TO: the range is a plain line of history
    commits: tuple[Commit, ...]


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
    to = resolve(repo, to_ref)
    start = resolve(repo, from_ref) if from_ref is not None else None
    walker = repo.walk(to.id, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
    ancestor = True
    if start is not None:
        walker.hide(start.id)
        ancestor = start.id == to.id or repo.descendant_of(to.id, start.id)
    commits = tuple(_read_commits(repo, walker, tickets))
    return GitRange(
        to_sha=str(to.id),
        from_sha=None if start is None else str(start.id),
        ancestor=ancestor,
        commits=commits,
    )


def _read_commits(
    repo: pygit2.Repository, walker: pygit2.Walker, tickets: TicketMatcher
) -> Iterator[Commit]:
    for commit in walker:
        message = commit.message
        subject, _, body = message.partition("\n")
        body = body.strip("\n")
        reverts = _REVERTS.search(body)
        yield Commit(
            sha=str(commit.id),
            parents=tuple(str(p) for p in commit.parent_ids),
            author=_person(commit.author),
            committer=_person(commit.committer),
            co_authors=tuple(Identity(name, email) for name, email in _CO_AUTHOR.findall(message)),
            subject=subject.strip(),
            message=message,
            paths=_paths(repo, commit),
            tickets=tickets.find(subject, body),
            reverts=reverts.group(1) if reverts else None,
        )


def _person(signature: pygit2.Signature) -> Person:
    zone = timezone(timedelta(minutes=signature.offset))
    moment = datetime.fromtimestamp(signature.time, UTC).astimezone(zone)
    return Person(signature.name, signature.email, moment.isoformat())


def _paths(repo: pygit2.Repository, commit: pygit2.Commit) -> tuple[PathChange, ...]:
    if len(commit.parent_ids) > 1:
        return ()
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
