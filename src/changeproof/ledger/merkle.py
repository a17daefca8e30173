"""RFC 9162 Merkle tree hashing, proofs and their verification.

Trees are addressed by *full subtrees* `(height, index)`: the subtree of height h at
index i covers leaves ``[i * 2**h, (i + 1) * 2**h)``. A store keeps the leaf hashes
(height 0) and every full subtree whose height is a multiple of `STORED_HEIGHT_STEP`;
any other hash is recomputed from at most ``2**(STORED_HEIGHT_STEP - 1)`` stored ones, so
a proof reads O(log n) stored hashes while the store holds about n/15 extra rows.

Proof functions first work out which stored hashes they need, ask the `HashSource` for
all of them at once (one round trip for a database), then compute.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Final, Protocol

from changeproof.ledger.errors import MissingNodeError, ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "STORED_HEIGHT_STEP",
    "CompactRange",
    "HashSource",
    "MemoryHashSource",
    "Subtree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaves",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32
STORED_HEIGHT_STEP: Final = 4
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

Subtree = tuple[int, int]
"""A full subtree as (height, index)."""
Range = tuple[int, int]
"""Leaves [start, end) as they appear in RFC 9162's recursive definitions."""


def leaf_hash(body: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + body).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class HashSource(Protocol):
    """Where stored hashes come from: leaf hashes (height 0) and stored full subtrees."""

    def stored_hashes(self, keys: Collection[Subtree]) -> Mapping[Subtree, bytes]:
        """Return the hash of every key; raise MissingNodeError for one that is absent."""
        ...


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _decompose(start: int, end: int) -> list[Subtree]:
    """[start, end) as consecutive full subtrees, largest first (start aligned to the largest)."""
    pieces: list[Subtree] = []
    at = start
    for height in range((end - start).bit_length() - 1, -1, -1):
        if (end - start) >> height & 1:
            pieces.append((height, at >> height))
            at += 1 << height
    return pieces


def _stored_pieces(height: int, index: int) -> list[Subtree]:
    below = height % STORED_HEIGHT_STEP
    base = height - below
    first = index << below
    return [(base, first + k) for k in range(1 << below)]


def _full_hash(height: int, index: int, stored: Mapping[Subtree, bytes]) -> bytes:
    if height % STORED_HEIGHT_STEP == 0:
        return stored[(height, index)]
    return node_hash(
        _full_hash(height - 1, 2 * index, stored), _full_hash(height - 1, 2 * index + 1, stored)
    )


def _range_hash(start: int, end: int, stored: Mapping[Subtree, bytes]) -> bytes:
    if start == end:
        return EMPTY_ROOT
    hashes = [_full_hash(h, i, stored) for h, i in _decompose(start, end)]
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _hash_ranges(source: HashSource, ranges: Sequence[Range]) -> list[bytes]:
    keys = {
        piece
        for start, end in ranges
        for height, index in _decompose(start, end)
        for piece in _stored_pieces(height, index)
    }
    stored = source.stored_hashes(keys)
    return [_range_hash(start, end, stored) for start, end in ranges]


def _inclusion_ranges(index: int, start: int, end: int) -> list[Range]:
    """RFC 9162 §2.1.3.1 PATH(m, D[start:end]) as the ranges whose hashes form it, bottom up."""
    if end - start == 1:
        return []
    k = _split(end - start)
    if index - start < k:
        return [*_inclusion_ranges(index, start, start + k), (start + k, end)]
    return [*_inclusion_ranges(index, start + k, end), (start, start + k)]


def _consistency_ranges(old: int, start: int, end: int, complete: bool) -> list[Range]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:end], b) as ranges."""
    if old == end - start:
        return [] if complete else [(start, end)]
    k = _split(end - start)
    if old <= k:
        return [*_consistency_ranges(old, start, start + k, complete), (start + k, end)]
    return [*_consistency_ranges(old - k, start + k, end, False), (start, start + k)]


def root_hash(source: HashSource, size: int) -> bytes:
    return _hash_ranges(source, [(0, size)])[0]


def root_from_leaves(source: HashSource, size: int, leaves: Mapping[int, bytes]) -> bytes:
    """The root of a tree of `size` leaves, computed from `leaves` (index to leaf hash, as
    re-hashed from their bodies) and the stored hashes of every range that holds none of
    them: many inclusion proofs at once, each stored hash read once (one round trip).

    Equal to the signed root only when every given leaf is the one the tree holds at its
    index, whatever the store says its leaf hash is.
    """
    wanted = sorted(leaves)
    if wanted and not (wanted[0] >= 0 and wanted[-1] < size):
        bad = wanted[0] if wanted[0] < 0 else wanted[-1]
        raise ProofError(f"leaf {bad} is not in a tree of size {size}")
    opaque: list[Range] = []

    def plan(start: int, end: int, lo: int, hi: int) -> None:
        """Note the ranges under [start, end) holding none of wanted[lo:hi]."""
        if lo == hi:
            opaque.append((start, end))
        elif end - start > 1:
            middle = start + _split(end - start)
            cut = bisect_left(wanted, middle, lo, hi)
            plan(start, middle, lo, cut)
            plan(middle, end, cut, hi)

    def compute(start: int, end: int, lo: int, hi: int) -> bytes:
        if lo == hi:
            return known[(start, end)]
        if end - start == 1:
            return leaves[start]
        middle = start + _split(end - start)
        cut = bisect_left(wanted, middle, lo, hi)
        return node_hash(compute(start, middle, lo, cut), compute(middle, end, cut, hi))

    if size == 0:
        return EMPTY_ROOT
    plan(0, size, 0, len(wanted))
    known = dict(zip(opaque, _hash_ranges(source, opaque), strict=True))
    return compute(0, size, 0, len(wanted))


def inclusion_proof(source: HashSource, index: int, size: int) -> list[bytes]:
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    return _hash_ranges(source, _inclusion_ranges(index, 0, size))


def consistency_proof(source: HashSource, old_size: int, new_size: int) -> list[bytes]:
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    return _hash_ranges(source, _consistency_ranges(old_size, 0, new_size, True))


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2; raises ProofError when the proof does not lead to `root`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    fn, sn, result = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    if result != root:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the root hash")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; raises ProofError unless the new tree extends the old one."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of size {new_size} cannot extend one of size {old_size}")
    if old_size == new_size or old_size == 0:
        if proof:
            raise ProofError("consistency proof must be empty for these sizes")
        if old_size == new_size and old_root != new_root:
            raise ProofError(f"two different root hashes for the same tree size {old_size}")
        return
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise ProofError("consistency proof is empty")
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    for sibling in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than expected")
        if fn & 1 or fn == sn:
            first = node_hash(sibling, first)
            second = node_hash(sibling, second)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second = node_hash(second, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than expected")
    if first != old_root:
        raise ProofError(f"the tree of size {new_size} does not contain the old tree's root")
    if second != new_root:
        raise ProofError(f"consistency proof does not lead to the root of size {new_size}")


class CompactRange:
    """The right edge of a growing tree: one hash per set bit of its size.

    Appending a leaf costs one hash plus, on average, one node hash; the root at any
    size costs one node hash per set bit. This is how appends find the new root without
    reading the tree, and how verification streams a log of any length in O(log n) memory.
    """

    __slots__ = ("_size", "_stack")

    def __init__(self, size: int = 0, edge: Sequence[bytes] = ()) -> None:
        if len(edge) != size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} edge hashes")
        self._size = size
        self._stack = list(edge)

    @classmethod
    def load(cls, source: HashSource, size: int) -> CompactRange:
        pieces = _decompose(0, size)
        return cls(size, _hash_ranges(source, [(i << h, (i + 1) << h) for h, i in pieces]))

    @property
    def size(self) -> int:
        return self._size

    @property
    def edge(self) -> tuple[bytes, ...]:
        """The hashes of the full subtrees along the right edge, largest first."""
        return tuple(self._stack)

    def extend(self, leaves: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
        """Append leaf hashes; return the full subtrees completed at stored heights.

        Works a level at a time over the whole batch, so each level is one pairwise pass.
        """
        stack, sha = self._stack, hashlib.sha256
        level = list(leaves)
        added = len(level)
        start, height = self._size, 0  # `start`: index of level[0] among nodes of `height`
        leftovers: list[bytes] = []  # the new right edge, lowest height first
        completed: list[tuple[int, int, bytes]] = []
        while level:
            if start & 1:
                # The edge holds this level's left sibling: bring it in.
                level.insert(0, stack.pop())
                start -= 1
            if len(level) & 1:
                leftovers.append(level.pop())
            level = [
                sha(b"\x01" + a + b).digest() for a, b in zip(level[::2], level[1::2], strict=True)
            ]
            height += 1
            start >>= 1
            if level and height % STORED_HEIGHT_STEP == 0:
                completed.extend((height, start + i, node) for i, node in enumerate(level))
        stack.extend(reversed(leftovers))
        self._size += added
        return completed

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        result = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            result = node_hash(left, result)
        return result


class MemoryHashSource:
    """A whole tree held in memory: for tests, exports and small logs."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._stored: dict[Subtree, bytes] = {}
        self._range = CompactRange()
        self.extend(leaves)

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self._stored[(0, self._range.size)] = leaf
            for height, index, digest in self._range.extend([leaf]):
                self._stored[(height, index)] = digest

    @property
    def size(self) -> int:
        return self._range.size

    def root(self) -> bytes:
        return self._range.root()

    def stored_hashes(self, keys: Collection[Subtree]) -> Mapping[Subtree, bytes]:
        found: dict[Subtree, bytes] = {}
        for key in keys:
            digest = self._stored.get(key)
            if digest is None:
                raise MissingNodeError(
                    f"no stored hash for subtree {key}", height=key[0], index=key[1]
                )
            found[key] = digest
        return found
