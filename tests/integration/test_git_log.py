"""Changed paths from `git log` are libgit2's, whatever the history, configuration or git."""

from __future__ import annotations

import gc
import logging
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changeproof.domain.errors import InputError
from changeproof.domain.releases import Commit
from changeproof.ingest.git import (
    open_repository,
    read_commits,
    read_range,
    resolve_range,
)
from changeproof.ingest.gitlog import logged_changes
from changeproof.ingest.tickets import TicketMatcher, parse_ticket_spec
from tests.integration.gitrepo import GitRepo, every_kind_of_change

MATCHER = TicketMatcher(parse_ticket_spec("jira"))
# What git answers for in every_kind_of_change: plain edits, additions and deletions.
ANSWERED = {
    "PAY-1 root",
    "PAY-2 edit text and binary",
    "PAY-7 delete a folder",
    "PAY-10 copy of an edited file",
    "PAY-11 deletes only",
}


def _read(path: Path, git: str | None = "git") -> list[Commit]:
    repo = open_repository(path)
    return list(read_commits(repo, resolve_range(repo, "main", None), MATCHER, git=git))


def _answered(path: Path) -> set[str]:
    """The subjects of the commits whose paths git log gave."""
    repo = open_repository(path)
    commits = _read(path, git=None)
    logged = logged_changes(
        [c.sha for c in commits],
        git="git",
        git_dir=repo.path,
        work_tree=None if repo.is_bare else repo.workdir,
        copies=False,
    )
    return {c.subject for c, found in zip(commits, logged, strict=True) if found and found.paths}


@pytest.fixture
def history(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    every_kind_of_change(repo)
    return repo


def test_git_answers_for_plain_changes_and_libgit2_for_the_rest(history: GitRepo) -> None:
    assert _answered(history.path) == ANSWERED
    assert _read(history.path) == _read(history.path, git=None)


def _script(tmp_path: Path, name: str, body: str) -> str:
    script = tmp_path / name
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


@pytest.mark.parametrize(
    "body",
    [
        None,  # not installed
        "exit 1",
        "cat >/dev/null; printf 'garbage\\0'",
        'git "$@" | head -c 700',  # stops half-way
        'git "$@" | tail -c +42',  # starts with the wrong commit
    ],
)
def test_a_missing_or_broken_git_changes_nothing(
    history: GitRepo, tmp_path: Path, caplog: pytest.LogCaptureFixture, body: str | None
) -> None:
    git = str(tmp_path / "no-git") if body is None else _script(tmp_path, "git", body)
    with caplog.at_level(logging.WARNING, logger="changeproof.ingest.gitlog"):
        assert _read(history.path, git=git) == _read(history.path, git=None)
    assert "reading changed paths with libgit2" in caplog.text


def test_git_failing_after_printing_all_it_was_asked_for_is_believed(
    history: GitRepo, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    git = _script(tmp_path, "git", 'git "$@"; exit 3')
    assert _read(history.path, git=git) == _read(history.path, git=None)
    assert not caplog.records


def test_leaving_the_read_early_ends_git(history: GitRepo, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    git = _script(tmp_path, "git", f'echo $$ > "{pid_file}"; exec git "$@"')
    repo = open_repository(history.path)
    commits = read_commits(repo, resolve_range(repo, "main", None), MATCHER, git=git)
    next(commits)
    commits.close()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_the_caller_s_environment_and_git_configuration_have_no_say(
    history: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = GitRepo(tmp_path / "elsewhere")
    elsewhere.commit("OPS-1 another history", {"other.txt": "o\n"})
    (tmp_path / "order").write_text("z*\nr*\n")
    for key, value in {
        "diff.external": "/bin/false",
        "diff.orderFile": str(tmp_path / "order"),
        "diff.algorithm": "patience",
        "diff.relative": "true",
        "diff.noprefix": "true",
        "diff.ignoreSubmodules": "all",
        "diff.renames": "true",
        "log.showSignature": "true",
        "log.decorate": "full",
        "color.ui": "always",
        "core.abbrev": "7",
        "core.quotePath": "false",
        "core.bigFileThreshold": "10",  # bytes: every file here would be binary to git
    }.items():
        history.git("config", key, value)
    monkeypatch.setenv("GIT_DIR", str(elsewhere.path / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(elsewhere.path))
    monkeypatch.setenv("GIT_EXTERNAL_DIFF", "/bin/false")
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'diff.renames'='copies'")
    monkeypatch.chdir(elsewhere.path / "")
    assert _answered(history.path) == ANSWERED
    assert _read(history.path) == _read(history.path, git=None)


def test_a_ref_that_reads_as_an_option_is_a_missing_ref(history: GitRepo) -> None:
    repo = open_repository(history.path)
    with pytest.raises(InputError, match="--output=x"):
        read_range(repo, "--output=x", None, MATCHER)


def test_reading_a_long_range_leaves_the_garbage_collector_as_it_found_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "long.git"
    _fast_import(path, [([("M", b"a.txt", "100644", b"%d\n" % n)], False) for n in range(2_100)])
    assert gc.get_freeze_count() == 0
    # Frozen now and then meanwhile, and libgit2's cache emptied once: the same commits.
    assert _read(path) == _read(path, git=None)
    assert gc.get_freeze_count() == 0
    repo = open_repository(path)
    commits = read_commits(repo, resolve_range(repo, "main", None), MATCHER)
    for _ in range(1_500):
        next(commits)
    assert gc.get_freeze_count() > 0
    commits.close()
    assert gc.get_freeze_count() == 0
    gc.freeze()  # as a pre-forking server does: its frozen objects stay frozen
    try:
        frozen = gc.get_freeze_count()
        assert len(_read(path)) == 2_100
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


# -- histories hypothesis builds --------------------------------------------------------------

_PATHS = (
    b"a",
    b"a/b",
    b"a.b",
    b"a-b",
    b"d/e/f.txt",
    b"d/e/g.txt",
    b"sp ace.txt",
    b"tab\tname",
    b"caf\xc3\xa9.txt",
    b"caf\xe9.latin1",
    b"x.bin",
)
_LINES = [f"line {n}\n" for n in range(60)]
_texts = st.one_of(
    st.lists(st.sampled_from(_LINES), max_size=30).map(lambda lines: "".join(lines).encode()),
    st.lists(st.sampled_from(_LINES), min_size=1, max_size=8).map(
        lambda lines: "".join(lines).rstrip("\n").encode()  # no newline at the end
    ),
    st.just(b"one\r\ntwo\r\n"),
    st.binary(max_size=40).map(lambda b: b + b"\0"),  # binary: a NUL
    st.just(b""),
)
_write = st.tuples(
    st.just("M"), st.sampled_from(_PATHS), st.sampled_from(["100644", "100755", "120000"]), _texts
)
_delete = st.tuples(st.just("D"), st.sampled_from(_PATHS))
_rename = st.tuples(st.just("R"), st.sampled_from(_PATHS), st.sampled_from(_PATHS))
_submodule = st.tuples(st.just("S"), st.sampled_from(_PATHS))
# Attributes committed to a bare repository: libgit2 never reads them, nor may git.
_attributes = st.just(("M", b".gitattributes", "100644", b"*.txt -diff\nx.bin diff\n"))
_operation = st.one_of(_write, _write, _write, _delete, _rename, _submodule, _attributes)


def _quoted(path: bytes) -> bytes:
    return b'"' + path.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


class _Tree:
    """The files of the branch being built, as fast-import sees them: a file where a folder
    is wanted (or the reverse) gives way."""

    def __init__(self) -> None:
        self.files: dict[bytes, bytes] = {}

    def put(self, path: bytes) -> None:
        self.drop(path)
        parts = path.split(b"/")
        for end in range(1, len(parts)):
            self.files.pop(b"/".join(parts[:end]), None)
        self.files[path] = path

    def drop(self, path: bytes) -> None:
        self.files.pop(path, None)
        for other in [p for p in self.files if p.startswith(path + b"/")]:
            del self.files[other]


def _stream(operations: list[tuple[object, ...]], tree: _Tree) -> bytes:
    out = bytearray()
    for operation in operations:
        kind, name = operation[0], operation[1]
        assert isinstance(name, bytes)
        if kind == "M":
            mode, content = operation[2], operation[3]
            assert isinstance(mode, str)
            assert isinstance(content, bytes)
            out += b"M %s inline %s\ndata %d\n%s\n" % (
                mode.encode(),
                _quoted(name),
                len(content),
                content,
            )
            tree.put(name)
        elif kind == "D":
            out += b"D %s\n" % _quoted(name)
            tree.drop(name)
        elif kind == "R":
            target = operation[2]
            assert isinstance(target, bytes)
            if name not in tree.files or target == name or target.startswith(name + b"/"):
                continue
            out += b"R %s %s\n" % (_quoted(name), _quoted(target))
            tree.drop(name)
            tree.put(target)
        else:
            out += b"M 160000 %s %s\n" % (b"5" * 40, _quoted(name))
            tree.put(name)
    return bytes(out)


def _fast_import(path: Path, commits: list[tuple[list[tuple[object, ...]], bool]]) -> None:
    """A bare repository holding `commits`: operations, and whether it merges a side branch
    (a commit made on it first, from the commit before)."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(path)], check=True)
    stream = bytearray()
    tree = _Tree()
    for mark, (operations, merges) in enumerate(commits, start=1):
        who = b"Ada <ada@example.com> %d +0100\n" % (1_700_000_000 + mark)
        if merges and mark > 1:
            stream += b"commit refs/heads/side\nmark :%d\ncommitter %s" % (mark + 10_000, who)
            stream += b"data 4\nside\nfrom :%d\n" % (mark - 1)
            stream += b"M 100644 inline side-%d.txt\ndata 2\ns\n\n" % mark
        stream += b"commit refs/heads/main\nmark :%d\ncommitter %s" % (mark, who)
        message = b"PAY-%d" % mark
        stream += b"data %d\n%s\n" % (len(message), message)
        if mark > 1:
            stream += b"from :%d\n" % (mark - 1)
            if merges:
                stream += b"merge :%d\n" % (mark + 10_000)
        stream += _stream(operations, tree) + b"\n"
    stream += b"done\n"
    subprocess.run(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=path,
        input=bytes(stream),
        check=True,
        capture_output=True,
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    commits=st.lists(
        st.tuples(st.lists(_operation, min_size=1, max_size=6), st.booleans()),
        min_size=1,
        max_size=6,
    ),
    renames=st.sampled_from([None, "copies", "false"]),
    attributes=st.sampled_from(["", "*.bin binary\n", "*.txt -diff\n", "x.bin diff\n"]),
)
def test_any_history_reads_as_libgit2_reads_it(
    tmp_path_factory: pytest.TempPathFactory,
    commits: list[tuple[list[tuple[object, ...]], bool]],
    renames: str | None,
    attributes: str,
) -> None:
    path = tmp_path_factory.mktemp("history") / "repo.git"
    _fast_import(path, commits)
    if renames is not None:
        subprocess.run(["git", "-C", str(path), "config", "diff.renames", renames], check=True)
    (path / "info").mkdir(exist_ok=True)
    (path / "info" / "attributes").write_text(attributes)
    assert _read(path) == _read(path, git=None)
