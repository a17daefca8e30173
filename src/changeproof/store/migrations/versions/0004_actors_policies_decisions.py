"""Actors with aliases, roles and groups; policies by digest; gate decisions.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "actors",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("seq", seq, nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("added_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "actor_aliases",
        sa.Column("kind", sa.String(10), primary_key=True),
        sa.Column("value", sa.String(320), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_index("ix_actor_aliases_name", "actor_aliases", ["name"])
    op.create_table(
        "actor_grants",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("value", sa.String(100), nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("revoked_seq", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_actor_grants_name", "actor_grants", ["name"])
    op.create_table(
        "policies",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("seq", seq, nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
    )
    op.create_table(
        "decisions",
        sa.Column("seq", seq, primary_key=True, autoincrement=False),
        sa.Column("release", sa.String(201), nullable=False),
        sa.Column("environment", sa.String(100), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("classification", sa.String(20), nullable=False),
        sa.Column("policy_digest", sa.String(64), nullable=False),
        sa.Column("deployer", sa.String(200), nullable=True),
        sa.Column("artifact", sa.String(64), nullable=True),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("as_of_seq", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_index("ix_decisions_release_environment", "decisions", ["release", "environment"])


def downgrade() -> None:
    raise RuntimeError("changeproof schemas only move forward")
