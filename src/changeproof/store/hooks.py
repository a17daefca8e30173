"""Queries over webhook deliveries (the `hook_deliveries` projection) and the releases a
delivery's commit belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, select

from changeproof.domain.hooks import HookOutcome, HookSource
from changeproof.domain.releases import ReleaseRef
from changeproof.store.schema import hook_deliveries, release_commits, releases

__all__ = ["DeliveryRecord", "find_delivery", "pending_deliveries", "releases_holding"]


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    source: HookSource
    delivery: str
    seq: int  # hook.received
    event: str
    payload_sha256: str
    actor: str
    received_at: str
    processed_seq: int | None = None
    outcome: HookOutcome | None = None  # None: received, not processed yet
    reason: str | None = None
    recorded: tuple[int, ...] = ()


def find_delivery(conn: Connection, source: HookSource, delivery: str) -> DeliveryRecord | None:
    row = (
        conn.execute(
            select(hook_deliveries).where(
                hook_deliveries.c.source == source.value, hook_deliveries.c.delivery == delivery
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else _record(row)


def pending_deliveries(conn: Connection) -> list[DeliveryRecord]:
    """Deliveries received but never processed (the server stopped in between), oldest first."""
    query = (
        select(hook_deliveries)
        .where(hook_deliveries.c.outcome.is_(None))
        .order_by(hook_deliveries.c.seq)
    )
    return [_record(row) for row in conn.execute(query).mappings()]


def releases_holding(conn: Connection, sha: str) -> list[ReleaseRef]:
    """Every recorded release whose range holds the commit `sha`, oldest first."""
    query = (
        select(releases.c.service, releases.c.name)
        .join(
            release_commits,
            (release_commits.c.service == releases.c.service)
            & (release_commits.c.release == releases.c.name),
        )
        .where(release_commits.c.sha == sha)
        .distinct()
        .order_by(releases.c.service, releases.c.name)
    )
    return [ReleaseRef(str(r[0]), str(r[1])) for r in conn.execute(query)]


def _record(row: RowMapping) -> DeliveryRecord:
    outcome = row["outcome"]
    recorded = row["recorded"] or ""
    processed = row["processed_seq"]
    return DeliveryRecord(
        source=HookSource(row["source"]),
        delivery=str(row["delivery"]),
        seq=int(row["seq"]),
        event=str(row["event"]),
        payload_sha256=str(row["payload_sha256"]),
        actor=str(row["actor"]),
        received_at=str(row["received_at"]),
        processed_seq=None if processed is None else int(processed),
        outcome=None if outcome is None else HookOutcome(outcome),
        reason=row["reason"],
        recorded=tuple(int(s) for s in recorded.split()),
    )
