"""Projections of the webhook events: the `hook_deliveries` table.

`store.projections` imports this module so its registry holds these functions.

hook.received    one `hook_deliveries` row keyed by (source, delivery), outcome NULL
hook.processed   sets the outcome, reason and recorded entries on that row, once
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, update

from changeproof.domain.events import RecordedEvent, format_time
from changeproof.domain.hooks import HOOK_PROCESSED, HOOK_RECEIVED, HookProcessed, HookReceived
from changeproof.store.projections import projects
from changeproof.store.schema import hook_deliveries

__all__: list[str] = []


@projects(HOOK_RECEIVED)
def _received(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    rows = []
    for event in events:
        received = event.as_(HookReceived)
        rows.append(
            {
                "source": received.source.value,
                "delivery": received.delivery,
                "seq": event.seq,
                "event": received.event,
                "payload_sha256": received.payload_sha256,
                "actor": event.actor,
                "received_at": format_time(event.time),
                "processed_seq": None,
                "outcome": None,
                "reason": None,
                "recorded": None,
            }
        )
    conn.execute(hook_deliveries.insert(), rows)


@projects(HOOK_PROCESSED)
def _processed(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        processed = event.as_(HookProcessed)
        conn.execute(
            update(hook_deliveries)
            .where(
                hook_deliveries.c.seq == processed.received_seq,
                hook_deliveries.c.processed_seq.is_(None),
            )
            .values(
                processed_seq=event.seq,
                outcome=processed.outcome.value,
                reason=processed.reason,
                recorded=" ".join(str(s) for s in processed.recorded),
            )
        )
