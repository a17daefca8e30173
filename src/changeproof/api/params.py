"""Parameters several routes take, bounded as the store can hold them.

A ledger seq is a signed 64-bit integer in PostgreSQL: a number past it is refused here
with 400, never sent to the database to fail there as a 500.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Path, Query

__all__ = ["SEQ_MAX", "EntrySeq", "RangeEnd", "RangeStart"]

SEQ_MAX: Final = 2**63 - 1

EntrySeq = Annotated[int, Path(ge=0, le=SEQ_MAX, description="A ledger entry's seq")]
RangeStart = Annotated[int, Query(ge=0, le=SEQ_MAX, description="The first entry's seq")]
RangeEnd = Annotated[
    int | None, Query(ge=0, le=SEQ_MAX, description="Stop before this seq (default: the head)")
]
