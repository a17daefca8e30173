"""Releases, commits, tickets, changed paths, evidence; artifacts bound to a release.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    with op.batch_alter_table("artifacts") as batch:
        batch.add_column(sa.Column("release", sa.String(201), nullable=True))
        batch.create_index("ix_artifacts_release", ["release"])
    op.create_table(
        "commits",
        sa.Column("sha", sa.String(64), primary_key=True),
        sa.Column("seq", seq, nullable=False),
        sa.Column("record_sha256", sa.String(64), nullable=False),
        sa.Column("author_name", sa.Text(), nullable=False),
        sa.Column("author_email", sa.Text(), nullable=False),
        sa.Column("author_time", sa.String(40), nullable=False),
        sa.Column("committer_name", sa.Text(), nullable=False),
        sa.Column("committer_email", sa.Text(), nullable=False),
        sa.Column("committer_time", sa.String(40), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("merge", sa.Boolean(), nullable=False),
        sa.Column("reverts", sa.String(64), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
    )
    op.create_table(
        "commit_tickets",
        sa.Column("sha", sa.String(64), primary_key=True),
        sa.Column("system", sa.String(100), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("closes", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_commit_tickets_key", "commit_tickets", ["key"])
    op.create_table(
        "commit_paths",
        sa.Column("sha", sa.String(64), primary_key=True),
        sa.Column("path", sa.Text(), primary_key=True),
        sa.Column("added", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Integer(), nullable=True),
        sa.Column("old_path", sa.Text(), nullable=True),
    )
    op.create_table(
        "releases",
        sa.Column("service", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("seq", seq, nullable=False, unique=True),
        sa.Column("from_ref", sa.Text(), nullable=True),
        sa.Column("to_ref", sa.Text(), nullable=False),
        sa.Column("from_sha", sa.String(64), nullable=True),
        sa.Column("to_sha", sa.String(64), nullable=False),
        sa.Column("from_source", sa.String(20), nullable=False),
        sa.Column("ancestor", sa.Boolean(), nullable=False),
        sa.Column("repository", sa.Text(), nullable=True),
        sa.Column("commit_count", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "release_commits",
        sa.Column("service", sa.String(100), primary_key=True),
        sa.Column("release", sa.String(100), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("sha", sa.String(64), nullable=False),
    )
    op.create_index("ix_release_commits_sha", "release_commits", ["sha"])
    op.create_table(
        "evidence",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("release", sa.String(201), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("format", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("release", "kind", "sha256", name="uq_evidence_release_kind_sha256"),
    )
    op.create_table(
        "evidence_bindings",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("subject_type", sa.String(10), primary_key=True),
        sa.Column("subject", sa.String(64), primary_key=True),
    )
    op.create_index("ix_evidence_bindings_subject", "evidence_bindings", ["subject"])


def downgrade() -> None:
    raise RuntimeError("changeproof schemas only move forward")
