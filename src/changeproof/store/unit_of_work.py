"""The one write path: a transaction in which events are appended and projected together.

    with store.unit_of_work() as uow:
        uow.record(event)
    uow.recorded   # the entries, with their seq, once committed

A unit of work holds the ledger's write lock from its start: SQLite's one write lock (taken
at `BEGIN IMMEDIATE`), PostgreSQL's row lock on the head (its first statement, a locked read
of the head). Every read a service makes in it therefore sees every append committed before
its own can be made, and no service has to remember to lock: `uow.head` is the head it holds.
An optimistic one holds none while it reads: it reads one snapshot (`uow.head` is that
snapshot's head) and appends only if nobody appended since, else raises StaleSnapshotError
and records nothing, for the caller to do its work again the usual way.

On leaving the block the pending events are appended to the ledger, applied to the
projections and covered by a new signed checkpoint, all in one transaction: a crash at
any point leaves either all of it or none of it.

A request sent with an idempotency key (`changeproof.domain.idempotency.CLAIM`) is checked
once the lock is held (an optimistic unit of work: again when it appends), and its key is
inserted with its entries: a retried request records nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Protocol

from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc

from changeproof.domain.clock import Clock
from changeproof.domain.errors import ChangeproofError, ConflictError, IntegrityError, operation
from changeproof.domain.events import EncodedEvent, Event, RecordedEvent, Seq, format_time
from changeproof.domain.idempotency import CLAIM, Claim
from changeproof.ledger import Checkpoint, NoteSigner
from changeproof.store import idempotency, ledger, projections
from changeproof.store.database import Database
from changeproof.store.driver import batch

__all__ = ["StaleSnapshotError", "UnitOfWork", "UnitOfWorkFactory"]


class StaleSnapshotError(ConflictError):
    """An optimistic unit of work read a ledger that grew before it could append."""


class UnitOfWork:
    def __init__(
        self, db: Database, signer: NoteSigner, clock: Clock, *, optimistic: bool = False
    ) -> None:
        self._db = db
        self._signer = signer
        self._clock = clock
        self._optimistic = optimistic
        self._pending: list[tuple[Event, EncodedEvent]] = []
        self._transaction: AbstractContextManager[Connection] | None = None
        self._conn: Connection | None = None
        self._head: ledger.Head | None = None
        self._claim: tuple[Claim, str] | None = None
        self.recorded: list[RecordedEvent] = []

    @property
    def conn(self) -> Connection:
        """The transaction's connection, for the reads a service makes before it records."""
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    @property
    def head(self) -> ledger.Head:
        """The ledger head as the unit of work found it when it opened: held locked until it
        ends (an optimistic one: as of its snapshot, which its append holds to)."""
        if self._head is None:
            raise RuntimeError("the unit of work is not open")
        return self._head

    def record(self, event: Event) -> None:
        # Encoding happens here, outside the ledger lock; only the seq is spliced in later.
        self._pending.append((event, event.encode()))

    def __enter__(self) -> UnitOfWork:
        self._transaction = self._db.optimistic() if self._optimistic else self._db.write()
        self._conn = self._transaction.__enter__()
        try:
            # On PostgreSQL a statement that waited for the lock sees the head as the last
            # appender left it, and every later statement sees that appender's rows: the
            # lock comes first, before any read of the service's.
            self._head = ledger.read_head(self._conn, lock=not self._optimistic)
            claim = CLAIM.get()
            if claim is not None and claim.actor is not None:
                self._claim = (claim, claim.actor)
                if claim.recorded is None:  # else an earlier unit of work of the request did
                    idempotency.check(self._conn, claim, claim.actor)
        except BaseException as error:
            try:
                self._transaction.__exit__(type(error), error, error.__traceback__)
            finally:
                self._reset()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._transaction is not None
        try:
            if exc is None and self._pending:
                self._append()
        except sa_exc.IntegrityError as error:
            self._transaction.__exit__(type(error), error, error.__traceback__)
            self._reset()
            raise self._diagnose(error) from error
        except sa_exc.OperationalError as error:
            self._transaction.__exit__(type(error), error, error.__traceback__)
            self._reset()
            if self._optimistic and self._db.is_stale_snapshot(error):
                raise StaleSnapshotError(
                    "the ledger grew while this unit of work read it; nothing was recorded"
                ) from error
            raise
        except BaseException as error:
            self._transaction.__exit__(type(error), error, error.__traceback__)
            self._reset()
            raise
        self._transaction.__exit__(exc_type, exc, tb)
        if exc is not None:
            self.recorded = []
        elif self.recorded and self._claim is not None:
            claim = self._claim[0]
            first = self.recorded[0].seq if claim.recorded is None else claim.recorded[0]
            claim.recorded = (first, self.recorded[-1].seq)
        self._reset()

    def _reset(self) -> None:
        self._transaction = None
        self._conn = None
        self._head = None
        self._claim = None
        self._pending = []

    def _diagnose(self, error: sa_exc.IntegrityError) -> ChangeproofError:
        """A constraint refused the write: tampering if projections hold rows for entries the
        ledger does not have, else a conflict with a concurrent writer."""
        with self._db.read() as conn:
            orphan = projections.first_orphan(conn, ledger.read_head(conn).tree_size)
        if orphan is not None:
            table, seq = orphan
            return IntegrityError(
                f"table {table} holds a row for entry {seq}, which the ledger does not hold: "
                "the store was altered behind the ledger",
                first_bad_seq=seq,
                hint=f"run {operation('ledger verify')}, then {operation('ledger rebuild')}",
            )
        detail = str(error.orig).strip().splitlines()[0] if error.orig else "a constraint"
        return ConflictError(f"the write conflicts with what is already recorded: {detail}")

    def _append(self) -> None:
        conn = self.conn
        # An optimistic unit of work locks the head only now, which is where PostgreSQL
        # finds its snapshot stale; a write one holds it since it opened.
        held = None if self._optimistic else self.head
        appended = ledger.begin_append(conn, [encoded for _, encoded in self._pending], head=held)
        self.recorded = list(_as_recorded(appended.first_seq, self._pending))
        now = format_time(self._clock.now())
        if self._claim is not None:
            # No second check for an optimistic one: a key is only ever inserted with an
            # append, and begin_append has just refused any append since its snapshot.
            claim, actor = self._claim
            last = self.recorded[-1].seq
            if claim.recorded is None:
                idempotency.record(conn, claim, actor, (self.recorded[0].seq, last), now)
            else:
                idempotency.extend(conn, claim, actor, last)
        # The seqs are fixed once the head is locked, so the projections can come first and
        # the ledger's rows and checkpoint last, in one batch (one round trip on PostgreSQL)
        # with the projections that write through the driver.
        projections.apply(conn, self.recorded, batched=False)
        head = appended.head
        note = self._signer.sign(Checkpoint(self._signer.name, head.tree_size, head.root_hash))
        with batch(conn):
            projections.apply(conn, self.recorded, batched=True)
            ledger.finish_append(conn, appended, note, now)


def _as_recorded(first: int, pending: list[tuple[Event, EncodedEvent]]) -> Iterator[RecordedEvent]:
    for offset, (event, _) in enumerate(pending):
        yield RecordedEvent(
            seq=Seq(first + offset),
            type=event.type,
            actor=event.actor,
            time=event.time,
            data=event.data,
            known=event.payload,
        )


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, optimistic: bool = False) -> UnitOfWork: ...
