"""Streaming verification of a whole log against its signed checkpoints.

One pass over the entries in seq order, O(log n) memory: each body is re-hashed and
compared with its stored leaf hash, the tree is rebuilt on a `CompactRange`, and at
every size where a checkpoint was stored or witnessed the rebuilt root must equal the
signed one. When the store also keeps full-subtree hashes for proofs, each one the
rebuild completes is compared with the stored copy. The first thing that is wrong stops
the pass and is named by seq.

What each tampering looks like from here:
  - a body or a leaf hash edited         -> the leaf hash does not match the body
  - an entry deleted                     -> a gap in seq
  - entries moved (rows or lines swapped) -> a seq out of place, or a checkpoint's root
                                            differs and the body's own seq names the entry
  - a forged entry appended              -> entries no validly signed checkpoint covers
  - the tail truncated with its stored   -> an exported (witnessed) checkpoint covers
    checkpoints                             entries that are no longer there
  - history rewritten and signed again   -> a witnessed checkpoint's root differs: the
    by a holder of the key                  ledger differs at or before its last entry,
                                            and no entry can be named (seq None)
  - a proof-cache hash edited            -> a stored subtree differs from the rebuild
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from changeproof.ledger.checkpoint import Checkpoint, NoteVerifier, parse_note
from changeproof.ledger.errors import LedgerError, MissingNodeError
from changeproof.ledger.merkle import CompactRange, HashSource

__all__ = ["Entry", "Finding", "LogSource", "VerificationReport", "verify_log"]

Entry = tuple[int, bytes, bytes]
"""(seq, leaf_hash, body), as stored."""

_SUBTREE_BATCH: Final = 4096


class LogSource(Protocol):
    def entry_batches(self, start: int = 0, stop: int | None = None) -> Iterator[Sequence[Entry]]:
        """Entries with start <= seq < stop, in stored order, in batches."""
        ...

    def checkpoint_notes(self, *, newest_first: bool = False) -> Iterator[str]:
        """The stored signed checkpoint notes, ordered by tree size."""
        ...


@dataclass(frozen=True, slots=True)
class Finding:
    seq: int | None
    message: str


@dataclass(slots=True)
class VerificationReport:
    origin: str
    entries: int = 0
    root_hash: bytes = b""
    signed_size: int = 0
    checkpoints_checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_bad_seq(self) -> int | None:
        return next((f.seq for f in self.findings if f.seq is not None), None)


class _Stop(Exception):
    """The pass found its first problem."""


@dataclass(slots=True)
class _Pass:
    """The state of one verification pass."""

    source: LogSource
    verifier: NoteVerifier
    origin: str
    report: VerificationReport
    stored: Iterator[str]
    witnessed: list[Checkpoint]
    subtrees: HashSource | None
    tree: CompactRange = field(default_factory=CompactRange)
    next_stored: tuple[Checkpoint, str] | None = None
    matched: int = 0  # the largest size whose rebuilt root equalled a checkpoint's
    witness_matched: int = 0  # the same, counting witnessed checkpoints only
    completed: list[tuple[int, int, bytes]] = field(default_factory=list)

    def fail(self, seq: int | None, message: str) -> _Stop:
        self.report.findings.append(Finding(seq, message))
        return _Stop()

    def advance_stored(self) -> None:
        note = next(self.stored, None)
        self.next_stored = None if note is None else (parse_note(note)[0], note)

    def next_size(self) -> int | None:
        sizes = [c.size for c in self.witnessed[:1]]
        if self.next_stored is not None:
            sizes.append(self.next_stored[0].size)
        return min(sizes) if sizes else None

    def extend(self, leaves: Sequence[bytes]) -> None:
        self.completed.extend(self.tree.extend(leaves))
        if len(self.completed) >= _SUBTREE_BATCH:
            self.check_subtrees()

    def check_subtrees(self) -> None:
        """Compare the proof cache's hashes with the ones the rebuild just completed."""
        completed, self.completed = self.completed, []
        if self.subtrees is None or not completed:
            return
        keys = [(height, index) for height, index, _ in completed]
        try:
            stored = self.subtrees.stored_hashes(keys)
        except MissingNodeError as e:
            first = e.index << e.height
            raise self.fail(
                first, f"the stored subtree hash over entries from {first} is missing"
            ) from e
        for height, index, digest in completed:
            if stored[(height, index)] != digest:
                first, last = index << height, ((index + 1) << height) - 1
                raise self.fail(
                    first,
                    f"the stored subtree hash ({height}, {index}) over entries {first}..{last} "
                    "does not match them (the proof cache was altered)",
                )


def verify_log(
    source: LogSource,
    verifier: NoteVerifier,
    origin: str,
    witnessed: Iterable[Checkpoint] = (),
    progress: Callable[[int], None] | None = None,
    subtrees: HashSource | None = None,
) -> VerificationReport:
    """Verify every entry of `source`; `witnessed` checkpoints were opened with `verifier`.

    `subtrees`, when given, is the store's proof cache, checked against the rebuild.
    """
    report = VerificationReport(origin=origin)
    state = _Pass(
        source=source,
        verifier=verifier,
        origin=origin,
        report=report,
        stored=source.checkpoint_notes(),
        witnessed=sorted(witnessed, key=lambda c: c.size),
        subtrees=subtrees,
    )
    try:
        for checkpoint in state.witnessed:
            if checkpoint.origin != origin:
                raise state.fail(
                    None, f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}"
                )
        state.advance_stored()
        _stream(state, progress)
        if state.tree.size == 0 and state.next_stored is None:
            # Every log starts with an entry and a checkpoint: nothing at all is a wipe.
            raise state.fail(
                0, "entry 0 is missing: the ledger holds no entries and no checkpoints"
            )
        _check_beyond_end(state)
        _check_newest_signed(state)
    except _Stop:
        pass
    except LedgerError as e:
        report.findings.append(Finding(None, f"stored checkpoint is not well formed: {e}"))
    report.entries = state.tree.size
    report.root_hash = state.tree.root()
    return report


def _stream(state: _Pass, progress: Callable[[int], None] | None) -> None:
    sha = hashlib.sha256
    for batch in state.source.entry_batches():
        first = state.tree.size
        seqs = [seq for seq, _, _ in batch]
        if seqs != list(range(first, first + len(batch))):
            _report_out_of_place(state, seqs, first)
        leaves = [sha(b"\x00" + body).digest() for _, _, body in batch]
        if leaves != [stored for _, stored, _ in batch]:
            seq = next(row[0] for row, leaf in zip(batch, leaves, strict=True) if row[1] != leaf)
            raise state.fail(
                seq, f"entry {seq}: leaf hash does not match its body (one was altered)"
            )
        while (size := state.next_size()) is not None and size <= first + len(leaves):
            state.extend(leaves[state.tree.size - first : size - first])
            _check_at(state)
        state.extend(leaves[state.tree.size - first :])
        if progress is not None:
            progress(len(batch))
    state.check_subtrees()
    if state.next_size() == state.tree.size:
        _check_at(state)


def _report_out_of_place(state: _Pass, seqs: list[int], first: int) -> None:
    for offset, seq in enumerate(seqs):
        expected = first + offset
        if seq > expected:
            raise state.fail(
                expected, f"entry {expected} is missing (the next entry present is {seq})"
            )
        if seq < expected:
            raise state.fail(
                seq, f"entry {seq} appears again, or out of order, after entry {expected - 1}"
            )


def _check_at(state: _Pass) -> None:
    root, size = state.tree.root(), state.tree.size
    while state.witnessed and state.witnessed[0].size == size:
        checkpoint = state.witnessed.pop(0)
        state.report.checkpoints_checked += 1
        if checkpoint.root_hash != root:
            _report_witnessed_divergence(state, size)
        state.witness_matched = size
        state.report.signed_size = max(state.report.signed_size, size)
    while state.next_stored is not None and state.next_stored[0].size == size:
        checkpoint, note = state.next_stored
        state.report.checkpoints_checked += 1
        if checkpoint.origin != state.origin:
            raise state.fail(None, f"stored checkpoint at size {size} names another log")
        if checkpoint.root_hash != root:
            _require_signed(state, note, size)
            _report_divergence(state, size, "the stored signed checkpoint")
        state.matched = size
        state.advance_stored()


def _report_divergence(state: _Pass, size: int, what: str) -> None:
    """The rebuilt root differs from a signed one: name the entry as precisely as we can."""
    start = state.matched
    for batch in state.source.entry_batches(start, size):
        for seq, _, body in batch:
            claimed = _claimed_seq(body)
            if claimed != seq:
                raise state.fail(
                    seq, f"entry {seq} holds the body of entry {claimed} (entries were moved)"
                )
    raise state.fail(
        start,
        f"entries {start}..{size - 1} do not hash to the root in {what} at size {size} "
        "(an entry and its leaf hash were rewritten together)",
    )


def _report_witnessed_divergence(state: _Pass, size: int) -> None:
    """The rebuilt root differs from a witnessed one while every stored checkpoint may agree:
    a holder of the signing key rewrote history and signed it again. Entries moved still show
    by their bodies' own seq; otherwise no entry can be named, only the interval since the
    last witnessed size that matched, so the finding names none (seq None)."""
    start = state.witness_matched
    for batch in state.source.entry_batches(start, size):
        for seq, _, body in batch:
            claimed = _claimed_seq(body)
            if claimed != seq:
                raise state.fail(
                    seq, f"entry {seq} holds the body of entry {claimed} (entries were moved)"
                )
    stored = ""
    if state.matched > start:
        stored = (
            f"; the stored signed checkpoints agree with the ledger up to size {state.matched}, "
            f"so if they are genuine the change is in entries {state.matched}..{size - 1}"
        )
    raise state.fail(
        None,
        f"the ledger differs from the tree of the witnessed checkpoint at size {size}: an entry "
        f"at or before entry {size - 1} (one of entries {start}..{size - 1}) is not what was "
        "witnessed, and the ledger's own checkpoints were signed again over it, which only a "
        f"holder of the signing key can do; a checkpoint cannot tell which entry changed{stored}",
    )


def _claimed_seq(body: bytes) -> int | None:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested past the stack: no seq to read
        return None
    seq = doc.get("seq") if isinstance(doc, dict) else None
    return seq if isinstance(seq, int) else None


def _require_signed(state: _Pass, note: str, size: int) -> None:
    try:
        state.verifier.open(note)
    except LedgerError as e:
        raise state.fail(
            None, f"stored checkpoint at size {size} is not validly signed ({e})"
        ) from None


def _check_beyond_end(state: _Pass) -> None:
    """A checkpoint larger than the log means entries were removed from its tail."""
    end = state.tree.size
    candidates = [c.size for c in state.witnessed]
    while state.next_stored is not None:
        checkpoint, note = state.next_stored
        _require_signed(state, note, checkpoint.size)
        candidates.append(checkpoint.size)
        state.advance_stored()
    if candidates:
        size = max(candidates)
        raise state.fail(
            end,
            f"a signed checkpoint covers {size} entries but the ledger holds {end}: "
            f"entries {end}..{size - 1} were removed",
        )


def _check_newest_signed(state: _Pass) -> None:
    """Stored roots were compared cheaply; the newest must also carry a valid signature.

    Walking back past forged checkpoints finds the last size a real signature covers:
    every entry after it is unaccounted for.
    """
    report, end = state.report, state.tree.size
    forged: list[int] = []
    for note in state.source.checkpoint_notes(newest_first=True):
        checkpoint = parse_note(note)[0]
        try:
            state.verifier.open(note)
        except LedgerError:
            forged.append(checkpoint.size)
            continue
        report.signed_size = max(report.signed_size, checkpoint.size)
        break
    if end > report.signed_size:
        first = report.signed_size
        if forged:
            sizes = ", ".join(map(str, forged))
            raise state.fail(
                first,
                f"entries {first}..{end - 1} are covered only by checkpoints that are not "
                f"validly signed (at sizes {sizes}): forged behind the instance's back",
            )
        raise state.fail(
            first,
            f"entries {first}..{end - 1} are not covered by any signed checkpoint "
            "(written behind the instance's back)",
        )
    if forged:
        raise state.fail(None, f"stored checkpoints at sizes {forged} are not validly signed")
