"""Errors of the pure ledger layer (it imports nothing of ours, so it has its own tree).

LedgerError
├── ProofError            a proof does not verify against the root it claims
├── NoteFormatError       a checkpoint/signed note is not well formed
├── KeyMismatchError      the key given is not the key that signed the note
├── SignatureError        the right key, but the signature does not verify
└── MissingNodeError      a stored hash a proof needs is not in the store
"""

from __future__ import annotations

__all__ = [
    "KeyMismatchError",
    "LedgerError",
    "MissingNodeError",
    "NoteFormatError",
    "ProofError",
    "SignatureError",
]


class LedgerError(Exception):
    """Root of the ledger's errors."""


class ProofError(LedgerError):
    pass


class NoteFormatError(LedgerError):
    pass


class KeyMismatchError(LedgerError):
    pass


class SignatureError(LedgerError):
    pass


class MissingNodeError(LedgerError):
    def __init__(self, message: str, *, height: int, index: int) -> None:
        super().__init__(message)
        self.height = height
        self.index = index
