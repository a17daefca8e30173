"""The ledger: RFC 9162 Merkle math, C2SP checkpoints, and streaming verification. Pure."""

from changeproof.ledger.checkpoint import Checkpoint, NoteSigner, NoteVerifier, parse_note
from changeproof.ledger.errors import (
    KeyMismatchError,
    LedgerError,
    MissingNodeError,
    NoteFormatError,
    ProofError,
    SignatureError,
)
from changeproof.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    HashSource,
    MemoryHashSource,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaves,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from changeproof.ledger.verification import (
    Entry,
    Finding,
    LogSource,
    VerificationReport,
    verify_log,
)

__all__ = [
    "EMPTY_ROOT",
    "Checkpoint",
    "CompactRange",
    "Entry",
    "Finding",
    "HashSource",
    "KeyMismatchError",
    "LedgerError",
    "LogSource",
    "MemoryHashSource",
    "MissingNodeError",
    "NoteFormatError",
    "NoteSigner",
    "NoteVerifier",
    "ProofError",
    "SignatureError",
    "VerificationReport",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "parse_note",
    "root_from_leaves",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
    "verify_log",
]
