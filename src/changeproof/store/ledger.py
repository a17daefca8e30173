"""The ledger's storage: appends under the database's lock, hashes for proofs, streaming reads."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, func, select, tuple_, update

from changeproof.domain.errors import IntegrityError
from changeproof.domain.events import EncodedEvent
from changeproof.ledger import CompactRange, Entry, MissingNodeError
from changeproof.ledger.merkle import Subtree
from changeproof.store.schema import ledger_checkpoints, ledger_events, ledger_head, ledger_subtrees

__all__ = ["Appended", "Head", "SqlHashSource", "SqlLogSource", "append", "read_head"]

_PAGE: Final = 10_000
_VERIFY_HINT: Final = "run `changeproof ledger verify` to find what was altered"


@dataclass(frozen=True, slots=True)
class Head:
    tree_size: int
    root_hash: bytes


@dataclass(frozen=True, slots=True)
class Appended:
    first_seq: int
    leaf_hashes: list[bytes]
    head: Head


def read_head(conn: Connection, *, lock: bool = False) -> Head:
    query = select(ledger_head.c.tree_size, ledger_head.c.root_hash).where(ledger_head.c.id == 1)
    if lock:
        # PostgreSQL appenders queue here; on SQLite, BEGIN IMMEDIATE already holds the lock.
        query = query.with_for_update()
    row = conn.execute(query).one()
    return Head(int(row.tree_size), bytes(row.root_hash))


def append(conn: Connection, events: Sequence[EncodedEvent]) -> Appended:
    """Append `events` as the next entries; the caller's transaction commits or drops them all."""
    head = read_head(conn, lock=True)
    first = head.tree_size
    tree = _load_edge(conn, head)
    bodies = [e.body(first + i) for i, e in enumerate(events)]
    sha = hashlib.sha256
    leaves = [sha(b"\x00" + body).digest() for body in bodies]
    completed = tree.extend(leaves)
    marker = _marker(conn)
    conn.exec_driver_sql(
        f"INSERT INTO ledger_events (seq, leaf_hash, body, event_type) "  # noqa: S608
        f"VALUES ({marker}, {marker}, {marker}, {marker})",
        [
            (first + i, leaf, body, e.event_type)
            for i, (leaf, body, e) in enumerate(zip(leaves, bodies, events, strict=True))
        ],
    )
    if completed:
        conn.exec_driver_sql(
            f"INSERT INTO ledger_subtrees (height, idx, hash) "  # noqa: S608
            f"VALUES ({marker}, {marker}, {marker})",
            completed,
        )
    new_head = Head(tree.size, tree.root())
    conn.execute(
        update(ledger_head)
        .where(ledger_head.c.id == 1)
        .values(tree_size=new_head.tree_size, root_hash=new_head.root_hash)
    )
    return Appended(first_seq=first, leaf_hashes=leaves, head=new_head)


def _load_edge(conn: Connection, head: Head) -> CompactRange:
    """The tree's right edge, refused unless it rebuilds the root the head and the newest
    checkpoint state: otherwise the next checkpoint would sign a root nobody can verify."""
    try:
        tree = CompactRange.load(SqlHashSource(conn), head.tree_size)
    except MissingNodeError as e:
        raise IntegrityError(f"cannot append: {e}", hint=_VERIFY_HINT) from e
    newest = conn.execute(
        select(ledger_checkpoints.c.tree_size, ledger_checkpoints.c.root_hash)
        .order_by(ledger_checkpoints.c.tree_size.desc())
        .limit(1)
    ).first()
    stated = {(head.tree_size, head.root_hash)}
    if newest is not None:
        stated.add((int(newest.tree_size), bytes(newest.root_hash)))
    if stated != {(head.tree_size, tree.root())}:
        raise IntegrityError(
            "cannot append: the stored hashes do not rebuild the signed root of the ledger's "
            f"{head.tree_size} entries; refusing to sign over an altered tree",
            hint=_VERIFY_HINT,
        )
    return tree


def insert_checkpoint(conn: Connection, head: Head, note: str, signed_at: str) -> None:
    conn.execute(
        ledger_checkpoints.insert().values(
            tree_size=head.tree_size, root_hash=head.root_hash, note=note, signed_at=signed_at
        )
    )


def newest_checkpoint(conn: Connection) -> tuple[int, str] | None:
    row = conn.execute(
        select(ledger_checkpoints.c.tree_size, ledger_checkpoints.c.note)
        .order_by(ledger_checkpoints.c.tree_size.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row.tree_size), str(row.note))


def count_checkpoints(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(ledger_checkpoints)).scalar_one())


def _marker(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


class SqlHashSource:
    """Hashes for proofs: leaf hashes from `ledger_events`, the rest from `ledger_subtrees`."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def stored_hashes(self, keys: Collection[Subtree]) -> Mapping[Subtree, bytes]:
        leaves = [index for height, index in keys if height == 0]
        inner = [(height, index) for height, index in keys if height != 0]
        found: dict[Subtree, bytes] = {}
        if leaves:
            leaf_rows = self._conn.execute(
                select(ledger_events.c.seq, ledger_events.c.leaf_hash).where(
                    ledger_events.c.seq.in_(leaves)
                )
            )
            found.update(((0, int(seq)), bytes(digest)) for seq, digest in leaf_rows)
        if inner:
            rows = self._conn.execute(
                select(
                    ledger_subtrees.c.height, ledger_subtrees.c.idx, ledger_subtrees.c.hash
                ).where(tuple_(ledger_subtrees.c.height, ledger_subtrees.c.idx).in_(inner))
            )
            found.update(((int(h), int(i)), bytes(digest)) for h, i, digest in rows)
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
        seq, cols = ledger_events.c.seq, ledger_events.c
        at = start
        while stop is None or at < stop:
            query = select(cols.seq, cols.leaf_hash, cols.body).where(seq >= at)
            if stop is not None:
                query = query.where(seq < stop)
            rows = self._conn.execute(query.order_by(seq).limit(self._page)).all()
            if not rows:
                return
            yield [(int(s), bytes(leaf), bytes(body)) for s, leaf, body in rows]
            at = int(rows[-1][0]) + 1

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
