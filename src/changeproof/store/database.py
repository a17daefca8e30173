"""Engines and transactions for SQLite (embedded default) and PostgreSQL.

Writers are serialized by the database, never by this process: SQLite takes its single
write lock at `BEGIN IMMEDIATE`; PostgreSQL appenders queue on a row lock of
`ledger_head` (see `store.ledger`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url

from changeproof.domain.errors import ConfigError, UnavailableError
from changeproof.domain.identity import DEFAULT_RULES, IdentityRules

__all__ = ["IDENTITY_OPTION", "Database", "normalize_url"]

IDENTITY_OPTION: Final = "changeproof_identity"

_BUSY_TIMEOUT_MS: Final = 60_000
# SQLite refuses a write from a read transaction at once, without waiting (SQLite never calls
# its busy handler for a read transaction asking to write: two such waiters would deadlock),
# with SQLITE_BUSY (5) while another connection holds the write lock, and SQLITE_BUSY_SNAPSHOT
# (517, an extended code of 5) when another committed since the snapshot was taken. For an
# optimistic transaction both mean "another writer got there first". PostgreSQL: a row
# changed since a REPEATABLE READ transaction began.
_SQLITE_BUSY: Final = 5
_SERIALIZATION_FAILURE: Final = "40001"
# Pages a connection keeps in memory (SQLite's default is 2 MB): the indexes keyed by commit
# id, path or ticket take random inserts, and past the cache each insert rereads and spills
# pages. At 64 MB, release create over 100,000 commits spends 2.7 s in inserts instead of 5.
# A limit, not an allocation: small instances never fill it.
_CACHE_KIB: Final = 64 * 1024


def normalize_url(url: str, *, base: Path | None = None) -> URL:
    """Accept `sqlite:///file` (relative to `base`) and `postgresql://…`; pick our drivers."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as e:
        # Never quote it: a database URL may hold a password.
        raise ConfigError("the database URL is not a URL (postgresql://… or sqlite:///FILE)") from e
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise ConfigError("an instance needs an SQLite file, not an in-memory database")
        path = Path(database)
        if base is not None and not path.is_absolute():
            path = base / path
        return parsed.set(drivername="sqlite+pysqlite", database=str(path))
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    raise ConfigError(f"unsupported database {backend!r}: use sqlite:///FILE or postgresql://…")


class Database:
    """One engine, and the two kinds of transaction the store uses."""

    def __init__(self, url: URL, *, identity: IdentityRules = DEFAULT_RULES) -> None:
        self.url = url
        # The instance's identity rules travel with every connection (`store.actors`
        # builds the directory with them), so no caller can forget them.
        self.identity = identity
        self.dialect = url.get_backend_name()
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)

    def display_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that may append to the ledger."""
        with self._translate(waited=True), self.engine.connect() as conn:
            conn = conn.execution_options(changeproof_write=True, **self._options())
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction seeing one consistent snapshot."""
        with self._snapshot() as conn:
            yield conn

    @contextmanager
    def optimistic(self) -> Iterator[Connection]:
        """A transaction that reads one snapshot, holding no lock, and may then append: its
        first write fails (see `is_stale_snapshot`) when another appended since it began."""
        with self._snapshot() as conn:
            yield conn

    def is_stale_snapshot(self, error: exc.DBAPIError) -> bool:
        """Whether `error` refused an `optimistic` transaction's write because another writer
        committed since it began or is writing now: do the work again, holding the lock."""
        if self.dialect == "sqlite":
            code = getattr(error.orig, "sqlite_errorcode", None)
            return isinstance(code, int) and code & 0xFF == _SQLITE_BUSY
        return getattr(error.orig, "sqlstate", None) == _SERIALIZATION_FAILURE

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        with self._translate(), self.engine.connect() as conn:
            conn = conn.execution_options(**self._options())
            if self.dialect == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    def _options(self) -> dict[str, object]:
        return {IDENTITY_OPTION: self.identity}

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _translate(self, *, waited: bool = False) -> Iterator[None]:
        """`waited`: a write transaction, which waits up to the busy timeout for SQLite's
        write lock; still locked after that, the store is as good as unavailable."""
        try:
            yield
        except exc.OperationalError as e:
            if waited and self.dialect == "sqlite" and self.is_stale_snapshot(e):
                raise UnavailableError(
                    f"the database {self.display_url()} stayed locked by another writer for "
                    f"{_BUSY_TIMEOUT_MS // 1000} s",
                    hint="another process holds a long write; try again when it is done",
                ) from e
            if not self.is_stale_snapshot(e) and _is_connection_error(e):
                raise UnavailableError(
                    f"cannot reach the database {self.display_url()}: {_first_line(e.orig)}"
                ) from e
            raise


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error and str(error).strip() else "no answer"


def _is_connection_error(error: exc.OperationalError) -> bool:
    if error.connection_invalidated:
        return True
    text = str(error.orig).lower()
    return any(
        marker in text
        for marker in ("connection", "could not", "unable to open", "server closed", "timeout")
    )


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(url, connect_args={"timeout": _BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Take over transaction control from the driver so BEGIN can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed ledger entry survives power loss, not just a killed process.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")  # negative: KiB, not pages
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("changeproof_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
