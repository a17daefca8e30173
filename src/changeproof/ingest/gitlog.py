"""Changed paths and line counts as `git log --raw --numstat -z` prints them, streamed.

git computes each commit's diff in C in its own process while this one reads and records
what it printed, so the two overlap on two cores. Its answer for a commit is used only where
it is provably the answer of libgit2's tree diff (`changeproof.ingest.git.changed_paths`):

- every change is a regular file added, deleted or edited in place (no mode or type change,
  no symlink, no submodule), under a UTF-8 path;
- the commit does not both add and delete files: only then could rename detection pair them,
  and git's similarity scores are not libgit2's. With `diff.renames=copies`, a commit that
  adds and edits files is left to libgit2 too, since it may pair those as copies.

Anything else is `LoggedCommit.paths` None: the caller reads that commit with libgit2. git
runs with renames off (both sides of a rename are seen, so the rule above applies), and with
every option that could change what it prints or how it counts lines pinned on the command
line, whatever the user's configuration says. It is given commit ids on stdin, never refs.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import IO, Final

from changeproof.domain.releases import PathChange
from changeproof.ingest.errors import ReadError

__all__ = ["LogParser", "LoggedCommit", "logged_changes"]

_log = logging.getLogger(__name__)

SOURCE: Final = "git log"  # how a ReadError names what it could not read
_HEX: Final = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")  # SHA-1 or SHA-256
_COUNT: Final = re.compile(rb"[0-9]+|-")
_RAW: Final = re.compile(rb":([0-7]{6}) ([0-7]{6}) ([0-9a-f]+) ([0-9a-f]+) ([A-Z])([0-9]*)")
_FILE_MODES: Final = frozenset((b"100644", b"100755"))  # a regular file, executable or not
_NO_FILE: Final = b"000000"
_TWO_PATHS: Final = frozenset((b"R", b"C"))  # a rename or copy names both paths

# Every option that changes what is printed or how lines are counted, pinned: a user's
# diff.renames, diff.algorithm, diff.external, diff.orderFile, diff.relative,
# diff.ignoreSubmodules, core.bigFileThreshold, log.showSignature, color.ui or core.abbrev
# has no say.
LOG_ARGUMENTS: Final = (
    "log",
    "--no-walk=unsorted",  # exactly the commits given, in the order given
    "--stdin",
    "-z",
    "--raw",
    "--numstat",
    "--no-renames",
    "--root",
    "--no-abbrev",
    "--format=%H%x00%P",
    "--diff-algorithm=myers",  # libgit2's; the count of changed lines depends on it
    "--no-ext-diff",
    "--no-textconv",
    "--ignore-submodules=none",
    "-O/dev/null",  # no diff.orderFile
    "--no-color",
    "--no-show-signature",
    "--no-notes",
)
_CONFIG: Final = (
    "-c",
    "diff.relative=false",  # no command-line switch before git 2.28
    "-c",
    "core.bigFileThreshold=512m",  # larger blobs count as binary: libgit2's fixed limit
)

_EMPTY_TREES: Final = {  # by the length of an id: SHA-1, SHA-256
    40: "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
    64: "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321",
}

# Output read ahead of the caller: git keeps computing while this process records a batch.
_AHEAD_BYTES: Final = 16 << 20  # ~6 s of git's output: more than recording a batch takes
_READ: Final = 1 << 16  # a pipe's capacity: larger reads only leave half-empty buffers behind


@dataclass(frozen=True, slots=True)
class LoggedCommit:
    sha: str
    parents: tuple[str, ...]  # as git saw them: the caller checks they are libgit2's too
    paths: tuple[PathChange, ...] | None  # None: only libgit2's tree diff says it exactly


class LogParser:
    """`git log` output as `LOG_ARGUMENTS` print it, fed in chunks of any size.

    Each commit is `SHA NUL PARENTS NUL`, then, if it changed anything, a newline, its raw
    entries (`:MODE MODE OID OID STATUS NUL PATH NUL`, two paths for a rename or copy) and as
    many numstat entries (`ADDED TAB DELETED TAB PATH NUL`, or `… TAB NUL OLD NUL NEW NUL`
    for a rename), paths naming the same files in the same order. Anything else is a
    ReadError.
    """

    def __init__(self, *, copies: bool = False) -> None:
        self._copies = copies  # diff.renames=copies: an edit can be the source of an addition
        self._tokens: list[bytes] = []  # NUL-terminated fields not yet parsed
        self._tail = b""  # the start of a field whose NUL has not come yet

    def feed(self, chunk: bytes) -> list[LoggedCommit]:
        """The commits completed by `chunk`."""
        if not chunk:
            return []
        fields = (self._tail + chunk).split(b"\0")
        self._tail = fields.pop()
        if self._tokens:
            fields[:0] = self._tokens
        found, used = self._parse(fields, final=False)
        self._tokens = fields[used:]
        return found

    def close(self) -> list[LoggedCommit]:
        """The last commits; a ReadError if the output stopped inside one."""
        if self._tail:
            raise ReadError(SOURCE, "the output ends inside a field")
        found, used = self._parse(self._tokens, final=True)
        if used != len(self._tokens):
            raise ReadError(SOURCE, "the output ends inside a commit")
        self._tokens = []
        return found

    def _parse(self, fields: list[bytes], final: bool) -> tuple[list[LoggedCommit], int]:
        found: list[LoggedCommit] = []
        at = 0
        while at < len(fields):
            parsed = self._commit(fields, at, final)
            if parsed is None:
                break
            commit, at = parsed
            found.append(commit)
        return found, at

    def _commit(self, fields: list[bytes], at: int, final: bool) -> tuple[LoggedCommit, int] | None:
        """The commit starting at `fields[at]` and where the next starts; None if incomplete."""
        end = len(fields)
        # Without a diff, a commit ends where the next begins: one field more must be seen.
        if at + 2 > end or (at + 2 == end and not final):
            return None
        sha, parents = _sha(fields[at]), _parents(fields[at + 1])
        at += 2
        if at == end or fields[at][:1] != b"\n":
            return LoggedCommit(sha, parents, ()), at
        raw: list[tuple[bytes, bytes, bytes, bytes, bytes]] = []  # modes, status, paths
        field = fields[at][1:]
        while True:
            match = _RAW.fullmatch(field)
            if match is None:
                raise ReadError(SOURCE, f"commit {sha}: {_show(field)} is not a raw diff entry")
            old_mode, new_mode, _, _, status, _ = match.groups()
            named = 2 if status in _TWO_PATHS else 1
            if at + 1 + named >= end:
                return None  # its paths, or the numstat entries after them, are still to come
            old_path = fields[at + 1]
            new_path = fields[at + named]
            raw.append((old_mode, new_mode, status, old_path, new_path))
            at += 1 + named
            field = fields[at]
            if field[:1] != b":":
                break
        counts: list[tuple[bytes, bytes]] = []
        for _, _, status, old_path, new_path in raw:
            if at >= end:
                return None
            added, tab, rest = fields[at].partition(b"\t")
            deleted, tab2, path = rest.partition(b"\t")
            at += 1
            if not (tab and tab2 and _COUNT.fullmatch(added) and _COUNT.fullmatch(deleted)):
                raise ReadError(SOURCE, f"commit {sha}: {_show(fields[at - 1])} is no numstat")
            if (added == b"-") != (deleted == b"-"):
                raise ReadError(SOURCE, f"commit {sha}: {_show(fields[at - 1])} is half binary")
            if path:
                same = status not in _TWO_PATHS and path == new_path
            else:  # a rename: both paths follow, each a field of its own
                if at + 2 > end:
                    return None
                same = (fields[at], fields[at + 1]) == (old_path, new_path)
                at += 2
            if not same:
                raise ReadError(SOURCE, f"commit {sha}: raw and numstat entries differ")
            counts.append((added, deleted))
        return LoggedCommit(sha, parents, self._paths(raw, counts)), at

    def _paths(
        self,
        raw: list[tuple[bytes, bytes, bytes, bytes, bytes]],
        counts: list[tuple[bytes, bytes]],
    ) -> tuple[PathChange, ...] | None:
        adds = deletes = edits = False
        changes: list[PathChange] = []
        for (old_mode, new_mode, status, _, path), (added, deleted) in zip(
            raw, counts, strict=True
        ):
            if status == b"M" and old_mode == new_mode and new_mode in _FILE_MODES:
                edits = True
            elif status == b"A" and old_mode == _NO_FILE and new_mode in _FILE_MODES:
                adds = True
            elif status == b"D" and old_mode in _FILE_MODES and new_mode == _NO_FILE:
                deletes = True
            else:
                return None  # a mode or type change, a symlink, a submodule, a rename
            try:
                text = path.decode("utf-8")
            except UnicodeDecodeError:
                return None  # libgit2 says how it names such a file
            if added == b"-":
                changes.append(PathChange(text, None, None))
            else:
                changes.append(PathChange(text, int(added), int(deleted)))
        if adds and (deletes or (self._copies and edits)):
            return None  # libgit2's rename (or copy) detection decides
        # git prints paths in tree order, which for full paths is bytewise: sorting is a
        # check, not a change, and makes the order libgit2's whatever git's version.
        changes.sort(key=_path_of)
        return tuple(changes)


def _path_of(change: PathChange) -> str:
    return change.path


def _sha(field: bytes) -> str:
    if _HEX.fullmatch(field) is None:
        raise ReadError(SOURCE, f"{_show(field)} is not a commit id")
    return field.decode("ascii")


def _parents(field: bytes) -> tuple[str, ...]:
    return tuple(_sha(parent) for parent in field.split(b" ")) if field else ()


def _show(field: bytes) -> str:
    return repr(field[:60])


def logged_changes(
    shas: Sequence[str],
    *,
    git: str,
    git_dir: str,
    work_tree: str | None,
    copies: bool,
) -> Iterator[LoggedCommit | None]:
    """What `git log` says each of `shas` changed, in order: one item per commit, None for
    each commit git could not answer for (it is missing or failed, or printed what was not
    asked for; a warning says which). Ending the iteration early ends git too."""
    if not shas:
        return
    stream = _Stream.start(git, git_dir, work_tree, shas)
    if stream is None:
        yield from (None for _ in shas)
        return
    parser = LogParser(copies=copies)
    pending: deque[LoggedCommit] = deque()
    done = 0
    try:
        while done < len(shas):
            if not pending:
                chunk = stream.take()
                found = parser.feed(chunk) if chunk else parser.close()
                pending.extend(found)
                if not chunk and not pending:
                    raise ReadError(SOURCE, f"the output stops after {done} of {len(shas)}")
                continue
            commit = pending.popleft()
            if commit.sha != shas[done]:
                raise ReadError(SOURCE, f"commit {commit.sha} printed where {shas[done]} was due")
            done += 1
            yield commit
    except ReadError as e:
        _log.warning(
            "reading changed paths with libgit2 from commit %d of %d on: %s%s",
            done + 1,
            len(shas),
            e,
            stream.diagnosis(),
        )
        yield from (None for _ in shas[done:])
    finally:
        stream.close()


class _Stream:
    """A `git log` process, given the commit ids on stdin, its output read ahead by a thread
    so that git keeps running while the caller is busy, up to _AHEAD_BYTES."""

    def __init__(self, process: subprocess.Popen[bytes], errors: IO[bytes]) -> None:
        self._process = process
        self._errors = errors
        self._chunks: deque[bytes] = deque()
        self._held = 0  # bytes in _chunks
        self._changed = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    @classmethod
    def start(
        cls, git: str, git_dir: str, work_tree: str | None, shas: Sequence[str]
    ) -> _Stream | None:
        command = [git, "--no-pager", "--no-replace-objects", f"--git-dir={git_dir}"]
        if work_tree is not None:
            command.append(f"--work-tree={work_tree}")
        elif (empty := _EMPTY_TREES.get(len(shas[0]))) is not None:
            # libgit2 reads no .gitattributes from the commits of a bare repository; git may
            # read HEAD's (2.43 does) unless attr.tree names another tree. Versions older
            # than the setting ignore it.
            command += ["-c", f"attr.tree={empty}"]
        command += [*_CONFIG, *LOG_ARGUMENTS]
        # Nothing from the caller's environment chooses another repository, configuration,
        # object store or attribute source for git than the one libgit2 opened.
        environment = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        errors = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the stream
        try:
            process = subprocess.Popen(  # noqa: S603 - ids on stdin, no user text as arguments
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                cwd=work_tree or git_dir,
                env=environment,
            )
        except OSError as e:
            errors.close()
            _log.warning("reading changed paths with libgit2: cannot run %s: %s", git, e)
            return None
        stream = cls(process, errors)
        stream._thread = threading.Thread(target=stream._pump, args=(shas,), daemon=True)
        stream._thread.start()
        return stream

    def take(self) -> bytes:
        """The next chunk of output; b"" at its end."""
        with self._changed:
            while not self._chunks:
                self._changed.wait()
            chunk = self._chunks.popleft()
            self._held -= len(chunk)
            self._changed.notify_all()
            return chunk

    def diagnosis(self) -> str:
        """What git said on stderr, if it has ended."""
        if self._process.poll() is None:
            return ""
        self._errors.seek(0)
        said = self._errors.read(2_000).decode("utf-8", "replace").strip()
        return f" (git exited {self._process.returncode}{': ' + said if said else ''})"

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        if self._process.poll() is None:
            self._process.kill()  # it only reads: nothing is left half-written
        self._process.wait()
        if self._thread is not None:
            self._thread.join()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None:
                with suppress(OSError):
                    pipe.close()
        self._errors.close()

    def _pump(self, shas: Sequence[str]) -> None:
        """Hand git the ids (it reads them all before printing), then read what it prints."""
        process = self._process
        assert process.stdin is not None
        assert process.stdout is not None
        chunk = b"-"
        try:
            with suppress(OSError):  # git ended early: what it printed says why
                process.stdin.write("".join(f"{sha}\n" for sha in shas).encode("ascii"))
            with suppress(OSError):
                process.stdin.close()
            source = process.stdout.fileno()
            while chunk:
                try:
                    chunk = os.read(source, _READ)
                except OSError:
                    chunk = b""
                with self._changed:
                    while self._held > _AHEAD_BYTES and not self._closed:
                        self._changed.wait()
                    if self._closed:
                        return
                    self._chunks.append(chunk)
                    self._held += len(chunk)
                    self._changed.notify_all()
        finally:
            if chunk:  # stopped before the end: the reader is never left waiting
                with self._changed:
                    self._chunks.append(b"")
                    self._changed.notify_all()
