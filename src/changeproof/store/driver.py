"""The database driver's own cursor, for the few statements every write runs.

SQLAlchemy Core compiles, cache-keys and wraps each statement it runs; a unit of work that
records one event (a gate decision) runs half a dozen fixed statements, and through Core they
cost more than the database takes to do them. Here they are fixed SQL text in qmark style
(`?`), given to the transaction's own DBAPI cursor with the driver's placeholder.

On PostgreSQL each statement is also a round trip to the server. `batch(conn)` sends the
driver-cursor statements inside it together (psycopg's pipeline mode): the server runs them
in order, the client waits once, when it fetches a row or the batch ends.

Driver errors come out wrapped as SQLAlchemy's (`IntegrityError`, `OperationalError`, ...),
as from any other statement, so callers tell a conflict or a lost server the same way.

Plain SQL with IN lists, here or through `exec_driver_sql`, takes its markers from
`placeholders` and its runs of values from `chunks`, so no statement binds more values than
SQLite allows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, TypeVar, cast

from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine.interfaces import DBAPICursor, DBAPIModule

__all__ = ["IN_CHUNK", "DriverCursor", "batch", "chunks", "placeholders"]

# Values bound in one IN list. SQLite refuses a statement binding more than
# SQLITE_MAX_VARIABLE_NUMBER values: 999 by default before 3.32.0, and a build may keep that
# limit; 900 stays under it with room for the statement's other parameters.
IN_CHUNK: Final = 900

_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int = IN_CHUNK) -> Iterator[Sequence[_T]]:
    """`items` in runs of at most `size`: one IN list each."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def placeholders(count: int, conn: Connection | None = None) -> str:
    """`count` parameter markers, comma-separated (an IN list, a VALUES row): `?`, as
    `DriverCursor` takes them, or, given `conn`, its driver's own (for `exec_driver_sql`)."""
    marker = "?" if conn is None or _qmark(conn) else "%s"
    return ", ".join([marker] * count)


def _qmark(conn: Connection) -> bool:
    """Whether the driver takes `?` (SQLite's) rather than `%s` (psycopg's)."""
    return conn.dialect.paramstyle == "qmark"


class DriverCursor:
    """The DBAPI cursor of `conn`'s transaction, taking SQL written with `?` placeholders."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._qmark = _qmark(conn)
        self._cursor: DBAPICursor = conn.connection.cursor()

    def execute(self, text: str, params: Sequence[object] = ()) -> None:
        sql = self._native(text)
        with _wrapped(self._conn, sql, self._cursor):
            self._cursor.execute(sql, params)

    def executemany(self, text: str, rows: Sequence[Sequence[object]]) -> None:
        if len(rows) == 1:  # psycopg's executemany sets up a pipeline of its own: not for one
            self.execute(text, rows[0])
        elif rows:
            sql = self._native(text)
            with _wrapped(self._conn, sql, self._cursor):
                self._cursor.executemany(sql, rows)

    def _native(self, text: str) -> str:
        """`text` with the driver's placeholder (psycopg's `%s`) for `?`."""
        return text if self._qmark else text.replace("?", "%s")

    def fetchone(self) -> Sequence[Any] | None:
        with _wrapped(self._conn, "(fetching a row)", self._cursor):
            return cast(Sequence[Any] | None, self._cursor.fetchone())

    def fetchall(self) -> Sequence[Sequence[Any]]:
        with _wrapped(self._conn, "(fetching rows)", self._cursor):
            return cast(Sequence[Sequence[Any]], self._cursor.fetchall())

    def close(self) -> None:
        self._cursor.close()


@contextmanager
def batch(conn: Connection) -> Iterator[None]:
    """`DriverCursor` statements run inside go to the server together where the driver can.

    Not for Core statements: in psycopg's pipeline mode SQLAlchemy sees no rows. Not nested:
    an inner batch waits for the server when it ends.
    """
    if _qmark(conn):  # SQLite runs in-process: no round trips to save
        yield
        return
    pipeline = conn.connection.driver_connection.pipeline  # type: ignore[union-attr]  # psycopg
    with _wrapped(conn, "(a batch of statements)", None), pipeline():
        yield


@contextmanager
def _wrapped(conn: Connection, statement: str, cursor: DBAPICursor | None) -> Iterator[None]:
    dialect = conn.dialect
    dbapi_error = cast(type[Exception], dialect.loaded_dbapi.Error)
    try:
        yield
    except dbapi_error as e:
        raise sa_exc.DBAPIError.instance(
            statement,
            None,  # not the parameters: a body may be large, and the ledger has it anyway
            e,
            dbapi_error,
            connection_invalidated=dialect.is_disconnect(cast(DBAPIModule.Error, e), None, cursor),
            dialect=dialect,
        ) from e
