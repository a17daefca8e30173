"""Reading checkpoint files people bring (exported earlier, kept by a witness or auditor)."""

from __future__ import annotations

from pathlib import Path

from changeproof.domain.errors import InputError, IntegrityError
from changeproof.ledger import (
    Checkpoint,
    KeyMismatchError,
    NoteFormatError,
    NoteVerifier,
    SignatureError,
)
from changeproof.ledger.checkpoint import MAX_NOTE_BYTES
from changeproof.services.files import read_input

__all__ = ["open_checkpoint", "open_checkpoint_file", "read_checkpoint_note"]


def open_checkpoint_file(path: Path, verifier: NoteVerifier, origin: str) -> Checkpoint:
    """Read and open a checkpoint file: InputError for a wrong file, IntegrityError for forgery."""
    return open_checkpoint(read_checkpoint_note(path), verifier, origin, source=str(path))


def read_checkpoint_note(path: Path) -> str:
    """A checkpoint file's text, unopened: InputError when it is no file of text."""
    data = read_input(path, "checkpoint file", limit=MAX_NOTE_BYTES)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path} is not a checkpoint: not UTF-8 text") from e


def open_checkpoint(note: str, verifier: NoteVerifier, origin: str, *, source: str) -> Checkpoint:
    try:
        checkpoint = verifier.open(note)
    except NoteFormatError as e:
        raise InputError(f"{source} is not a signed checkpoint: {e}") from e
    except KeyMismatchError as e:
        raise InputError(f"{source} was not signed by this instance's key: {e}") from e
    except SignatureError as e:
        raise IntegrityError(f"{source}: {e}") from e
    if checkpoint.origin != origin:
        raise InputError(f"{source} is a checkpoint of log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint
