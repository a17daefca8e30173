"""Policy governance: proposals awaiting a second person, the governance setting, and the
policy behind each deployment's authorization.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "policy_proposals",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("previous_digest", sa.String(64), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("simulation", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("proposed_at", sa.String(32), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("decided_seq", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_table(
        "policy_governance",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("one_person", sa.Boolean(), nullable=False),
        sa.Column("approver_role", sa.String(100), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("set_at", sa.String(32), nullable=False),
    )

    with op.batch_alter_table("deployments") as batch:
        batch.add_column(sa.Column("policy_digest", sa.String(64), nullable=True))
        batch.add_column(sa.Column("policy_active", sa.Boolean(), nullable=True))


def downgrade() -> None:
    raise RuntimeError("changeproof schemas only move forward")
