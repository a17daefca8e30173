"""Ledger use cases: status, checkpoints, proofs, verification, export, projection rebuild."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import Connection

from changeproof.domain.clock import Clock
from changeproof.domain.errors import Field, InputError, IntegrityError, UsageError, operation
from changeproof.domain.events import format_time
from changeproof.ledger import (
    Checkpoint,
    Finding,
    LedgerError,
    MissingNodeError,
    NoteSigner,
    ProofError,
    VerificationReport,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
    verify_log,
)
from changeproof.services.checkpoints import (
    open_checkpoint,
    open_checkpoint_file,
    read_checkpoint_note,
)
from changeproof.store import ledger as stored
from changeproof.store.database import Database

if TYPE_CHECKING:
    from changeproof.store.projections import Difference

__all__ = [
    "EXPORT_FORMAT",
    "ConsistencyProof",
    "ExportSummary",
    "InclusionProof",
    "LedgerService",
    "LedgerStatus",
]

EXPORT_FORMAT: Final = "changeproof-ledger-export"
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class LedgerStatus:
    origin: str
    tree_size: int
    root_hash: bytes
    checkpoint_size: int | None
    checkpoints: int
    verifier_key: str
    database: str


@dataclass(frozen=True, slots=True)
class InclusionProof:
    seq: int
    tree_size: int
    leaf_hash: bytes
    body: bytes
    root_hash: bytes
    proof: list[bytes]
    checkpoint: str


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    proof: list[bytes]
    new_checkpoint: str


@dataclass(frozen=True, slots=True)
class ExportSummary:
    path: Path
    entries: int
    checkpoints: int
    sha256: str


class LedgerService:
    def __init__(self, db: Database, signer: NoteSigner, clock: Clock) -> None:
        self._db = db
        self._signer = signer
        self._verifier = signer.verifier
        self._clock = clock
        self.origin = signer.name

    def status(self) -> LedgerStatus:
        with self._db.read() as conn:
            head = stored.read_head(conn)
            newest = stored.newest_checkpoint(conn)
            count = stored.count_checkpoints(conn)
        return LedgerStatus(
            origin=self.origin,
            tree_size=head.tree_size,
            root_hash=head.root_hash,
            checkpoint_size=None if newest is None else newest[0],
            checkpoints=count,
            verifier_key=self._verifier.vkey(),
            database=self._db.display_url(),
        )

    def checkpoint(self) -> str:
        """The newest signed checkpoint, after checking it still describes the stored ledger."""
        with self._db.read() as conn:
            note, checkpoint = self._newest(conn)
            head = stored.read_head(conn)
            if checkpoint.size != head.tree_size or checkpoint.root_hash != head.root_hash:
                raise IntegrityError(
                    f"the newest checkpoint (size {checkpoint.size}) does not describe the ledger "
                    f"head (size {head.tree_size})",
                    first_bad_seq=min(checkpoint.size, head.tree_size),
                    hint=f"run {operation('ledger verify')}",
                )
        return note

    def prove(self, seq: int, checkpoint: Path | str | None = None) -> InclusionProof:
        """Entry `seq`'s inclusion proof against the newest checkpoint, or against
        `checkpoint`: a checkpoint file, or a checkpoint's text as a client sent it."""
        with self._db.read() as conn:
            if checkpoint is None:
                note, signed = self._newest(conn)
            else:
                note, signed = self._brought(checkpoint, "checkpoint")
            if not 0 <= seq < signed.size:
                raise UsageError(f"entry {seq} is not in the tree of size {signed.size}")
            source = stored.SqlHashSource(conn)
            self._require_tree(conn, signed)
            body = self._entry_body(conn, seq)
            leaf = leaf_hash(body)
            try:
                proof = inclusion_proof(source, seq, signed.size)
                verify_inclusion(leaf, seq, signed.size, proof, signed.root_hash)
            except MissingNodeError as e:
                raise IntegrityError(f"cannot prove entry {seq}: {e}", first_bad_seq=seq) from e
            except ProofError as e:
                raise IntegrityError(
                    f"entry {seq} is not provably in the signed tree of size {signed.size}: {e}",
                    first_bad_seq=seq,
                ) from e
        return InclusionProof(seq, signed.size, leaf, body, signed.root_hash, proof, note)

    def consistency(
        self, old_file: Path | str, new_file: Path | str | None = None
    ) -> ConsistencyProof:
        """That the ledger only grew since `old_file` (a checkpoint file, or a checkpoint's
        text as a client sent it): to the newest checkpoint, or to `new_file`."""
        _, old = self._brought(old_file, "old checkpoint")
        with self._db.read() as conn:
            if new_file is None:
                note, new = self._newest(conn)
            else:
                note, new = self._brought(new_file, "new checkpoint")
            if old.size > new.size:
                if new_file is not None:
                    raise UsageError(
                        f"{old_file} (size {old.size}) is newer than {new_file} (size {new.size})"
                    )
                raise IntegrityError(
                    f"{old_file} covers {old.size} entries but the ledger's newest checkpoint "
                    f"covers {new.size}: entries {new.size}..{old.size - 1} were removed",
                    first_bad_seq=new.size,
                )
            self._require_tree(conn, new)
            try:
                proof = consistency_proof(stored.SqlHashSource(conn), old.size, new.size)
                verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
            except (ProofError, MissingNodeError) as e:
                raise IntegrityError(
                    f"the ledger is not an extension of {old_file} (size {old.size}): "
                    f"history before entry {old.size} was rewritten ({e})",
                    hint=f"run {operation('ledger verify', checkpoint='FILE')} with that "
                    f"file to find it",
                ) from e
        return ConsistencyProof(old.size, new.size, old.root_hash, new.root_hash, proof, note)

    def verify(
        self, checkpoint_files: Sequence[Path] = (), progress: Progress | None = None
    ) -> VerificationReport:
        witnessed = [open_checkpoint_file(p, self._verifier, self.origin) for p in checkpoint_files]
        with self._db.read() as conn:
            report = verify_log(
                stored.SqlLogSource(conn),
                self._verifier,
                self.origin,
                witnessed,
                progress,
                subtrees=stored.SqlHashSource(conn),
            )
            head = stored.read_head(conn)
        if report.ok and (head.tree_size, head.root_hash) != (report.entries, report.root_hash):
            # The head is where appends start from; a wrong one would be signed over next.
            report.findings.append(
                Finding(
                    min(head.tree_size, report.entries),
                    f"the ledger head says {head.tree_size} entries with another root than the "
                    f"{report.entries} entries rebuild to (ledger_head was altered)",
                )
            )
        return report

    def size(self) -> int:
        with self._db.read() as conn:
            return stored.read_head(conn).tree_size

    def export(self, out: Path, progress: Progress | None = None) -> ExportSummary:
        if out.is_dir():
            raise InputError(f"{out} is a directory; give a file name for the export")
        partial = out.with_name(out.name + ".partial")
        digest = hashlib.sha256()
        entries = checkpoints = 0
        try:
            with self._db.read() as conn, partial.open("wb") as handle:
                head = stored.read_head(conn)
                header = {
                    "format": EXPORT_FORMAT,
                    "version": 1,
                    "origin": self.origin,
                    "public_key": self._verifier.vkey(),
                    "tree_size": head.tree_size,
                    "root_hash": head.root_hash.hex(),
                    "exported_at": format_time(self._clock.now()),
                }
                for line in _export_lines(conn, header, progress):
                    handle.write(line)
                    digest.update(line)
                    entries += line.startswith(b'{"seq"')
                    checkpoints += line.startswith(b'{"checkpoint"')
                handle.flush()
                os.fsync(handle.fileno())
            partial.replace(out)
        except OSError as e:
            partial.unlink(missing_ok=True)
            raise InputError(f"cannot write the export to {out}: {e.strerror}") from e
        return ExportSummary(out, entries, checkpoints, digest.hexdigest())

    def rebuild(self, *, check_only: bool) -> list[Difference]:
        # Every projector loads with this: only a rebuild needs them, not a status read.
        from changeproof.store.projections import compare_with_rebuild, rebuild

        if check_only:
            with self._db.read() as conn:
                return compare_with_rebuild(conn)
        with self._db.write() as conn:
            rebuild(conn)
        return []

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Entries `start`..`end - 1` (to the head when `end` is None) as JSON lines in the
        export's form (`{"seq", "leaf_hash", "body"}`), read in batches as they are sent."""
        with self._db.read() as conn:
            size = stored.read_head(conn).tree_size
            stop = size if end is None else end
            if not 0 <= start <= stop <= size:
                raise UsageError(
                    f"entries {start}..{stop} are not in the ledger of {size} entries",
                    hint=f"give 0 <= {Field('start')} <= {Field('end')} <= {size}",
                )
            for batch in stored.SqlLogSource(conn).entry_batches(start, stop):
                for seq, leaf, body in batch:
                    yield _line({"seq": seq, "leaf_hash": leaf.hex(), "body": body.decode()})

    def _brought(self, checkpoint: Path | str, what: str) -> tuple[str, Checkpoint]:
        """A checkpoint someone brought, as a file or as its text; opened and checked."""
        if isinstance(checkpoint, Path):
            note = read_checkpoint_note(checkpoint)
            return note, open_checkpoint(note, self._verifier, self.origin, source=str(checkpoint))
        return checkpoint, open_checkpoint(checkpoint, self._verifier, self.origin, source=what)

    def _newest(self, conn: Connection) -> tuple[str, Checkpoint]:
        newest = stored.newest_checkpoint(conn)
        if newest is None:
            raise IntegrityError("the ledger has no signed checkpoint", first_bad_seq=0)
        note = newest[1]
        return note, open_checkpoint(
            note, self._verifier, self.origin, source="the newest checkpoint"
        )

    def _require_tree(self, conn: Connection, checkpoint: Checkpoint) -> None:
        """The stored hashes must rebuild the signed root, or every proof from them is a lie."""
        head = stored.read_head(conn)
        if checkpoint.size > head.tree_size:
            raise IntegrityError(
                f"a checkpoint covers {checkpoint.size} entries but the ledger holds "
                f"{head.tree_size}: entries {head.tree_size}..{checkpoint.size - 1} were removed",
                first_bad_seq=head.tree_size,
            )
        try:
            root = root_hash(stored.SqlHashSource(conn), checkpoint.size)
        except LedgerError as e:
            raise IntegrityError(f"the ledger's stored hashes are incomplete: {e}") from e
        if root != checkpoint.root_hash:
            raise IntegrityError(
                f"the stored ledger does not rebuild the signed root at size {checkpoint.size}",
                hint=f"run {operation('ledger verify')} to find the altered entry",
            )

    def _entry_body(self, conn: Connection, seq: int) -> bytes:
        for batch in stored.SqlLogSource(conn, page=1).entry_batches(seq, seq + 1):
            return batch[0][2]
        raise IntegrityError(f"entry {seq} is missing from the ledger", first_bad_seq=seq)


def _export_lines(
    conn: Connection, header: dict[str, object], progress: Progress | None
) -> Iterator[bytes]:
    """Header, then entries with each checkpoint right after the entry that completes it."""
    yield _line(header)
    source = stored.SqlLogSource(conn)
    notes = source.checkpoints()
    pending = next(notes, None)
    for batch in source.entry_batches():
        for seq, leaf, body in batch:
            yield _line({"seq": seq, "leaf_hash": leaf.hex(), "body": body.decode("utf-8")})
            while pending is not None and pending[0] <= seq + 1:
                yield _line({"checkpoint": pending[1]})
                pending = next(notes, None)
        if progress is not None:
            progress(len(batch))
    while pending is not None:
        yield _line({"checkpoint": pending[1]})
        pending = next(notes, None)


def _line(doc: dict[str, object]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
