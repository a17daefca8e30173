"""The schema Alembic builds is the schema the code declares; ledger rows refuse edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, exc, text

from changeproof.store.schema import metadata
from tests.conftest import Cli, instance_url, tamper


def test_migrations_build_exactly_the_declared_schema(home: Path) -> None:
    engine = create_engine(instance_url(home))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_events SET event_type = 'x' WHERE seq = 0",
        "DELETE FROM ledger_events WHERE seq = 0",
        "UPDATE ledger_checkpoints SET note = 'x'",
        "DELETE FROM ledger_checkpoints",
    ],
)
def test_ledger_rows_refuse_update_and_delete(home: Path, statement: str) -> None:
    engine = create_engine(instance_url(home))
    try:
        with pytest.raises(exc.DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


def test_schema_from_another_version_is_refused_with_a_hint(home: Path, cli: Cli) -> None:
    tamper(home, "UPDATE alembic_version SET version_num = '9999'")
    result = cli("ledger", "status", "--home", home)
    assert result.code == 2
    assert "revision 9999" in result.err
    assert "init --upgrade" in result.err


def test_rebuild_check_finds_edited_and_missing_projection_rows(
    home: Path, tmp_path: Path, cli: Cli
) -> None:
    for n in range(3):
        artifact = tmp_path / f"a{n}.bin"
        artifact.write_bytes(bytes([n]) * 10)
        assert cli("attest", "artifact", artifact, "--service", "svc", "--home", home).code == 0
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0

    tamper(
        home,
        "UPDATE artifacts SET sha256 = 'ff' WHERE seq = 2",
        "DELETE FROM artifacts WHERE seq = 3",
    )
    checked = cli("ledger", "rebuild", "--check", "--home", home, "-o", "json")
    assert checked.code == 4
    differences = {tuple(d["key"]): d for d in json.loads(checked.out)["differences"]}
    assert set(differences) == {(2,), (3,)}
    assert differences[(2,)]["live"]["sha256"] == "ff"
    assert differences[(2,)]["rebuilt"]["sha256"] != "ff"
    assert differences[(3,)]["live"] is None
    assert differences[(3,)]["rebuilt"]["seq"] == 3

    assert cli("ledger", "rebuild", "--home", home).code == 0
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0
