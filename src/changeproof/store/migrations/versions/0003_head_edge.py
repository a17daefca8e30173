"""The tree's right edge kept on the head row, so an append reads no subtree rows.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL until the next append writes it: appends then load the edge from ledger_subtrees.
    with op.batch_alter_table("ledger_head") as batch:
        batch.add_column(sa.Column("edge", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    raise RuntimeError("changeproof schemas only move forward")
