"""Shared fixtures: real SQLite files, the real PostgreSQL server, the real CLI."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from changeproof.cli.main import run
from changeproof.services.instance import load_config
from changeproof.store.database import normalize_url

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


class FixedClock:
    """A clock tests move by hand; nothing here ever sleeps."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass(frozen=True)
class CliResult:
    code: int
    out: str
    err: str


Cli = Callable[..., CliResult]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `changeproof ARGS…` in-process; returns its exit code and what it printed."""

    def invoke(*args: str | Path) -> CliResult:
        capsys.readouterr()
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


def _postgres_base_url() -> str:
    return os.environ.get("CHANGEPROOF_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL URL; skips (or, under CI, fails) when no server answers."""
    url = _postgres_base_url()
    engine = create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:  # any failure to connect means: no server here
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but PostgreSQL at {url} is unreachable: {e}")
        pytest.skip(f"no PostgreSQL at {url} (set CHANGEPROOF_TEST_POSTGRES_URL)")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A database URL whose tables live in a fresh schema, dropped afterwards."""
    schema = f"cp_test_{secrets.token_hex(6)}"
    admin = create_engine(normalize_url(postgres_server))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_server).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None means the embedded default (SQLite in the instance folder)."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_url")
    return url


_INIT = ("init", "--actor", "tester", "--origin", "test.example/ledger")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite instance made by `changeproof init`, copied for every test that needs one:
    a copy of its files is the same instance without paying for migrations and a key each
    time (config.toml names its database and key relative to the folder)."""
    where = tmp_path_factory.mktemp("template") / "instance"
    assert run([*_INIT, "--home", str(where)]) == 0
    return where


def _copy(template: Path, where: Path) -> Path:
    shutil.copytree(template, where)  # keeps the key's and folder's modes
    return where


@pytest.fixture
def home(tmp_path: Path, database_url: str | None, cli: Cli, sqlite_template: Path) -> Path:
    """An initialised instance on each backend."""
    where = tmp_path / "instance"
    if database_url is None:
        return _copy(sqlite_template, where)
    result = cli(*_INIT, "--home", where, "--database-url", database_url)
    assert result.code == 0, result.err
    return where


@pytest.fixture
def sqlite_home(tmp_path: Path, sqlite_template: Path) -> Path:
    return _copy(sqlite_template, tmp_path / "instance")


def instance_url(home: Path) -> str:
    config = load_config(home)
    return normalize_url(config.database_url, base=home).render_as_string(hide_password=False)


def tamper(home: Path, *statements: str, params: dict[str, object] | None = None) -> None:
    """Act as a database administrator: lift the append-only guards, then run raw SQL."""
    engine = create_engine(instance_url(home))
    try:
        with engine.begin() as conn:
            _lift_guards(conn)
            for statement in statements:
                conn.execute(text(statement), params or {})
    finally:
        engine.dispose()


def _lift_guards(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for table in ("ledger_events", "ledger_subtrees", "ledger_checkpoints"):
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        return
    names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
    for name in list(names):
        conn.execute(text(f'DROP TRIGGER "{name}"'))


def ints(home: Path, statement: str) -> list[int]:
    """The first column of every row, as integers."""
    return [int(str(row[0])) for row in query(home, statement)]


def query(home: Path, statement: str) -> list[tuple[object, ...]]:
    engine = create_engine(instance_url(home))
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(statement))]
    finally:
        engine.dispose()
