"""Streaming verification of a whole log against its signed checkpoints.

One pass over the entries in seq order, O(log n) memory: each body is re-hashed and
compared with its stored leaf hash, the tree is rebuilt on a `CompactRange`, and at
every size where a checkpoint was stored or witnessed the rebuilt root must equal the
signed one. The first thing that is wrong stops the pass and is named by seq.

What each tampering looks like from here:
  - a body or a leaf hash edited         -> the leaf hash does not match the body
  - an entry deleted                     -> a gap in seq
  - two entries swapped (rows moved)     -> a checkpoint's root differs; the body's own
                                            seq names the entry that moved
  - a forged entry appended              -> entries no signed checkpoint covers
  - the tail truncated with its stored   -> an exported (witnessed) checkpoint covers
    checkpoints                             entries that are no longer there
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from changeproof.ledger.checkpoint import Checkpoint, NoteVerifier, parse_note
from changeproof.ledger.errors import LedgerError
from changeproof.ledger.merkle import CompactRange

__all__ = ["Entry", "Finding", "LogSource", "VerificationReport", "verify_log"]

Entry = tuple[int, bytes, bytes]
"""(seq, leaf_hash, body), as stored."""


class LogSource(Protocol):
    def entry_batches(self, start: int = 0, stop: int | None = None) -> Iterator[Sequence[Entry]]:
        """Entries with start <= seq < stop, in seq order, in batches."""
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
class _Pending:
    """Checkpoints still ahead of the pass, smallest first."""

    stored: Iterator[str]
    witnessed: list[Checkpoint]
    next_stored: tuple[Checkpoint, str] | None = None

    def advance_stored(self) -> None:
        note = next(self.stored, None)
        self.next_stored = None if note is None else (parse_note(note)[0], note)

    def next_size(self) -> int | None:
        sizes = [c.size for c in self.witnessed[:1]]
        if self.next_stored is not None:
            sizes.append(self.next_stored[0].size)
        return min(sizes) if sizes else None


def verify_log(
    source: LogSource,
    verifier: NoteVerifier,
    origin: str,
    witnessed: Iterable[Checkpoint] = (),
    progress: Callable[[int], None] | None = None,
) -> VerificationReport:
    """Verify every entry of `source`; `witnessed` checkpoints were opened with `verifier`."""
    report = VerificationReport(origin=origin)
    pending = _Pending(
        stored=source.checkpoint_notes(), witnessed=sorted(witnessed, key=lambda c: c.size)
    )
    tree = CompactRange()
    try:
        _check_origin(pending.witnessed, origin, report)
        pending.advance_stored()
        _stream(source, verifier, origin, pending, tree, report, progress)
        _check_beyond_end(pending, verifier, tree.size, report)
        _check_newest_signed(source, verifier, tree.size, report)
    except _Stop:
        pass
    except LedgerError as e:
        report.findings.append(Finding(None, f"stored checkpoint is not well formed: {e}"))
    report.entries = tree.size
    report.root_hash = tree.root()
    return report


def _check_origin(
    checkpoints: Sequence[Checkpoint], origin: str, report: VerificationReport
) -> None:
    for checkpoint in checkpoints:
        if checkpoint.origin != origin:
            report.findings.append(
                Finding(None, f"checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
            )
            raise _Stop


def _stream(
    source: LogSource,
    verifier: NoteVerifier,
    origin: str,
    pending: _Pending,
    tree: CompactRange,
    report: VerificationReport,
    progress: Callable[[int], None] | None,
) -> None:
    """The single pass over every entry."""
    sha = hashlib.sha256
    matched = 0  # the largest size whose rebuilt root equalled a checkpoint's
    for batch in source.entry_batches():
        first = tree.size
        if batch[0][0] != first or batch[-1][0] != first + len(batch) - 1:
            _report_gap(batch, first, report)
        leaves = [sha(b"\x00" + body).digest() for _, _, body in batch]
        if leaves != [stored for _, stored, _ in batch]:
            seq = next(row[0] for row, leaf in zip(batch, leaves, strict=True) if row[1] != leaf)
            report.findings.append(
                Finding(seq, f"entry {seq}: leaf hash does not match its body (one was altered)")
            )
            raise _Stop
        while (size := pending.next_size()) is not None and size <= first + len(leaves):
            tree.extend(leaves[tree.size - first : size - first])
            matched = _check_at(source, verifier, origin, pending, tree, report, matched)
        tree.extend(leaves[tree.size - first :])
        if progress is not None:
            progress(len(batch))
    if pending.next_size() == tree.size:
        _check_at(source, verifier, origin, pending, tree, report, matched)


def _report_gap(batch: Sequence[Entry], expected: int, report: VerificationReport) -> None:
    for offset, (seq, _, _) in enumerate(batch):
        if seq != expected + offset:
            missing = expected + offset
            report.findings.append(
                Finding(missing, f"entry {missing} is missing (the next entry present is {seq})")
            )
            raise _Stop


def _check_at(
    source: LogSource,
    verifier: NoteVerifier,
    origin: str,
    pending: _Pending,
    tree: CompactRange,
    report: VerificationReport,
    matched: int,
) -> int:
    root, size = tree.root(), tree.size
    while pending.witnessed and pending.witnessed[0].size == size:
        checkpoint = pending.witnessed.pop(0)
        report.checkpoints_checked += 1
        if checkpoint.root_hash != root:
            _report_divergence(source, matched, size, "the witnessed checkpoint", report)
        report.signed_size = max(report.signed_size, size)
    while pending.next_stored is not None and pending.next_stored[0].size == size:
        checkpoint, note = pending.next_stored
        report.checkpoints_checked += 1
        if checkpoint.origin != origin:
            report.findings.append(
                Finding(None, f"stored checkpoint at size {size} names another log")
            )
            raise _Stop
        if checkpoint.root_hash != root:
            _require_signed(verifier, note, size, report)
            _report_divergence(source, matched, size, "the stored signed checkpoint", report)
        matched = size
        pending.advance_stored()
    return matched


def _report_divergence(
    source: LogSource, start: int, size: int, what: str, report: VerificationReport
) -> None:
    """The rebuilt root differs from a signed one: name the entry as precisely as we can."""
    for batch in source.entry_batches(start, size):
        for seq, _, body in batch:
            claimed = _claimed_seq(body)
            if claimed != seq:
                report.findings.append(
                    Finding(
                        seq, f"entry {seq} holds the body of entry {claimed} (entries were moved)"
                    )
                )
                raise _Stop
    report.findings.append(
        Finding(
            start,
            f"entries {start}..{size - 1} do not hash to the root in {what} at size {size} "
            "(an entry and its leaf hash were rewritten together)",
        )
    )
    raise _Stop


def _claimed_seq(body: bytes) -> int | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    seq = doc.get("seq") if isinstance(doc, dict) else None
    return seq if isinstance(seq, int) else None


def _check_beyond_end(
    pending: _Pending, verifier: NoteVerifier, end: int, report: VerificationReport
) -> None:
    """A checkpoint larger than the log means entries were removed from its tail."""
    candidates = [c.size for c in pending.witnessed]
    while pending.next_stored is not None:
        checkpoint, note = pending.next_stored
        _require_signed(verifier, note, checkpoint.size, report)
        candidates.append(checkpoint.size)
        pending.advance_stored()
    if candidates:
        size = max(candidates)
        report.findings.append(
            Finding(
                end,
                f"a signed checkpoint covers {size} entries but the ledger holds {end}: "
                f"entries {end}..{size - 1} were removed",
            )
        )
        raise _Stop


def _require_signed(
    verifier: NoteVerifier, note: str, size: int, report: VerificationReport
) -> None:
    try:
        verifier.open(note)
    except LedgerError as e:
        report.findings.append(
            Finding(None, f"stored checkpoint at size {size} is not validly signed ({e})")
        )
        raise _Stop from None


def _check_newest_signed(
    source: LogSource, verifier: NoteVerifier, end: int, report: VerificationReport
) -> None:
    """Stored roots were compared cheaply; the newest must also carry a valid signature."""
    for note in source.checkpoint_notes(newest_first=True):
        checkpoint = parse_note(note)[0]
        _require_signed(verifier, note, checkpoint.size, report)
        report.signed_size = max(report.signed_size, checkpoint.size)
        break
    if end > report.signed_size:
        first = report.signed_size
        report.findings.append(
            Finding(
                first,
                f"entries {first}..{end - 1} are not covered by any signed checkpoint "
                "(written behind the instance's back)",
            )
        )
