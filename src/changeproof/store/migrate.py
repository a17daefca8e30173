"""Schema changes, through Alembic, in-process."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from changeproof.store.database import Database

__all__ = ["head_revision", "upgrade"]


def _config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "changeproof.store:migrations")
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def upgrade(db: Database) -> None:
    with db.write() as conn:
        command.upgrade(_config(conn), "head")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()
