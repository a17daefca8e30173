"""The revision every open checks against is the one the migrations end at."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from changeproof.domain.errors import ConfigError
from changeproof.store import migrate
from changeproof.store.database import Database
from changeproof.store.schema_revision import HEAD_REVISION, current_revision, require_current


def test_the_expected_revision_is_the_newest_migration() -> None:
    assert migrate.head_revision() == HEAD_REVISION


def test_an_empty_database_holds_no_ledger_and_a_migrated_one_is_current(tmp_path: Path) -> None:
    db = Database(make_url(f"sqlite:///{tmp_path / 'x.db'}"))
    try:
        with db.read() as conn:
            assert current_revision(conn) is None
            with pytest.raises(ConfigError, match="holds no changeproof ledger"):
                require_current(conn)
        migrate.upgrade(db)
        with db.read() as conn:
            assert current_revision(conn) == HEAD_REVISION
            require_current(conn)
    finally:
        db.dispose()
