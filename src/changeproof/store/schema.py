"""Tables. The four `ledger_*` tables are the ledger; every other table is a projection.

`ledger_events` is a public contract for auditors (see docs/ledger.md):
  seq        0-based leaf index, contiguous
  leaf_hash  SHA-256(0x00 || body)
  body       the RFC 8785 canonical JSON of the event, UTF-8 bytes
  event_type copied from the body for indexing; not covered by the hash
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

__all__ = [
    "LEDGER_TABLES",
    "PROJECTION_TABLES",
    "artifacts",
    "ledger_checkpoints",
    "ledger_events",
    "ledger_head",
    "ledger_subtrees",
    "metadata",
]

metadata = MetaData()

# On SQLite an INTEGER PRIMARY KEY is the rowid itself: the fastest ordered key there is.
_Seq = BigInteger().with_variant(Integer, "sqlite")

ledger_events = Table(
    "ledger_events",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("event_type", String(100), nullable=False),
)

ledger_subtrees = Table(
    "ledger_subtrees",
    metadata,
    Column("height", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("tree_size", _Seq, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", String(32), nullable=False),
)

# One row: the lock appenders queue on, and the current size and root.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    CheckConstraint("id = 1", name="ledger_head_single_row"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("service", String(200), nullable=False),
    Column("version", String(200), nullable=True),
    Column("name", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Index("ix_artifacts_sha256", "sha256"),
    Index("ix_artifacts_service_version", "service", "version"),
)

LEDGER_TABLES = (ledger_events, ledger_subtrees, ledger_checkpoints, ledger_head)
PROJECTION_TABLES = (artifacts,)
