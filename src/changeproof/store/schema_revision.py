"""Which schema revision this code expects, checked on every open without loading Alembic.

Opening an instance is the first thing every command does; Alembic's script directory
costs tens of milliseconds to import and parse, so the newest revision is written down
here and a test holds it equal to what the migrations say.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Connection, inspect, text

from changeproof.domain.errors import ConfigError, operation

__all__ = ["HEAD_REVISION", "current_revision", "require_current"]

HEAD_REVISION: Final = "0013"


def current_revision(conn: Connection) -> str | None:
    """The revision Alembic stamped in the database, or None when it holds no schema."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    if len(rows) > 1:  # Alembic writes one; several mean branches this code never made
        found = ", ".join(sorted(str(r[0]) for r in rows))
        raise ConfigError(f"the database's schema is at several revisions at once ({found})")
    return str(rows[0][0]) if rows else None


def require_current(conn: Connection) -> None:
    current = current_revision(conn)
    if current is None:
        raise ConfigError(
            "the database holds no changeproof ledger", hint=f"run {operation('init')}"
        )
    if current != HEAD_REVISION:
        raise ConfigError(
            f"the database schema is at revision {current}, this changeproof expects "
            f"{HEAD_REVISION}",
            hint=f"run {operation('init', upgrade=None)} to migrate",
        )
