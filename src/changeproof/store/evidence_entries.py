"""The ledger's evidence entries themselves, read in order (for checking the evidence vault)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, select

from changeproof.domain.events import RecordedEvent, decode_body
from changeproof.domain.evidence import EVIDENCE_RECORDED
from changeproof.store.schema import ledger_events

__all__ = ["evidence_entries"]


def evidence_entries(conn: Connection) -> Iterator[RecordedEvent]:
    """Every `evidence.recorded` entry, oldest first, decoded from its body."""
    c = ledger_events.c
    rows = conn.execute(
        select(c.seq, c.body).where(c.event_type == EVIDENCE_RECORDED).order_by(c.seq)
    )
    for seq, body in rows:
        yield decode_body(bytes(body), seq=int(seq))
