"""Superseded commit records, so an earlier release keeps showing what it was made of.

Revision ID: 0006
Revises: 0005

Instances that recorded a commit twice before this revision keep only its newest version in
the projections; `changeproof ledger rebuild` restores the earlier ones from the ledger.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "commit_history",
        sa.Column("sha", sa.String(64), primary_key=True),
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("record", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    raise RuntimeError("changeproof schemas only move forward")
