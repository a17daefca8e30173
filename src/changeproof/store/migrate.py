"""Schema changes, through Alembic, in-process."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from changeproof.domain.errors import ConfigError
from changeproof.store.database import Database

__all__ = ["current_revision", "head_revision", "require_current", "upgrade"]


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


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def require_current(conn: Connection) -> None:
    current, head = current_revision(conn), head_revision()
    if current is None:
        raise ConfigError("the database holds no changeproof ledger", hint="run `changeproof init`")
    if current != head:
        raise ConfigError(
            f"the database schema is at revision {current}, this changeproof expects {head}",
            hint="run `changeproof init --upgrade` to migrate",
        )
