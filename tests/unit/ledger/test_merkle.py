from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from changeproof.ledger import (
    CompactRange,
    MemoryHashSource,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaves,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.unit.ledger import naive


def _data(n: int) -> list[bytes]:
    return [f"entry-{i}".encode() for i in range(n)]


def _tree(data: list[bytes]) -> MemoryHashSource:
    return MemoryHashSource(leaf_hash(d) for d in data)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(min_value=1, max_value=300))
    return size, draw(st.integers(min_value=0, max_value=size - 1))


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    new = draw(st.integers(min_value=0, max_value=300))
    return draw(st.integers(min_value=0, max_value=new)), new


@given(st.integers(min_value=0, max_value=600))
def test_root_equals_naive_mth_at_every_size(size: int) -> None:
    data = _data(size)
    source = _tree(data)
    assert source.root() == naive.mth(data)
    assert root_hash(source, size) == naive.mth(data)


@given(tree_and_index())
@settings(max_examples=300)
def test_inclusion_proof_equals_naive_path_and_verifies(case: tuple[int, int]) -> None:
    size, index = case
    data = _data(size)
    proof = inclusion_proof(_tree(data), index, size)
    assert proof == naive.path(index, data)
    verify_inclusion(leaf_hash(data[index]), index, size, proof, naive.mth(data))


@given(tree_and_index(), st.integers(min_value=0, max_value=31))
def test_inclusion_rejects_a_flipped_bit(case: tuple[int, int], byte: int) -> None:
    size, index = case
    data = _data(size)
    proof = inclusion_proof(_tree(data), index, size)
    root = bytearray(naive.mth(data))
    root[byte] ^= 1
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(data[index]), index, size, proof, bytes(root))
    if proof:
        bad = [*proof]
        bad[0] = bytes(32)
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash(data[index]), index, size, bad, naive.mth(data))


@given(two_sizes())
@settings(max_examples=300)
def test_consistency_proof_equals_naive_and_verifies(sizes: tuple[int, int]) -> None:
    old, new = sizes
    data = _data(new)
    proof = consistency_proof(_tree(data), old, new)
    assert proof == naive.consistency(old, data)
    verify_consistency(old, new, naive.mth(data[:old]), naive.mth(data), proof)


@given(two_sizes())
def test_consistency_rejects_a_rewritten_history(sizes: tuple[int, int]) -> None:
    old, new = sizes
    if old == 0:
        return
    data = _data(new)
    forked = [*data[: old - 1], b"rewritten", *data[old:]]
    proof = consistency_proof(_tree(data), old, new)
    with pytest.raises(ProofError):
        verify_consistency(old, new, naive.mth(forked[:old]), naive.mth(data), proof)


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=12))
def test_compact_range_any_split_gives_same_root(chunks: list[int]) -> None:
    data = _data(sum(chunks))
    tree = CompactRange()
    at = 0
    for n in chunks:
        tree.extend(leaf_hash(d) for d in data[at : at + n])
        at += n
        reloaded = CompactRange.load(_tree(data[:at]), at)
        assert reloaded.root() == tree.root() == naive.mth(data[:at])


@given(
    st.integers(min_value=0, max_value=300),
    st.lists(st.integers(min_value=0, max_value=90), max_size=6),
)
def test_batched_extend_completes_the_same_subtrees_as_one_leaf_at_a_time(
    before: int, batches: list[int]
) -> None:
    data = _data(before + sum(batches))
    one_by_one, batched = CompactRange(), CompactRange()
    singles: list[tuple[int, int, bytes]] = []
    for d in data[:before]:
        singles.extend(one_by_one.extend([leaf_hash(d)]))
    grouped = batched.extend(leaf_hash(d) for d in data[:before])
    at = before
    for n in batches:
        for d in data[at : at + n]:
            singles.extend(one_by_one.extend([leaf_hash(d)]))
        grouped.extend(batched.extend(leaf_hash(d) for d in data[at : at + n]))
        at += n
        assert batched.root() == one_by_one.root() == naive.mth(data[:at])
    assert sorted(grouped) == sorted(singles)


@st.composite
def tree_and_leaves(draw: st.DrawFn) -> tuple[int, list[int]]:
    size = draw(st.integers(min_value=1, max_value=300))
    return size, draw(st.lists(st.integers(0, size - 1), max_size=40, unique=True))


@settings(max_examples=200)
@given(tree_and_leaves())
def test_a_root_from_some_leaves_is_the_root(case: tuple[int, list[int]]) -> None:
    size, indexes = case
    data = _data(size)
    tree = _tree(data)
    leaves = {i: leaf_hash(data[i]) for i in indexes}
    assert root_from_leaves(tree, size, leaves) == tree.root()


@settings(max_examples=100)
@given(tree_and_leaves(), st.integers(0, 31))
def test_a_root_from_one_altered_leaf_is_another_root(
    case: tuple[int, list[int]], byte: int
) -> None:
    size, indexes = case
    if not indexes:
        return
    data = _data(size)
    tree = _tree(data)
    leaves = {i: leaf_hash(data[i]) for i in indexes}
    altered = bytearray(leaves[indexes[0]])
    altered[byte] ^= 1
    leaves[indexes[0]] = bytes(altered)
    assert root_from_leaves(tree, size, leaves) != tree.root()


def test_a_leaf_outside_the_tree_is_refused() -> None:
    tree = _tree(_data(4))
    with pytest.raises(ProofError, match="leaf 4 is not in a tree of size 4"):
        root_from_leaves(tree, 4, {4: b"\0" * 32})
