"""Reading a commit range from git: libgit2 (pygit2) for refs, the walk and commit facts,
`git log` for most changed paths.

`read_range(repo, to, from)` is what git means by FROM..TO: commits reachable from TO and
not from FROM, oldest first. Per commit: parents, author, committer, Co-authored-by
trailers, subject and message, tickets, reverted commit, and changed paths with added and
deleted lines against the first parent, renames detected as `git log` does by default.
Merge commits list no paths, as `git log --numstat` prints none for them: what a merge
brings in is the commits it merges, which are in the range themselves.

`resolve_range` then `read_commits` do the same in two steps, for a caller that records
commits while later ones are still being read.

Refs are resolved to commit ids here, before git runs: git is handed ids, never user text.
`git log --raw --numstat` (`changeproof.ingest.gitlog`) computes the diffs in its own
process while this one records. Its answer is taken where it is libgit2's answer by
construction: files edited, added or deleted, and no rename (or copy) detection to make.
Every other commit is read here with libgit2, as it always was, and so is every commit when
git cannot be run or its output is not what was asked for.

libgit2's reading of a commit walks only the subtrees whose ids differ between the parent's
tree and the commit's (libgit2's tree diff expands every subtree, changed or not), and counts
each changed file's lines with a blob-to-blob patch. Whenever rename detection could matter
(a commit both adds and deletes files, or `diff.renames` asks for copies) or a change is
anything but a file edited, added or deleted (a type or mode change, a submodule), the
commit is read with libgit2's tree diff and `find_similar` instead: both give the same
paths, order and counts.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Generator, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Final

import pygit2

from changeproof.domain.errors import InputError
from changeproof.domain.releases import Commit, Identity, PathChange, Person
from changeproof.ingest.gitlog import LoggedCommit, logged_changes
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
_FREEZE_EVERY: Final = 1_000  # commits read between two gc.freeze() calls (see _long_lived)
_FREE_EVERY: Final = 2_000  # commits read between two emptyings of libgit2's object cache


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
    git: str | None = "git",
) -> Generator[Commit, None, None]:
    """The range's commits, oldest first. Changed paths are what `git log` (run as `git`)
    prints wherever that is libgit2's answer too, else libgit2's (`git` None: always)."""
    fast = _renames_only(repo)
    shas = [str(oid) for oid in ends.ids]
    logged = _logged(repo, shas, git, copies=not fast)
    # A handle of our own, its object cache emptied now and then: libgit2 caches every
    # commit and tree read, up to 256 MB, and none is read twice here.
    reader = pygit2.Repository(repo.path)
    with closing(logged), _long_lived() as freeze:
        for n, (oid, sha, found) in enumerate(zip(ends.ids, shas, logged, strict=True), 1):
            if n % _FREE_EVERY == 0:
                reader.free()  # the cache; files are opened again as needed
            commit = _lookup(reader, oid)
            parents = tuple(str(p) for p in commit.parent_ids)
            if len(parents) > 1:
                paths: tuple[PathChange, ...] = ()  # as `git log --numstat` prints none
            elif found is None:  # git did not answer: the walk is the fast way
                paths = changed_paths(commit, fast)
            elif found.paths is not None and found.parents == parents:
                paths = found.paths
            else:  # renames to detect, or a change only the tree diff reads: skip the walk
                paths = _diffed_paths(commit)
            if freeze and n % _FREEZE_EVERY == 0:
                gc.freeze()
            yield _commit(commit, sha, parents, paths, tickets)


@contextmanager
def _long_lived() -> Iterator[bool]:
    """Whether to gc.freeze() what is alive now and then while the range is read.

    Callers keep the commits read (release create: until the release is recorded), ten
    objects or so each, while they allocate freely, and each full collection of the cyclic
    garbage collector would scan them all again: 4.4 s of 22 over 100,000 commits. Frozen,
    they are left out of collections until the range is read. Objects are freed by
    reference counting as ever; only cyclic garbage made meanwhile waits for the end. Not
    done when the program froze objects itself (a pre-forking server does): its choice.
    """
    ours = gc.isenabled() and gc.get_freeze_count() == 0
    try:
        yield ours
    finally:
        if ours:
            gc.unfreeze()


def _logged(
    repo: pygit2.Repository, shas: list[str], git: str | None, copies: bool
) -> Generator[LoggedCommit | None, None, None]:
    if git is None:
        yield from (None for _ in shas)
        return
    yield from logged_changes(
        shas,
        git=git,
        git_dir=os.path.abspath(repo.path),
        work_tree=None if repo.is_bare else os.path.abspath(repo.workdir),
        copies=copies,
    )


def _lookup(repo: pygit2.Repository, oid: pygit2.Oid | str) -> pygit2.Commit:
    commit = repo[oid]
    assert isinstance(commit, pygit2.Commit)  # the walk yields commits only
    return commit


def _commit(
    commit: pygit2.Commit,
    sha: str,
    parents: tuple[str, ...],
    paths: tuple[PathChange, ...],
    tickets: TicketMatcher,
) -> Commit:
    message = commit.message
    subject, _, body = message.partition("\n")
    body = body.strip("\n")
    reverts = _REVERTS.search(body)
    return Commit(
        sha=sha,
        parents=parents,
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
