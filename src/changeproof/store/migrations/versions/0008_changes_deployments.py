"""Changes (their RFC revisions, approvals and rejections, exports) and deployments.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "changes",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("release", sa.String(201), nullable=False),
        sa.Column("environment", sa.String(100), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("urgent_reason", sa.Text(), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("opened_at", sa.String(32), nullable=False),
        sa.Column("review_due", sa.String(32), nullable=True),
        sa.Column("reviewed_seq", sa.BigInteger(), nullable=True),
        sa.Column("review_outcome", sa.String(20), nullable=True),
        sa.Column("reviewed_by", sa.String(200), nullable=True),
        sa.Column("reviewed_at", sa.String(32), nullable=True),
        sa.Column("review_notes", sa.Text(), nullable=True),
    )
    op.create_index("ix_changes_release_environment", "changes", ["release", "environment"])
    op.create_table(
        "change_revisions",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_index("ix_change_revisions_change", "change_revisions", ["change_seq"])
    op.create_table(
        "change_verdicts",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_change_verdicts_change", "change_verdicts", ["change_seq"])
    op.create_table(
        "change_exports",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("system", sa.String(40), nullable=False),
        sa.Column("remote_id", sa.String(200), nullable=False),
        sa.Column("remote_key", sa.String(200), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("exported_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_change_exports_change", "change_exports", ["change_seq"])
    op.create_table(
        "deployments",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("release", sa.String(201), nullable=False),
        sa.Column("environment", sa.String(100), nullable=False),
        sa.Column("artifact", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("pipeline_run", sa.Text(), nullable=True),
        sa.Column("authorized", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decision_seq", sa.BigInteger(), nullable=True),
        sa.Column("change_seq", sa.BigInteger(), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_deployments_environment", "deployments", ["environment", "seq"])
    op.create_table(
        "deployment_updates",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("deployment_seq", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_deployment_updates_deployment", "deployment_updates", ["deployment_seq"])
    op.create_table(
        "deployment_checks",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("deployment_seq", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("details_sha256", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("checked_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_deployment_checks_deployment", "deployment_checks", ["deployment_seq"])


def downgrade() -> None:
    raise RuntimeError("changeproof schemas only move forward")
