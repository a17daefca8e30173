"""The ledger's storage: appends under the database's lock, hashes for proofs, streaming reads."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, cast

from sqlalchemy import Connection, and_, func, or_, select

from changeproof.domain.errors import IntegrityError, operation
from changeproof.domain.events import EncodedEvent
from changeproof.ledger import CompactRange, Entry, MissingNodeError
from changeproof.ledger.merkle import Subtree
from changeproof.store.driver import IN_CHUNK, DriverCursor, chunks
from changeproof.store.schema import ledger_checkpoints, ledger_events, ledger_subtrees

__all__ = [
    "Appended",
    "Head",
    "SqlHashSource",
    "SqlLogSource",
    "begin_append",
    "finish_append",
    "read_head",
]

_PAGE: Final = 10_000
_VERIFY_HINT: Final = f"run {operation('ledger verify')} to find what was altered"


@dataclass(frozen=True, slots=True)
class Head:
    tree_size: int
    root_hash: bytes
    edge: bytes | None = None  # the compact range, 32 bytes per set bit of tree_size


@dataclass(frozen=True, slots=True)
class Appended:
    """An append under way: the head locked, the new entries numbered and hashed in memory,
    nothing written yet (`finish_append` writes it all)."""

    first_seq: int
    head: Head  # the head once the entries are in
    rows: list[tuple[int, bytes, bytes, str]]  # (seq, leaf hash, body, event type)
    completed: list[tuple[int, int, bytes]]  # (height, idx, hash) of subtrees to store


_HEAD: Final = "SELECT tree_size, root_hash, edge FROM ledger_head WHERE id = 1"
# A statement of its own, after the head's lock: on PostgreSQL a statement that waited for
# the lock sees the head as the previous appender left it, but other tables as they were
# when it began, so the newest checkpoint must be read by the next statement.
_NEWEST_SIGNED: Final = (
    "SELECT tree_size, root_hash FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1"
)


def read_head(conn: Connection, *, lock: bool = False) -> Head:
    cursor = DriverCursor(conn)
    # PostgreSQL appenders queue on this row lock; on SQLite, BEGIN IMMEDIATE already holds
    # the database's one write lock.
    locking = " FOR UPDATE" if lock and conn.dialect.name == "postgresql" else ""
    cursor.execute(_HEAD + locking)
    row = cursor.fetchone()
    if row is None:
        raise IntegrityError("the store has no ledger head row", hint=_VERIFY_HINT)
    tree_size, root_hash, edge = row
    return Head(int(tree_size), bytes(root_hash), None if edge is None else bytes(edge))


def begin_append(
    conn: Connection, events: Sequence[EncodedEvent], *, head: Head | None = None
) -> Appended:
    """Lock the head and work out `events` as the next entries; nothing is written until
    `finish_append`, in the same transaction, which commits or drops them all.

    `head`: the head as this transaction read it under the lock it still holds (a write unit
    of work locks it when it opens); None to read and lock it here.
    """
    if head is None:
        head = read_head(conn, lock=True)
    cursor = DriverCursor(conn)
    cursor.execute(_NEWEST_SIGNED)
    newest = cursor.fetchone()
    signed = None if newest is None else (int(newest[0]), bytes(newest[1]))
    first = head.tree_size
    tree = _load_edge(conn, head, signed)
    seqs = range(first, first + len(events))
    bodies = [e.body(seq) for seq, e in zip(seqs, events, strict=True)]
    sha = hashlib.sha256
    leaves = [sha(b"\x00" + body).digest() for body in bodies]
    completed = tree.extend(leaves)
    rows = list(zip(seqs, leaves, bodies, [e.event_type for e in events], strict=True))
    new_head = Head(tree.size, tree.root(), b"".join(tree.edge))
    return Appended(first, new_head, rows, completed)


def finish_append(conn: Connection, appended: Appended, note: str, signed_at: str) -> None:
    """Write the entries, the subtrees they complete, the new head and its signed
    checkpoint (in `driver.batch(conn)`: one round trip on PostgreSQL)."""
    cursor = DriverCursor(conn)
    head = appended.head
    cursor.executemany(
        "INSERT INTO ledger_events (seq, leaf_hash, body, event_type) VALUES (?, ?, ?, ?)",
        appended.rows,
    )
    cursor.executemany(
        "INSERT INTO ledger_subtrees (height, idx, hash) VALUES (?, ?, ?)", appended.completed
    )
    cursor.execute(
        "UPDATE ledger_head SET tree_size = ?, root_hash = ?, edge = ? WHERE id = 1",
        (head.tree_size, head.root_hash, head.edge),
    )
    cursor.execute(
        "INSERT INTO ledger_checkpoints (tree_size, root_hash, note, signed_at) "
        "VALUES (?, ?, ?, ?)",
        (head.tree_size, head.root_hash, note, signed_at),
    )


def _load_edge(conn: Connection, head: Head, signed: tuple[int, bytes] | None) -> CompactRange:
    """The tree's right edge, refused unless it rebuilds the root the head and the newest
    checkpoint (`signed`) state: otherwise the next checkpoint would sign a root nobody can
    verify."""
    size = head.tree_size
    tree = None
    if head.edge is not None and len(head.edge) == 32 * size.bit_count():
        tree = CompactRange(size, [head.edge[i : i + 32] for i in range(0, len(head.edge), 32)])
    try:
        if tree is None or tree.root() != head.root_hash:
            # Not written yet (an instance from before migration 0003), or stale: rebuild
            # the edge from the stored subtrees, then hold it to the signed state below.
            tree = CompactRange.load(SqlHashSource(conn), size)
    except MissingNodeError as e:
        raise IntegrityError(f"cannot append: {e}", hint=_VERIFY_HINT) from e
    stated = {(head.tree_size, head.root_hash)}
    if signed is not None:
        stated.add(signed)
    if stated != {(head.tree_size, tree.root())}:
        raise IntegrityError(
            "cannot append: the stored hashes do not rebuild the signed root of the ledger's "
            f"{head.tree_size} entries; refusing to sign over an altered tree",
            hint=_VERIFY_HINT,
        )
    return tree


def newest_checkpoint(conn: Connection) -> tuple[int, str] | None:
    row = conn.execute(
        select(ledger_checkpoints.c.tree_size, ledger_checkpoints.c.note)
        .order_by(ledger_checkpoints.c.tree_size.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row.tree_size), str(row.note))


def count_checkpoints(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(ledger_checkpoints)).scalar_one())


def _height_groups(
    by_height: Mapping[int, list[int]],
) -> Iterator[list[tuple[int, Sequence[int]]]]:
    """(height, indexes) pairs, split so that no query binds more than IN_CHUNK values."""
    group: list[tuple[int, Sequence[int]]] = []
    size = 0
    for height, indexes in sorted(by_height.items()):
        for chunk in chunks(indexes):
            if group and size + len(chunk) > IN_CHUNK:
                yield group
                group, size = [], 0
            group.append((height, chunk))
            size += len(chunk)
    if group:
        yield group


class SqlHashSource:
    """Hashes for proofs: leaf hashes from `ledger_events`, the rest from `ledger_subtrees`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def stored_hashes(self, keys: Collection[Subtree]) -> Mapping[Subtree, bytes]:
        # One `IN` list per height: a (height, idx) row-value IN makes SQLite scan the table
        # and the PostgreSQL planner expand thousands of ORs.
        by_height: dict[int, list[int]] = defaultdict(list)
        for height, index in keys:
            by_height[height].append(index)
        found: dict[Subtree, bytes] = {}
        events, subtrees = ledger_events.c, ledger_subtrees.c
        leaves = by_height.pop(0, [])
        for chunk in chunks(leaves):
            query = select(events.seq, events.leaf_hash).where(events.seq.in_(chunk))
            found.update(((0, int(i)), bytes(d)) for i, d in self._conn.execute(query))
        # Every other height in one round trip: an OR of per-height IN lists, each served
        # by the primary key (a proof needs a few heights, a verify batch a few thousand keys).
        for group in _height_groups(by_height):
            query = select(subtrees.height, subtrees.idx, subtrees.hash).where(
                or_(*(and_(subtrees.height == h, subtrees.idx.in_(ix)) for h, ix in group))
            )
            for row in self._conn.execute(query):
                found[(int(row.height), int(row.idx))] = bytes(row.hash)
        for key in keys:
            if key not in found:
                height, index = key
                what = f"entry {index}" if height == 0 else f"subtree hash ({height}, {index})"
                raise MissingNodeError(f"the store has no {what}", height=height, index=index)
        return found


class SqlLogSource:
    """Entries and checkpoints in pages keyed on the primary key: bounded memory at any size."""

    def __init__(self, conn: Connection, page: int = _PAGE) -> None:
        self._conn = conn
        self._page = page

    def entry_batches(self, start: int = 0, stop: int | None = None) -> Iterator[Sequence[Entry]]:
        # The driver's own cursor, in this transaction: both drivers already return
        # (int, bytes, bytes) rows, and skipping Row objects is most of a verify pass's cost.
        bound = "" if stop is None else " AND seq < ?"
        sql = (
            f"SELECT seq, leaf_hash, body FROM ledger_events WHERE seq >= ?{bound} "  # noqa: S608
            f"ORDER BY seq LIMIT {int(self._page)}"
        )
        cursor = DriverCursor(self._conn)
        try:
            at = start
            while stop is None or at < stop:
                cursor.execute(sql, (at,) if stop is None else (at, stop))
                rows = cast(list[Entry], cursor.fetchall())
                if not rows:
                    return
                yield rows
                at = rows[-1][0] + 1
        finally:
            cursor.close()

    def checkpoint_notes(self, *, newest_first: bool = False) -> Iterator[str]:
        return (note for _, note in self.checkpoints(newest_first=newest_first))

    def checkpoints(self, *, newest_first: bool = False) -> Iterator[tuple[int, str]]:
        """(tree size as stored, note) pairs in tree-size order."""
        size = ledger_checkpoints.c.tree_size
        bound: int | None = None
        while True:
            query = select(size, ledger_checkpoints.c.note)
            if bound is not None:
                query = query.where(size < bound if newest_first else size > bound)
            query = query.order_by(size.desc() if newest_first else size).limit(self._page)
            rows = self._conn.execute(query).all()
            if not rows:
                return
            yield from ((int(tree_size), str(note)) for tree_size, note in rows)
            bound = int(rows[-1][0])
