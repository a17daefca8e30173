"""Aliases added after the fact and actor kinds: `actor_aliases.seq` (the entry that added
the alias, so the directory as of an earlier entry leaves later aliases out) and
`actors.kind` (person or pipeline).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("actors") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="person"))
    with op.batch_alter_table("actor_aliases") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
    # Every alias so far came with its actor's actor.added entry.
    op.execute(
        "UPDATE actor_aliases SET seq = "
        "(SELECT actors.seq FROM actors WHERE actors.name = actor_aliases.name)"
    )
    with op.batch_alter_table("actor_aliases") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
    op.create_index("ix_actor_aliases_seq", "actor_aliases", ["seq"])


def downgrade() -> None:
    raise RuntimeError("changeproof schemas only move forward")
