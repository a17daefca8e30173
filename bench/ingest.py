"""Ingest benchmark: `changeproof release create` over a large git history, beside `git log`.

    .venv/bin/python bench/ingest.py [--quick] [--commits N] [--seed S]
                                     [--backend sqlite|postgresql|all] [--postgres-url URL]
                                     [--workdir DIR] [--cache DIR] [--profile DIR]

Builds a history deterministically from a seed with `git fast-import` (no network), cached
under bench/.cache/ keyed by generator version, seed and commit count, then measures in one
run `release create` over the whole history (in-process, through the service the CLI calls)
and `read_range` alone, each beside `git log --numstat` over the same commits. Prints one JSON
object per line on stdout, in bench/ledger.py's form; progress goes to stderr.
docs/benchmarks.md explains each line.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Final

from changeproof.bootstrap import SystemClock, open_instance
from changeproof.domain.releases import Commit, ReleaseRef
from changeproof.ingest.git import open_repository, read_range
from changeproof.ingest.tickets import TicketMatcher, parse_ticket_spec
from changeproof.services.initialize import initialize
from ledger import (
    Line,
    Stopwatch,
    add_store_arguments,
    chosen_backends,
    describe_server,
    fresh_database,
    say,
    within,
)

GENERATOR: Final = 1  # bump whenever the generated history changes: it is part of the cache key
FULL_COMMITS: Final = 100_000
QUICK_COMMITS: Final = 5_000
SEED: Final = 20261125
CACHE: Final = Path(__file__).resolve().parent / ".cache"
TICKETS: Final = "jira,github"
TARGET: Final = 0.5
LOG_FORMAT: Final = "%x1e%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B"
# git as a fresh clone on any machine sees it: no user or system configuration.
GIT_ENV: Final = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "LC_ALL": "C",
}

# The shape of the history.
TEXT_FILES: Final = 3_000  # in the first commit; adds and deletes roughly balance after it
BINARY_FILES: Final = 24
FOLDERS: Final = 400
LINES_MIN, LINES_MAX = 50, 300  # a text file's length stays near this band
FILES_PER_COMMIT: Final = (40, 22, 13, 8, 6, 4, 3, 2, 1, 1)  # weights of touching 1..10 files
CYCLE: Final = (12, 28)  # commits between two merges of a feature branch (the merge included)
REVERT_RATE: Final = 0.007  # of commits made on main directly
UNTRACKED_RATE: Final = 0.05  # commits naming no ticket at all
BASE_TIME: Final = 1_546_300_800  # 2019-01-01T00:00:00Z


# -- the generated history --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str
    zone: str  # fixed UTC offset, +HHMM

    def signature(self, when: int) -> bytes:
        return f"{self.name} <{self.email}> {when} {self.zone}".encode()


AUTHORS: Final = (
    Author("Alice Moreau", "alice.moreau@acme.example", "+0100"),
    Author("Bongani Dlamini", "bongani@acme.example", "+0200"),
    Author("Chen Wei", "chen.wei@acme.example", "+0800"),
    Author("Dana Levi", "dana@acme.example", "+0200"),
    Author("Émile Gagnon", "emile.gagnon@acme.example", "-0500"),
    Author("Farah Haddad", "farah@acme.example", "+0300"),
    Author("Gustavo Lima", "glima@acme.example", "-0300"),
    Author("Hiroshi Tanaka", "h.tanaka@acme.example", "+0900"),
    Author("Ingrid Solberg", "ingrid@acme.example", "+0100"),
    Author("Jamal Carter", "jamal.carter@acme.example", "-0800"),
    Author("Kasia Nowak", "kasia.nowak@acme.example", "+0100"),
    Author("Lakshmi Iyer", "lakshmi@acme.example", "+0530"),
)
AUTHOR_WEIGHTS: Final = (14, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2)
GITHUB: Final = Author("GitHub", "noreply@github.com", "+0000")
PROJECTS: Final = ("PAY", "OPS", "WEB", "CORE", "DATA", "SEC")
PROJECT_WEIGHTS: Final = (40, 20, 15, 12, 8, 5)
TOPS: Final = {
    "services": ".py",
    "libs": ".go",
    "web": ".ts",
    "deploy": ".yaml",
    "docs": ".md",
    "tools": ".sh",
}
VERBS: Final = (
    "Fix", "Add", "Remove", "Refactor", "Update", "Handle", "Guard against", "Speed up",
    "Document", "Simplify", "Rename", "Log", "Retry", "Validate", "Cache", "Test",
)  # fmt: skip
THINGS: Final = (
    "rounding in refunds", "webhook retries", "currency conversion", "login rate limit",
    "ledger export", "invoice footer", "settlement batch timeout", "null merchant id",
    "card range lookup", "audit trail pagination", "stale feature flags", "metrics labels",
    "liveness probe", "flaky payout test", "CSV import encoding", "session expiry",
    "payout scheduling", "dispute evidence upload", "tax report totals", "search indexing",
    "password reset emails", "fraud score threshold", "retry budget", "connection pool size",
    "onboarding checklist", "partner API errors", "chargeback notifications", "cron drift",
)  # fmt: skip
SENTENCES: Final = (
    "The old code path swallowed the error.",
    "Found while looking at last week's incident.",
    "This keeps the behaviour for existing merchants.",
    "No migration needed.",
    "Covered by a new unit test.",
    "The staging numbers look right now.",
    "Follow-up to the review on the previous change.",
    "Measured locally: about twice as fast.",
    "We only hit this with very large batches.",
    "Keeps the public API unchanged.",
)
REASONS: Final = (
    "It broke the nightly build.",
    "Payouts stalled in staging after this.",
    "Rolling back until the data fix is in.",
    "Causes a regression in checkout latency.",
)
DIR_WORDS: Final = (
    "api", "core", "billing", "payments", "ledger", "auth", "users", "reports", "jobs",
    "queue", "storage", "http", "grpc", "models", "views", "handlers", "util", "config",
    "metrics", "search", "risk", "payouts", "invoices", "tax", "notifications", "admin",
    "internal", "client", "server", "schema", "migrations", "fixtures", "integration",
)  # fmt: skip
FILE_WORDS: Final = (
    "service", "handler", "model", "client", "store", "worker", "router", "mapper", "policy",
    "parser", "encoder", "limits", "retry", "events", "cache", "query", "format", "rules",
)  # fmt: skip
CODE_WORDS: Final = (
    "amount", "total", "merchant", "account", "refund", "balance", "request", "result",
    "payload", "status", "limit", "window", "retries", "currency", "ledger", "entry",
)  # fmt: skip


@dataclass(slots=True)
class Shape:
    """What the generator made; the benchmark checks changeproof reads the same."""

    commits: int = 0
    merges: int = 0
    reverts: int = 0
    co_authored: int = 0
    without_ticket: int = 0  # by construction (a merge of a lower-case branch may add more)
    added_files: int = 0
    deleted_files: int = 0
    renamed_files: int = 0
    binary_changes: int = 0
    files_at_head: int = 0
    import_seconds: float = 0.0
    repack_seconds: float = 0.0


class FastImport:
    """A `git fast-import` process fed a stream; `get-mark` answers come back on its stdout."""

    def __init__(self, git_dir: Path, log: IO[bytes]) -> None:
        self._process = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--done"],
            cwd=git_dir,
            env=GIT_ENV,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            bufsize=1 << 20,
        )
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._in, self._out = self._process.stdin, self._process.stdout
        self._tips: dict[str, int] = {}

    def commit(
        self,
        ref: str,
        mark: int,
        author: bytes,
        committer: bytes,
        message: str,
        parents: Sequence[int],
        changes: Sequence[bytes],
    ) -> None:
        write = self._in.write
        text = message.encode()
        write(b"commit %s\nmark :%d\n" % (ref.encode(), mark))
        write(b"author %s\ncommitter %s\ndata %d\n%s\n" % (author, committer, len(text), text))
        if parents and self._tips.get(ref) != parents[0]:
            write(b"from :%d\n" % parents[0])
        for parent in parents[1:]:
            write(b"merge :%d\n" % parent)
        for change in changes:
            write(change)
        self._tips[ref] = mark

    def sha(self, mark: int) -> str:
        """The SHA-1 of a commit written earlier in the stream."""
        self._in.write(b"get-mark :%d\n" % mark)
        self._in.flush()
        answer = self._out.readline().decode().strip()
        if not re.fullmatch(r"[0-9a-f]{40}", answer):
            raise SystemExit(f"git fast-import answered get-mark :{mark} with {answer!r}")
        return answer

    def close(self) -> None:
        self._in.write(b"done\n")
        self._in.close()
        if self._process.wait() != 0:
            raise SystemExit(f"git fast-import exited {self._process.returncode}")


def modify(path: str, content: bytes) -> bytes:
    return b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(content), content)


def text_bytes(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def code_line(rng: random.Random) -> str:
    indent = "    " * rng.randrange(4)
    left, right = rng.choice(CODE_WORDS), rng.choice(CODE_WORDS)
    return f"{indent}{left}_{rng.randrange(1000)} = {right}({rng.randrange(100)})"


def edit(rng: random.Random, lines: list[str]) -> None:
    """A handful of lines rewritten, added or deleted in one to three places."""
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        at = rng.randrange(len(lines) + 1)
        delete = rng.randint(0, 3) if len(lines) > LINES_MIN else 0
        insert = rng.randint(0, 3) if len(lines) < LINES_MAX else 0
        if delete == insert == 0:
            delete, insert = 1, 1
        lines[at : at + delete] = [code_line(rng) for _ in range(insert)]


def jira_key(rng: random.Random) -> str:
    return f"{rng.choices(PROJECTS, PROJECT_WEIGHTS)[0]}-{rng.randint(1, 4000)}"


def ticket(rng: random.Random) -> str | None:
    """The ticket a commit names: mostly Jira, some GitHub issues, a few none at all."""
    draw = rng.random()
    if draw < UNTRACKED_RATE:
        return None
    if draw < UNTRACKED_RATE + 0.2:
        return f"#{rng.randint(1, 9000)}"
    return jira_key(rng)


def describe(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)} {rng.choice(THINGS)}"


def message(rng: random.Random, key: str | None, text: str | None = None) -> str:
    """A commit message naming `key` the way people do (subject or body), or no ticket."""
    text = text or describe(rng)
    body: list[str] = []
    if rng.random() < 0.45:
        body.append(" ".join(rng.sample(SENTENCES, rng.randint(1, 3))))
    subject, style = text, rng.random()
    if key is None:
        pass
    elif key.startswith("#"):
        if style < 0.7:
            subject = f"{text} ({key})"
        else:
            body.append(f"{rng.choice(('Fixes', 'Closes', 'Refs'))} {key}")
    elif style < 0.5:
        subject = f"{key}: {text}"
    elif style < 0.65:
        subject = f"{text} ({key})"
    elif style < 0.75:
        subject = f"[{key}] {text}"
    else:
        body.append(f"{rng.choice(('Refs', 'Closes', 'Part of'))} {key}")
    if key is not None and rng.random() < 0.1:
        body.append(f"See also {jira_key(rng)}.")
    if rng.random() < 0.08:
        helpers = rng.sample(AUTHORS, rng.randint(1, 2))
        body.append("\n".join(f"Co-authored-by: {a.name} <{a.email}>" for a in helpers))
    return "\n\n".join([subject, *body]) + "\n"


@dataclass(eq=False, slots=True)
class Revertible:
    """A recent commit on main that only modified text files, and those files before it."""

    mark: int
    subject: str
    before: dict[str, list[str]]


class History:
    """The files as the generator sees them, and the commits it has streamed so far."""

    def __init__(self, rng: random.Random, out: FastImport) -> None:
        self.rng, self.out = rng, out
        self.shape = Shape()
        self.text: dict[str, list[str]] = {}
        self.binary: dict[str, bytes] = {}
        self.paths: list[str] = []  # the text files, for choosing one uniformly
        self.slot: dict[str, int] = {}  # path -> its index in self.paths
        self.folders: list[str] = list(TOPS)
        self.locked: set[str] = set()  # files a feature branch owns until it is merged
        self.touched: dict[str, int] = {}  # path -> mark of the last commit that changed it
        self.revertible: deque[Revertible] = deque(maxlen=40)
        self.clock = BASE_TIME
        self.marks = 0
        self.main = 0  # mark of main's head
        self.serial = 0  # keeps new file names unique

    # files

    def _add(self, path: str, lines: list[str]) -> None:
        self.text[path] = lines
        self.slot[path] = len(self.paths)
        self.paths.append(path)

    def _drop(self, path: str) -> list[str]:
        index, last = self.slot.pop(path), self.paths.pop()
        if index < len(self.paths):
            self.paths[index] = last
            self.slot[last] = index
        return self.text.pop(path)

    def _new_path(self, folder: str | None = None) -> str:
        folder = folder or self.rng.choice(self.folders)
        self.serial += 1
        extension = TOPS[folder.partition("/")[0]]
        return f"{folder}/{self.rng.choice(FILE_WORDS)}_{self.serial}{extension}"

    def _new_file(self) -> list[str]:
        return [code_line(self.rng) for _ in range(self.rng.randint(LINES_MIN, LINES_MAX))]

    def _pick(self, count: int, taken: Sequence[str] = ()) -> list[str]:
        """`count` distinct text files that no feature branch owns."""
        chosen: list[str] = []
        while len(chosen) < count:
            path = self.rng.choice(self.paths)
            if path not in self.locked and path not in chosen and path not in taken:
                chosen.append(path)
        return chosen

    # commits

    def _commit(
        self,
        ref: str,
        text: str,
        parents: Sequence[int],
        changes: Sequence[bytes],
        author: Author | None = None,
        committer: Author | None = None,
    ) -> int:
        rng = self.rng
        author = author or rng.choices(AUTHORS, AUTHOR_WEIGHTS)[0]
        if committer is None and rng.random() < 0.1:
            committer = rng.choices(AUTHORS, AUTHOR_WEIGHTS)[0]  # applied by someone else
        self.clock += rng.randint(60, 3600)
        authored = self.clock - (rng.randint(0, 86_400) if committer is not None else 0)
        self.marks += 1
        signatures = author.signature(authored), (committer or author).signature(self.clock)
        self.out.commit(ref, self.marks, *signatures, text, parents, changes)
        self.shape.commits += 1
        self.shape.co_authored += "\nCo-authored-by: " in text
        return self.marks

    def root(self) -> None:
        rng = self.rng
        while len(self.folders) < FOLDERS:
            parent = rng.choice(self.folders)
            folder = f"{parent}/{rng.choice(DIR_WORDS)}"
            if parent.count("/") < 4 and folder not in self.folders:
                self.folders.append(folder)
        for _ in range(TEXT_FILES):
            self._add(self._new_path(), self._new_file())
        for n in range(BINARY_FILES):
            self.binary[f"web/assets/image_{n}.png"] = self._image(rng.randint(2_000, 20_000))
        changes = [modify(path, text_bytes(lines)) for path, lines in self.text.items()]
        changes += [modify(path, data) for path, data in self.binary.items()]
        self.main = self._commit("refs/heads/main", "OPS-1: Import the monorepo\n", (), changes)

    def _image(self, size: int) -> bytes:
        return b"\x89PNG\r\n\x1a\n\x00" + self.rng.randbytes(size)

    def main_commit(self) -> None:
        """One commit on main: a revert now and then, else edits and maybe an add, delete,
        rename or binary change."""
        rng, shape = self.rng, self.shape
        if rng.random() < REVERT_RATE and self._revert():
            return
        count = rng.choices(range(1, len(FILES_PER_COMMIT) + 1), FILES_PER_COMMIT)[0]
        changes: list[bytes] = []
        special: list[str] = []  # paths added, deleted, renamed or binary: no revert for this one
        action = rng.random()
        if action < 0.01:
            path = self._new_path()
            self._add(path, self._new_file())
            changes.append(modify(path, text_bytes(self.text[path])))
            special.append(path)
            shape.added_files += 1
        elif action < 0.035 and len(self.paths) > TEXT_FILES // 2:
            (path,) = self._pick(1)
            self._drop(path)
            changes.append(b"D %s\n" % path.encode())
            special.append(path)
            shape.deleted_files += 1
        elif action < 0.05:
            (old,) = self._pick(1)
            folder = old.rpartition("/")[0] if rng.random() < 0.6 else None
            new = self._new_path(folder)
            lines = self._drop(old)
            self._add(new, lines)
            changes.append(b"R %s %s\n" % (old.encode(), new.encode()))
            if rng.random() < 0.5:
                edit(rng, lines)
                changes.append(modify(new, text_bytes(lines)))
            special += [old, new]
            shape.renamed_files += 1
        elif action < 0.06:
            path = rng.choice(sorted(self.binary))
            data = bytearray(self.binary[path])
            at = rng.randrange(9, len(data) - 256)
            data[at : at + 256] = rng.randbytes(256)
            self.binary[path] = bytes(data)
            changes.append(modify(path, self.binary[path]))
            special.append(path)
            shape.binary_changes += 1
        before: dict[str, list[str]] = {}
        for path in self._pick(count - (1 if special else 0), special):
            before[path] = list(self.text[path])
            edit(rng, self.text[path])
            changes.append(modify(path, text_bytes(self.text[path])))
        key = ticket(rng)
        shape.without_ticket += key is None
        text = message(rng, key)
        self.main = self._commit("refs/heads/main", text, [self.main], changes)
        for path in [*special, *before]:
            self.touched[path] = self.main
        if before and not special:
            self.revertible.append(Revertible(self.main, text.partition("\n")[0], before))

    def _revert(self) -> bool:
        """Revert the newest recent commit whose files nobody changed since, as `git revert`."""
        for candidate in reversed(self.revertible):
            if all(
                self.touched.get(path) == candidate.mark
                and path in self.text
                and path not in self.locked
                for path in candidate.before
            ):
                break
        else:
            return False
        self.revertible.remove(candidate)
        changes = []
        for path, lines in candidate.before.items():
            self.text[path] = lines
            changes.append(modify(path, text_bytes(lines)))
        text = (
            f'Revert "{candidate.subject}"\n\nThis reverts commit {self.out.sha(candidate.mark)}.\n'
        )
        if self.rng.random() < 0.5:
            text += f"\n{self.rng.choice(REASONS)}\n"
        self.main = self._commit("refs/heads/main", text, [self.main], changes)
        for path in candidate.before:
            self.touched[path] = self.main
        self.shape.reverts += 1
        return True

    def cycle(self, length: int) -> None:
        """`length` commits: a feature branch forked from main and merged back into it with a
        merge commit (two parents), while main moves on with commits of its own."""
        rng, shape = self.rng, self.shape
        features = rng.randint(2, min(6, length - 2))
        order = ["feature"] * features + ["main"] * (length - features - 1)
        rng.shuffle(order)
        key = jira_key(rng)
        text = describe(rng)
        slug = "-".join(text.lower().split()[:4])
        branch = f"feature/{key.lower() if rng.random() < 0.5 else key}-{slug}"
        owned = self._pick(rng.randint(features, features + 6))
        self.locked.update(owned)
        branch_files = {path: list(self.text[path]) for path in owned}
        added: list[str] = []
        author = rng.choices(AUTHORS, AUTHOR_WEIGHTS)[0]
        head = self.main  # the fork point
        for kind in order:
            if kind == "main":
                self.main_commit()
                continue
            changes = []
            if rng.random() < 0.05:
                path = self._new_path()
                branch_files[path] = self._new_file()
                added.append(path)
                changes.append(modify(path, text_bytes(branch_files[path])))
                shape.added_files += 1
            for path in rng.sample(owned, rng.randint(1, min(3, len(owned)))):
                edit(rng, branch_files[path])
                changes.append(modify(path, text_bytes(branch_files[path])))
            commit_key = key if rng.random() < 0.9 else ticket(rng)
            shape.without_ticket += commit_key is None
            commit_text = message(rng, commit_key, text if commit_key == key else None)
            head = self._commit("refs/heads/topic", commit_text, [head], changes, author)
        # Main never touched the branch's files meanwhile, so the merge is the branch's versions
        # of them on top of main: exactly what `git merge --no-ff` records.
        changed = [p for p, lines in branch_files.items() if p in added or lines != self.text[p]]
        changes = [modify(path, text_bytes(branch_files[path])) for path in changed]
        if rng.random() < 0.3:
            subject = f"Merge pull request #{rng.randint(1, 9000)} from acme/{branch}"
            merger: Author | None = GITHUB
        else:
            subject, merger = f"Merge branch '{branch}'", None
        merge_text = f"{subject}\n\n{key}: {text}\n" if rng.random() < 0.6 else f"{subject}\n"
        self.main = self._commit(
            "refs/heads/main", merge_text, [self.main, head], changes, author, merger
        )
        for path in changed:
            if path in added:
                self._add(path, branch_files[path])
            else:
                self.text[path] = branch_files[path]
            self.touched[path] = self.main
        self.locked.difference_update(owned)
        shape.merges += 1


def generate(out: FastImport, seed: int, commits: int) -> Shape:
    rng = random.Random(seed)  # noqa: S311 - a reproducible history, not secrets
    history = History(rng, out)
    history.root()
    left, report = commits - 1, max(1, commits // 10)
    while left > 0:
        length = min(left, rng.randint(*CYCLE))
        if length < 4:
            for _ in range(length):
                history.main_commit()
        else:
            history.cycle(length)
        left -= length
        if history.shape.commits // report != (history.shape.commits - length) // report:
            say(f"  streamed {history.shape.commits:,} commits")
    history.shape.files_at_head = len(history.text) + len(history.binary)
    return history.shape


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def repository(seed: int, commits: int, cache: Path) -> tuple[Path, Shape]:
    """The history for (seed, commits): from the cache, else built and cached."""
    name = f"history-g{GENERATOR}-seed{seed}-commits{commits}.git"
    repo = cache / name
    info = repo / "bench-shape.json"
    if info.is_file():
        shape = Shape(**json.loads(info.read_text(encoding="utf-8")))
        built = shape.import_seconds + shape.repack_seconds
        say(f"history cached at {repo} (built in {built:.0f}s when it was made)")
        return repo, shape
    shutil.rmtree(repo, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / f"{name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    git("init", "--quiet", "--bare", "--initial-branch=main", str(partial))
    say(f"building {commits:,} commits from seed {seed} with git fast-import")
    started = time.perf_counter()
    with (partial / "fast-import.log").open("wb") as log:
        out = FastImport(partial, log)
        try:
            shape = generate(out, seed, commits)
        finally:
            out.close()
    shape.import_seconds = round(time.perf_counter() - started, 1)
    say(f"  imported in {shape.import_seconds:.0f}s; repacking with gc's window and depth")
    started = time.perf_counter()
    git("update-ref", "-d", "refs/heads/topic", cwd=partial)
    git("repack", "-a", "-d", "-f", "-q", "--window=10", "--depth=50", cwd=partial)
    git("commit-graph", "write", "--reachable", cwd=partial)
    git("pack-refs", "--all", cwd=partial)
    shape.repack_seconds = round(time.perf_counter() - started, 1)
    counted = int(git("rev-list", "--count", "main", cwd=partial))
    merges = int(git("rev-list", "--count", "--merges", "main", cwd=partial))
    if (counted, merges) != (commits, shape.merges):
        raise SystemExit(f"bench bug: built {counted} commits ({merges} merges), not {commits}")
    (partial / "bench-shape.json").write_text(json.dumps(asdict(shape), indent=1) + "\n")
    partial.rename(repo)
    say(
        f"  built in {shape.import_seconds + shape.repack_seconds:.0f}s "
        f"(import {shape.import_seconds:.0f}s, repack {shape.repack_seconds:.0f}s): {shape}"
    )
    return repo, shape


# -- what was read ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Numstat:
    """Totals over a range, the same whether git log printed them or changeproof read them."""

    commits: int
    merges: int
    paths: int
    added: int
    deleted: int
    binary: int


def totals_of(commits: Sequence[Commit]) -> Numstat:
    paths = [p for c in commits for p in c.paths]
    return Numstat(
        commits=len(commits),
        merges=sum(c.merge for c in commits),
        paths=len(paths),
        added=sum(p.added or 0 for p in paths),
        deleted=sum(p.deleted or 0 for p in paths),
        binary=sum(p.added is None for p in paths),
    )


_NUMSTAT: Final = re.compile(rb"^(\d+|-)\t(\d+|-)\t", re.MULTILINE)


def git_log_args(repo: Path) -> list[str]:
    """`git log --numstat` with every field changeproof reads, renames detected, root shown."""
    return ["git", "-C", str(repo), "log", "--numstat", "-M", "--root", f"--format={LOG_FORMAT}"]


def git_log_totals(repo: Path) -> Numstat:
    """`git log`'s own totals, parsed (untimed): what changeproof must read too."""
    output = subprocess.run(
        [*git_log_args(repo), "main"], env=GIT_ENV, check=True, capture_output=True
    ).stdout
    commits = merges = paths = added = deleted = binary = 0
    for record in output.split(b"\x1e")[1:]:
        fields = record.split(b"\x00", 8)
        commits += 1
        merges += b" " in fields[1]
        for plus, minus in _NUMSTAT.findall(fields[8]):
            paths += 1
            if plus == b"-":
                binary += 1
            else:
                added += int(plus)
                deleted += int(minus)
    return Numstat(commits, merges, paths, added, deleted, binary)


def time_git_log(repo: Path, expected: int) -> float:
    """The limit: `git log --numstat` over the range, its output read through a pipe and its
    commits counted. Seconds."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [*git_log_args(repo), "main"], env=GIT_ENV, stdout=subprocess.PIPE, bufsize=0
    )
    assert process.stdout is not None
    count = 0
    while chunk := process.stdout.read(1 << 20):
        count += chunk.count(b"\x1e")
    if process.wait() != 0 or count != expected:
        raise SystemExit(f"git log exited {process.returncode} after {count} commits")
    seconds = time.perf_counter() - started
    say(f"  git log --numstat: {seconds:.1f}s ({expected / seconds:,.0f} commits/s)")
    return seconds


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# -- the phases -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadOnly:
    seconds: float
    totals: Numstat
    untracked: int
    reverts: int
    co_authored: int


def measure_read_only(repo: Path, expected: Numstat, shape: Shape) -> ReadOnly:
    """read_range over the whole history with the ticket matcher `release create` builds."""
    with Stopwatch() as watch:
        matcher = TicketMatcher(parse_ticket_spec(TICKETS))
        found = read_range(open_repository(repo), "main", None, matcher)
    commits = found.commits
    totals = totals_of(commits)
    if totals != expected:
        raise SystemExit(f"changeproof read {totals}, git log printed {expected}")
    reverts = sum(c.reverts is not None for c in commits)
    if reverts != shape.reverts:
        raise SystemExit(f"changeproof found {reverts} reverts, the history has {shape.reverts}")
    result = ReadOnly(
        watch.seconds,
        totals,
        untracked=sum(not c.tickets for c in commits),
        reverts=reverts,
        co_authored=sum(bool(c.co_authors) for c in commits),
    )
    say(f"  read_range: {watch.seconds:.1f}s ({len(commits) / watch.seconds:,.0f} commits/s)")
    return result


@dataclass(frozen=True, slots=True)
class Created:
    backend: str
    seconds: float
    show_seconds: float
    commits: int
    entries: int
    untracked: int
    peak_rss_mb: float  # the process's peak so far, right after this phase


@contextmanager
def profiled(directory: Path | None, label: str) -> Iterator[None]:
    if directory is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{label}.prof"
        profiler.dump_stats(target)
        say(f"  profile written to {target}; the top by own time:")
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(20)


def measure_create(
    backend: str, repo: Path, workdir: Path, postgres_url: str, profile: Path | None
) -> Created:
    """`release create` from the root to main on a fresh instance, as the CLI runs it."""
    home = workdir / f"{backend}-ingest"
    ref = ReleaseRef.of("bench", "r1")
    with fresh_database(backend, postgres_url) as url:
        initialize(
            home,
            database_url=url,
            origin=f"bench.example/ingest-{backend}",
            actor="bench",
            clock=SystemClock(),
        )
        with open_instance(home) as instance:
            before = instance.ledger.size()
            with profiled(profile, f"release_create-{backend}"), Stopwatch() as watch:
                view = instance.releases.create(
                    ref,
                    repository=repo,
                    to_ref="main",
                    from_ref=None,
                    actor="bench",
                    tickets=TICKETS,
                )
            with Stopwatch() as show:
                instance.releases.show(ref)
            entries = instance.ledger.size() - before
    if not view.created or len(view.commits) != view.release.commit_count:
        raise SystemExit(f"bench bug: release create returned {view.release}")
    peak = peak_rss_mb()
    say(
        f"  release create: {watch.seconds:.1f}s "
        f"({view.release.commit_count / watch.seconds:,.0f} commits/s); "
        f"show alone {show.seconds:.1f}s; peak RSS so far {peak:,.0f} MB"
    )
    return Created(
        backend,
        watch.seconds,
        show.seconds,
        view.release.commit_count,
        entries,
        len(view.untracked_commits),
        peak,
    )


def run(
    backends: Sequence[str],
    repo: Path,
    shape: Shape,
    workdir: Path,
    postgres_url: str,
    profile: Path | None,
) -> None:
    say("git log --numstat once, parsed, untimed: the totals changeproof must read too")
    with Stopwatch() as watch:
        expected = git_log_totals(repo)
    say(f"  {expected} in {watch.seconds:.1f}s")
    if expected.commits != shape.commits:
        raise SystemExit(f"git log printed {expected.commits} commits, not {shape.commits}")
    limit_runs = [time_git_log(repo, shape.commits)]
    say("read_range alone (the git-reading part of release create)")
    read = measure_read_only(repo, expected, shape)
    limit_runs.append(time_git_log(repo, shape.commits))
    created = []
    for backend in backends:
        say(f"{backend}: release create over {shape.commits:,} commits on a fresh instance")
        created.append(measure_create(backend, repo, workdir, postgres_url, profile))
        limit_runs.append(time_git_log(repo, shape.commits))
    limit = statistics.median(limit_runs)
    context: dict[str, object] = {
        "commits": shape.commits,
        "merges": shape.merges,
        "limit_s": round(limit, 2),
        "limit_runs": len(limit_runs),
    }
    for done in created:
        Line(
            "release_create",
            "commits/s",
            done.commits / done.seconds,
            shape.commits / limit,
            limit / done.seconds,
            TARGET,
            done.backend,
            {
                **context,
                "via": "service",
                "seconds": round(done.seconds, 2),
                "read_s": round(read.seconds, 2),
                "show_s": round(done.show_seconds, 2),
                "ledger_entries": done.entries,
                "untracked": done.untracked,
                "peak_rss_mb": round(done.peak_rss_mb),
            },
        ).emit()
    Line(
        "release_create_read_only",
        "commits/s",
        shape.commits / read.seconds,
        shape.commits / limit,
        limit / read.seconds,
        TARGET,
        "none",
        {
            **context,
            "seconds": round(read.seconds, 2),
            "paths": read.totals.paths,
            "untracked": read.untracked,
            "reverts": read.reverts,
            "co_authored": read.co_authored,
        },
    ).emit()


# -- the run ----------------------------------------------------------------------------------


def add_history_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags bench/ingest.py and bench/gate.py share: the generated history and where
    it is measured."""
    parser.add_argument("--seed", type=int, default=SEED, help=f"default {SEED}")
    add_store_arguments(
        parser, backend_help="default: sqlite, and postgresql too when --postgres-url is given"
    )
    parser.add_argument(
        "--cache", type=Path, default=CACHE, help="where built histories are kept (bench/.cache)"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Ingest benchmark: JSON lines on stdout, progress on stderr."
    )
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_COMMITS:,} commits, for a smoke run"
    )
    parser.add_argument(
        "--commits", type=int, help=f"commits in the history (default {FULL_COMMITS:,})"
    )
    add_history_arguments(parser)
    parser.add_argument(
        "--profile",
        type=Path,
        help="write a cProfile of each release create to this folder (slows the figure)",
    )
    args = parser.parse_args(argv)
    if args.commits is not None and args.commits < 10:
        parser.error("--commits must be at least 10")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    commits = args.commits or (QUICK_COMMITS if args.quick else FULL_COMMITS)
    backends, postgres_url = chosen_backends(args, default="auto")
    say(f"ingest: {commits:,} commits, seed {args.seed}, backends {', '.join(backends)}")
    say(f"{git('--version')}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if "postgresql" in backends:
        say(f"PostgreSQL {describe_server(postgres_url)}")
    started = time.perf_counter()
    repo, shape = repository(args.seed, commits, args.cache)
    within(
        args.workdir,
        lambda workdir: run(backends, repo, shape, workdir, postgres_url, args.profile),
        prefix="changeproof-ingest-",
    )
    say(f"all done in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
