"""The ledger tables, the artifacts projection, and append-only guards.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_GUARDED = ("ledger_events", "ledger_subtrees", "ledger_checkpoints")


def upgrade() -> None:
    seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "ledger_events",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
    )
    op.create_table(
        "ledger_subtrees",
        sa.Column("height", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("tree_size", seq, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.String(32), nullable=False),
    )
    head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.CheckConstraint("id = 1", name="ledger_head_single_row"),
    )
    op.bulk_insert(head, [{"id": 1, "tree_size": 0, "root_hash": hashlib.sha256(b"").digest()}])
    op.create_table(
        "artifacts",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("version", sa.String(200), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_artifacts_sha256", "artifacts", ["sha256"])
    op.create_index("ix_artifacts_service_version", "artifacts", ["service", "version"])
    _guard_append_only()


def _guard_append_only() -> None:
    """Refuse UPDATE and DELETE on ledger rows. A database owner can drop these triggers,
    which is why the ledger is also hashed and signed; they stop accidents, not adversaries."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION changeproof_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'ledger table % is append-only', TG_TABLE_NAME; END $$"
        )
        for table in _GUARDED:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION changeproof_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION changeproof_append_only()"
            )
        return
    for table in _GUARDED:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'ledger table {table} is append-only'); END"
            )


def downgrade() -> None:
    raise RuntimeError("the ledger cannot be downgraded: its tables are append-only")
