"""How controls name things: commits, lists, counts, and long evidence lists."""

from __future__ import annotations

import pytest

from changeproof.domain.decisions import EvidenceRef
from changeproof.policy.controls.wording import (
    Refs,
    capped,
    commit_label,
    counted,
    each,
    listing,
)
from tests.unit.policy.controls.factsbuilder import commit, sha


def test_a_commit_is_named_by_short_sha_and_subject_cut_to_length() -> None:
    assert commit_label(commit("c1", "Fix it")) == f'{sha("c1")[:7]} "Fix it"'
    long = commit_label(commit("c1", "x" * 100))
    assert long.endswith('x…"')
    assert len(long) == 7 + 2 + 72 + 1


def test_lists_and_counts_read_as_words() -> None:
    assert listing([]) == ""
    assert listing(["a"]) == "a"
    assert listing(["a", "b", "c"]) == "a, b and c"
    assert listing([str(i) for i in range(12)]).endswith(", 9, and 2 more")
    assert counted(1, "commit") == "1 commit"
    assert counted(2, "commit") == "2 commits"
    assert counted(2, "body", "bodies") == "2 bodies"
    assert each(1, "commit") == "the commit"
    assert each(3, "commit") == "each of the 3 commits"


def test_long_evidence_lists_are_capped_and_say_so() -> None:
    refs = capped((EvidenceRef("commit", str(i)) for i in range(7)), limit=5)
    assert [r.ref for r in refs] == ["0", "1", "2", "3", "4", "2"]
    assert refs[-1] == EvidenceRef("omitted", "2", "2 more not listed")


def test_capped_parts_read_as_one_list_and_lazy_refs_are_made_only_when_kept() -> None:
    made: list[int] = []

    def ref(i: int) -> EvidenceRef:
        made.append(i)
        return EvidenceRef("commit", str(i))

    paths = [EvidenceRef("path", "a"), EvidenceRef("path", "b")]
    actors = [EvidenceRef("actor", "x")] * 3
    refs = capped(paths, Refs(range(10), ref), iter(actors), limit=5)
    assert made == [0, 1, 2]
    assert refs == capped([*paths, *(ref(i) for i in range(10)), *actors], limit=5)
    assert refs[-1] == EvidenceRef("omitted", "10", "10 more not listed")


def test_lazy_refs_are_a_sequence() -> None:
    refs = Refs(["a", "b", "c"], lambda s: EvidenceRef("path", s))
    assert len(refs) == 3
    assert refs[1] == EvidenceRef("path", "b")
    assert refs[1:] == (EvidenceRef("path", "b"), EvidenceRef("path", "c"))
    assert list(refs) == [EvidenceRef("path", s) for s in "abc"]
    assert capped(refs) == tuple(refs)


def test_lazy_refs_make_each_reference_once() -> None:
    made: list[str] = []

    def ref(s: str) -> EvidenceRef:
        made.append(s)
        return EvidenceRef("path", s)

    refs = Refs(["a", "b", "c"], ref)
    assert capped(refs, limit=2) == capped(refs, limit=2)
    assert refs[-1] == EvidenceRef("path", "c")
    assert list(refs) == [EvidenceRef("path", s) for s in "abc"]
    assert made == ["a", "b", "c"]
    with pytest.raises(IndexError):
        refs[3]
