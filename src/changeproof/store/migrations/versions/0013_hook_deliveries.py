"""Webhook deliveries: `hook_deliveries`, the projection of hook.received and hook.processed
by which a redelivered webhook is recognised.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hook_deliveries",
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("delivery", sa.String(255), primary_key=True),
        sa.Column("seq", _Seq, nullable=False, unique=True),
        sa.Column("event", sa.String(255), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("processed_seq", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("recorded", sa.Text(), nullable=True),
    )
    op.create_index("ix_hook_deliveries_outcome", "hook_deliveries", ["outcome"])


def downgrade() -> None:
    op.drop_index("ix_hook_deliveries_outcome", "hook_deliveries")
    op.drop_table("hook_deliveries")
