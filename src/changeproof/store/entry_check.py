"""Projection rows checked against the ledger entries they came from, before a security
decision relies on them.

Projections are caches: a database administrator can edit any table, and only the ledger's
rows are covered by signatures. A gate decision, an approval check or a deployment's
authorization therefore names, for every row it read, the entry that row was projected
from and what that entry must say (`expect`); `confirm` then, in the same transaction:

1. opens the newest stored checkpoint with the instance's public key (a forged or altered
   note is refused) and takes its tree size and root as the truth;
2. reads the named entries' bodies, re-hashes each (RFC 9162 leaf hash) and computes the
   signed root from those leaf hashes and the stored hashes of everything else, so a body
   someone edited (with its stored leaf hash, and any subtree hashes above it) no longer
   leads to the signed root;
3. decodes each body and holds the row to it: the event type, the data fields the row
   copies, and the actor.

Any difference is an IntegrityError (exit 4) naming the table and the entry; the caller's
transaction then records nothing. What this cannot see is a row deleted, or never written
(an approval's rejection removed, say): a missing row names no entry to check. `ledger
audit` replays the ledger itself to find those.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from sqlalchemy import Connection

from changeproof.domain.canonical import JsonValue, canonical_json
from changeproof.domain.errors import ChangeproofError, InputError, IntegrityError, operation
from changeproof.domain.events import RecordedEvent, decode_body
from changeproof.domain.payloads import Document
from changeproof.ledger import Checkpoint, LedgerError, NoteVerifier, root_from_leaves
from changeproof.store.driver import DriverCursor, chunks, placeholders
from changeproof.store.ledger import SqlHashSource, newest_checkpoint

__all__ = ["ACTOR", "EntryCheck", "EntryChecks", "decoded_row", "entry_checks"]

ACTOR: Final = "@actor"  # an expectation on the entry's actor rather than a data field
_HINT: Final = (
    f"run {operation('ledger verify')} and {operation('ledger audit')} to see what was altered; "
    f"{operation('ledger rebuild')} restores the projections from the ledger"
)


@dataclass(frozen=True, slots=True)
class _Expectation:
    table: str
    seq: int
    types: frozenset[str]
    fields: Mapping[str, JsonValue]


class EntryCheck:
    """Rows to hold to their ledger entries, checked all at once by `confirm`."""

    def __init__(self, conn: Connection, verifier: NoteVerifier, origin: str) -> None:
        self._conn = conn
        self._verifier = verifier
        self._origin = origin
        self._expected: list[_Expectation] = []
        self._confirmed: dict[int, RecordedEvent] = {}
        self._checkpoint: Checkpoint | None = None

    def expect(
        self,
        table: str,
        seq: int,
        types: str | Collection[str],
        fields: Mapping[str, JsonValue] | None = None,
    ) -> None:
        """The row of `table` projected from entry `seq` relies on that entry being one of
        `types` and its data holding `fields` (`ACTOR`: the entry's actor)."""
        kinds = frozenset((types,) if isinstance(types, str) else types)
        self._expected.append(_Expectation(table, seq, kinds, dict(fields or {})))

    def confirm(self) -> Mapping[int, RecordedEvent]:
        """Check every expectation so far; IntegrityError naming the first row that does not
        hold. Returns the checked entries, decoded, by seq."""
        expected, self._expected = self._expected, []
        if not expected:
            return self._confirmed
        wanted = sorted({e.seq for e in expected} - self._confirmed.keys())
        if wanted:
            self._confirmed.update(self._proven(wanted, _tables(expected)))
        for expectation in expected:
            _hold(expectation, self._confirmed[expectation.seq])
        return self._confirmed

    def _signed(self) -> Checkpoint:
        if self._checkpoint is not None:
            return self._checkpoint
        newest = newest_checkpoint(self._conn)
        if newest is None:
            raise IntegrityError("the ledger has no signed checkpoint", first_bad_seq=0)
        try:
            checkpoint = self._verifier.open(newest[1])
        except LedgerError as e:
            raise IntegrityError(
                f"the newest stored checkpoint does not verify with this instance's key: {e}",
                hint=_HINT,
            ) from e
        if checkpoint.origin != self._origin:
            raise IntegrityError(
                f"the newest stored checkpoint is of log {checkpoint.origin!r}, "
                f"not {self._origin!r}",
                hint=_HINT,
            )
        self._checkpoint = checkpoint
        return checkpoint

    def _proven(
        self, seqs: Sequence[int], tables: Mapping[int, str]
    ) -> Iterator[tuple[int, RecordedEvent]]:
        """The entries `seqs`, each body proven into the signed tree, decoded."""
        signed = self._signed()
        beyond = [s for s in seqs if s >= signed.size]
        if beyond:
            raise IntegrityError(
                f"table {tables[beyond[0]]} holds a row for entry {beyond[0]}, which no signed "
                f"checkpoint covers (the ledger's signed size is {signed.size}): the store was "
                "altered behind the ledger",
                first_bad_seq=beyond[0],
                hint=_HINT,
            )
        bodies = dict(_bodies(self._conn, seqs))
        leaves: dict[int, bytes] = {}
        for seq in seqs:
            stored = bodies.get(seq)
            if stored is None:
                raise IntegrityError(
                    f"table {tables[seq]} relies on ledger entry {seq}, which the store no "
                    "longer holds: the ledger was altered",
                    first_bad_seq=seq,
                    hint=_HINT,
                )
            leaf, body = stored
            leaves[seq] = hashlib.sha256(b"\x00" + body).digest()
            if leaves[seq] != leaf:
                raise IntegrityError(
                    f"ledger entry {seq} (behind table {tables[seq]}) does not hash to its "
                    "stored leaf hash: the entry was altered",
                    first_bad_seq=seq,
                    hint=_HINT,
                )
        try:
            root = root_from_leaves(SqlHashSource(self._conn), signed.size, leaves)
        except LedgerError as e:
            raise IntegrityError(f"cannot prove the entries into the signed tree: {e}") from e
        if root != signed.root_hash:
            first = seqs[0]
            raise IntegrityError(
                f"ledger entries {_span(seqs)} (behind table {tables[first]}) do not lead to "
                f"the root the instance signed at size {signed.size}: an entry, or the hashes "
                "stored above it, were altered",
                first_bad_seq=first,
                hint=_HINT,
            )
        for seq in seqs:
            try:
                event = decode_body(bodies[seq][1], seq=seq)
            except ChangeproofError as e:
                raise IntegrityError(e.template, first_bad_seq=seq, hint=_HINT) from e
            if event.seq != seq:
                raise IntegrityError(
                    f"ledger entry {seq} says it is entry {event.seq}: entries were moved",
                    first_bad_seq=seq,
                    hint=_HINT,
                )
            yield seq, event


def _tables(expected: Sequence[_Expectation]) -> Mapping[int, str]:
    found: dict[int, str] = {}
    for e in expected:
        found.setdefault(e.seq, e.table)
    return found


def _bodies(conn: Connection, seqs: Sequence[int]) -> Iterator[tuple[int, tuple[bytes, bytes]]]:
    cursor = DriverCursor(conn)
    try:
        for chunk in chunks(seqs):
            cursor.execute(
                "SELECT seq, leaf_hash, body FROM ledger_events "  # noqa: S608 - markers only
                f"WHERE seq IN ({placeholders(len(chunk))})",
                tuple(chunk),
            )
            for seq, leaf, body in cursor.fetchall():
                yield int(seq), (bytes(leaf), bytes(body))
    finally:
        cursor.close()


def _hold(expectation: _Expectation, event: RecordedEvent) -> None:
    where = f"table {expectation.table} row for entry {expectation.seq}"
    if event.type not in expectation.types:
        raise _altered(where, "an entry of type", " or ".join(sorted(expectation.types)), event)
    for key, value in expectation.fields.items():
        actual: JsonValue = event.actor if key == ACTOR else event.data.get(key)
        if not _same(actual, value):
            what = "actor" if key == ACTOR else key
            raise IntegrityError(
                f"{where} says {what} is {_short(value)}, but ledger entry {expectation.seq} "
                f"says {_short(actual)}: the store was altered behind the ledger",
                first_bad_seq=expectation.seq,
                hint=_HINT,
            )


def _same(one: object, other: object) -> bool:
    """JSON equality: as the values' canonical JSON would compare, without encoding them
    (a gate holds thousands of fields to their entries). `true` is not `1`."""
    if isinstance(one, bool) or isinstance(other, bool):
        return type(one) is type(other) and one == other
    if isinstance(one, int | float) and isinstance(other, int | float):
        return one == other
    if isinstance(one, list | tuple) and isinstance(other, list | tuple):
        return len(one) == len(other) and all(map(_same, one, other))
    if isinstance(one, dict) and isinstance(other, dict):
        return one.keys() == other.keys() and all(_same(one[k], other[k]) for k in one)
    return type(one) is type(other) and one == other


def _altered(where: str, what: str, wanted: str, event: RecordedEvent) -> IntegrityError:
    return IntegrityError(
        f"{where} needs {what} {wanted}, but ledger entry {event.seq} is {event.type}: the "
        "store was altered behind the ledger",
        first_bad_seq=event.seq,
        hint=_HINT,
    )


def _short(value: JsonValue) -> str:
    text = canonical_json(value).decode("utf-8", "replace")
    return text if len(text) <= 60 else text[:57] + "…"


def _span(seqs: Sequence[int]) -> str:
    if len(seqs) == 1:
        return str(seqs[0])
    return f"{seqs[0]}..{seqs[-1]} ({len(seqs)} of them)"


EntryChecks = Callable[[Connection], EntryCheck]
"""Makes the check of one transaction: services receive one, built with the instance's key."""


def entry_checks(verifier: NoteVerifier, origin: str) -> EntryChecks:
    def check(conn: Connection) -> EntryCheck:
        return EntryCheck(conn, verifier, origin)

    return check


D = TypeVar("D", bound=Document)


def decoded_row(kind: type[D], text: str, *, where: str, seq: int) -> D:
    """A projection row's JSON document, decoded as `kind`: every row was written from an
    entry in that shape, so one that no longer decodes was edited behind the ledger."""
    try:
        return kind.from_data(json.loads(text), where=where)
    except (InputError, ValueError) as e:
        raise IntegrityError(
            f"{e}: the store was altered behind the ledger", first_bad_seq=seq, hint=_HINT
        ) from e
