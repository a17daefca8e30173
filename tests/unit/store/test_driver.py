"""Plain SQL's markers and IN-list runs: one way for every statement the store writes by hand."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine

from changeproof.store.driver import IN_CHUNK, chunks, placeholders

# The most heights a Merkle tree of 2**63 entries has: the other values `ledger`'s subtree
# query binds beside its IN lists.
HEIGHTS = 64


@given(st.lists(st.integers(), max_size=3_000), st.integers(min_value=1, max_value=1_000))
def test_chunks_keep_every_item_once_in_order_in_runs_of_at_most_size(
    items: list[int], size: int
) -> None:
    runs = list(chunks(items, size))
    assert [item for run in runs for item in run] == items
    assert all(0 < len(run) <= size for run in runs)
    assert all(len(run) == size for run in runs[:-1])


def test_placeholders_are_the_cursor_s_or_the_driver_s() -> None:
    assert placeholders(3) == "?, ?, ?"
    assert placeholders(0) == ""
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as conn:
            assert placeholders(2, conn) == "?, ?"
    finally:
        engine.dispose()


def test_an_in_list_binds_under_sqlite_s_old_default_limit() -> None:
    """SQLite before 3.32.0 refused more than 999 values in a statement; some builds still do."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
        values = list(range(IN_CHUNK + HEIGHTS))
        sql = f"SELECT count(*) FROM (SELECT 1) WHERE 1 IN ({placeholders(len(values))})"
        assert conn.execute(sql, values).fetchone() == (1,)
    finally:
        conn.close()
