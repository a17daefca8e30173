"""The parser of `git log --raw --numstat -z` output: what it takes from git, and what not."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.releases import PathChange
from changeproof.ingest.errors import ReadError
from changeproof.ingest.gitlog import LoggedCommit, LogParser


def _sha(seed: str) -> str:
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()


A, B, C = _sha("a"), _sha("b"), _sha("c")
OID = _sha("blob")
ZERO = "0" * 40


@dataclass(frozen=True)
class Entry:
    status: str  # A, D, M, T or R (a rename names two paths)
    old_mode: str
    new_mode: str
    path: bytes
    counts: tuple[str, str]  # as numstat prints them: digits or "-"
    old_path: bytes | None = None  # a rename's source


def _render(commits: list[tuple[str, tuple[str, ...], list[Entry]]]) -> bytes:
    """Output as `git log -z --raw --numstat --format=%H%x00%P` prints it."""
    out = bytearray()
    for sha, parents, entries in commits:
        out += f"{sha}\0{' '.join(parents)}\0".encode()
        if entries:
            out += b"\n"
        for e in entries:
            old = ZERO if e.status == "A" else OID
            new = ZERO if e.status == "D" else OID
            score = "100" if e.status == "R" else ""
            out += f":{e.old_mode} {e.new_mode} {old} {new} {e.status}{score}\0".encode()
            out += (e.old_path + b"\0" if e.old_path is not None else b"") + e.path + b"\0"
        for e in entries:
            out += f"{e.counts[0]}\t{e.counts[1]}\t".encode()
            if e.old_path is not None:
                out += b"\0" + e.old_path + b"\0" + e.path + b"\0"
            else:
                out += e.path + b"\0"
    return bytes(out)


def _parse(data: bytes, cuts: list[int] | None = None, copies: bool = False) -> list[LoggedCommit]:
    parser = LogParser(copies=copies)
    found: list[LoggedCommit] = []
    start = 0
    for cut in sorted(cuts or []):
        found += parser.feed(data[start:cut])
        start = max(start, cut)
    found += parser.feed(data[start:])
    return found + parser.close()


def _file(status: str, path: bytes, counts: tuple[str, str] = ("1", "0")) -> Entry:
    old, new = {"A": ("000000", "100644"), "D": ("100644", "000000")}.get(
        status, ("100644", "100644")
    )
    return Entry(status, old, new, path, counts)


def test_a_root_an_edit_an_empty_commit_and_a_merge() -> None:
    data = _render(
        [
            (A, (), [_file("A", b"z.txt", ("2", "0")), _file("A", b"a b.png", ("-", "-"))]),
            (B, (A,), [_file("M", b"z.txt", ("1", "1")), _file("D", b"a b.png", ("-", "-"))]),
            (C, (B,), []),
            (_sha("merge"), (C, A), []),
        ]
    )
    assert _parse(data) == [
        LoggedCommit(A, (), (PathChange("a b.png", None, None), PathChange("z.txt", 2, 0))),
        LoggedCommit(B, (A,), (PathChange("a b.png", None, None), PathChange("z.txt", 1, 1))),
        LoggedCommit(C, (B,), ()),
        LoggedCommit(_sha("merge"), (C, A), ()),
    ]


@pytest.mark.parametrize(
    ("entries", "copies"),
    [
        ([_file("A", b"new"), _file("D", b"old")], False),  # rename detection decides
        ([_file("A", b"new"), _file("M", b"edited")], True),  # copy detection decides
        ([Entry("M", "100644", "100755", b"run.sh", ("0", "0"))], False),
        ([Entry("T", "100644", "120000", b"link", ("1", "1"))], False),
        ([Entry("A", "000000", "120000", b"link", ("1", "0"))], False),
        ([Entry("M", "160000", "160000", b"sub", ("1", "1"))], False),
        ([Entry("R", "100644", "100644", b"to", ("0", "0"), old_path=b"from")], False),
        ([_file("M", b"caf\xe9.txt")], False),  # not UTF-8: libgit2 names it its own way
    ],
)
def test_what_only_libgit2_answers_exactly_is_left_to_it(
    entries: list[Entry], copies: bool
) -> None:
    (found,) = _parse(_render([(A, (), entries)]), copies=copies)
    assert found == LoggedCommit(A, (), None)


def test_without_copies_an_addition_beside_an_edit_is_git_s_answer() -> None:
    (found,) = _parse(_render([(A, (), [_file("A", b"new"), _file("M", b"edited")])]))
    assert found.paths == (PathChange("edited", 1, 0), PathChange("new", 1, 0))


def test_odd_paths_are_read_whole() -> None:
    odd = [b"tab\there", b"new\nline", b":colon", b"\nleading", A.encode(), b"- dash", b"\xc3\xa9"]
    (found,) = _parse(_render([(A, (), [_file("A", path) for path in odd])]))
    assert found.paths is not None
    assert sorted(p.path for p in found.paths) == sorted(p.decode() for p in odd)


@pytest.mark.parametrize(
    "data",
    [
        b"not a sha\0\0",
        f"{A}\0{B}  {C}\0".encode(),  # a parent list with an empty id
        f"{A}\0\0\n:100644 100644 {OID} {OID} M\0x\01\t1\ty\0".encode(),  # paths differ
        f"{A}\0\0\n:100644 100644 {OID} {OID} M\0x\01\t-\tx\0".encode(),  # half binary
        f"{A}\0\0\n:100644 100644 {OID} {OID} M\0x\0one\t1\tx\0".encode(),
        f"{A}\0\0\n:100644 100644 {OID} {OID} M\0x\0{B}\0\0".encode(),  # no numstat
        f"{A}\0\0\nthe log message\0".encode(),
        f"{A}\0\0\n:100644 100644 {OID} {OID} M\0x\0".encode(),  # ends inside the commit
        f"{A}\0".encode(),
        f"{A}\0\0trailing".encode(),
    ],
)
def test_output_not_as_asked_is_a_read_error(data: bytes) -> None:
    with pytest.raises(ReadError) as caught:
        _parse(data)
    assert caught.value.source == "git log"


_paths = st.sampled_from(
    [b"a.txt", b"dir/b.md", b"tab\tname", b"line\nbreak", b":x", b"\xff\xfe", A.encode(), b"-"]
)
_counts = st.sampled_from([("0", "0"), ("1", "0"), ("12", "345"), ("-", "-")])


@st.composite
def _entry(draw: st.DrawFn) -> Entry:
    status = draw(st.sampled_from("ADMTR"))
    modes = draw(st.sampled_from(["100644", "100755", "120000", "160000"]))
    old, new = {"A": ("000000", modes), "D": (modes, "000000")}.get(status, (modes, modes))
    if status == "T":
        new = "120000"
    old_path = draw(_paths) if status == "R" else None
    return Entry(status, old, new, draw(_paths), draw(_counts), old_path)


@st.composite
def _history(draw: st.DrawFn) -> list[tuple[str, tuple[str, ...], list[Entry]]]:
    commits = []
    for n in range(draw(st.integers(0, 5))):
        parents = tuple(_sha(f"p{n}{k}") for k in range(draw(st.integers(0, 2))))
        entries = draw(st.lists(_entry(), max_size=4, unique_by=lambda e: e.path))
        commits.append((_sha(str(n)), parents, entries))
    return commits


def _expected(entries: list[Entry], copies: bool) -> tuple[PathChange, ...] | None:
    """The rule, restated: regular files edited, added or deleted, no pairing to make."""
    regular = {"100644", "100755"}
    kinds = set()
    changes = []
    for e in entries:
        if e.status == "M" and e.old_mode == e.new_mode in regular:
            kinds.add("M")
        elif e.status in "AD" and {e.old_mode, e.new_mode} - {"000000"} <= regular:
            kinds.add(e.status)
        else:
            return None
        try:
            path = e.path.decode()
        except UnicodeDecodeError:
            return None
        binary = e.counts[0] == "-"
        changes.append(
            PathChange(path, *(None, None) if binary else (int(e.counts[0]), int(e.counts[1])))
        )
    if "A" in kinds and ("D" in kinds or (copies and "M" in kinds)):
        return None
    return tuple(sorted(changes, key=lambda c: c.path))


@given(_history(), st.lists(st.integers(0, 2_000), max_size=6), st.booleans())
def test_what_git_prints_is_read_however_it_is_cut(
    history: list[tuple[str, tuple[str, ...], list[Entry]]], cuts: list[int], copies: bool
) -> None:
    found = _parse(_render(history), cuts, copies)
    assert found == [
        LoggedCommit(sha, parents, _expected(entries, copies)) for sha, parents, entries in history
    ]


def _outcome(data: bytes, cuts: list[int] | None = None) -> None:
    """A result, or ReadError: never another exception."""
    try:
        result = _parse(data, cuts)
    except ReadError:
        return
    assert all(isinstance(commit, LoggedCommit) for commit in result)


@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=4))
def test_fuzz_arbitrary_bytes(data: bytes, cuts: list[int]) -> None:
    _outcome(data, cuts)


@given(_history(), st.integers(min_value=0))
def test_fuzz_truncated_output(
    history: list[tuple[str, tuple[str, ...], list[Entry]]], cut: int
) -> None:
    data = _render(history)
    _outcome(data[: cut % (len(data) + 1)])


@given(
    _history(),
    st.lists(st.tuples(st.integers(min_value=0), st.binary(max_size=3)), min_size=1, max_size=4),
)
def test_fuzz_mutated_output(
    history: list[tuple[str, tuple[str, ...], list[Entry]]], edits: list[tuple[int, bytes]]
) -> None:
    data = bytearray(_render(history))
    for at, replacement in edits:
        at %= len(data) + 1
        data[at : at + len(replacement)] = replacement
    _outcome(bytes(data))
