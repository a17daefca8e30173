"""Queries over changes, their approvals and exports, and deployments (projections only)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from changeproof.domain.records import (
    ChangeRecord,
    CheckRecord,
    DeploymentRecord,
    DeploymentUpdateRecord,
    ExportRecord,
    VerdictRecord,
)
from changeproof.domain.rfc import Rfc
from changeproof.store.entry_check import decoded_row
from changeproof.store.schema import (
    change_exports,
    change_revisions,
    change_verdicts,
    changes,
    deployment_checks,
    deployment_updates,
    deployments,
)

__all__ = [
    "changes_for",
    "checks_of",
    "exports_of",
    "find_change",
    "find_deployment",
    "list_changes",
    "list_deployments",
    "newest_change_before",
    "revision_before",
    "updates_of",
    "verdicts_of",
]


def _change(row: object) -> ChangeRecord:
    r = row._mapping  # type: ignore[attr-defined]  # a SQLAlchemy Row
    reviewed, seq = r["reviewed_seq"], int(r["seq"])
    return ChangeRecord(
        seq=seq,
        release=r["release"],
        environment=r["environment"],
        urgent=bool(r["urgent"]),
        urgent_reason=r["urgent_reason"],
        state=r["state"],
        digest=r["digest"],
        document=_rfc(r["document"], f"table changes row {seq}", seq),
        opened_by=r["opened_by"],
        opened_at=r["opened_at"],
        review_due=r["review_due"],
        reviewed_seq=None if reviewed is None else int(reviewed),
        review_outcome=r["review_outcome"],
        reviewed_by=r["reviewed_by"],
        reviewed_at=r["reviewed_at"],
        review_notes=r["review_notes"],
    )


def find_change(conn: Connection, seq: int) -> ChangeRecord | None:
    row = conn.execute(select(changes).where(changes.c.seq == seq)).first()
    return None if row is None else _change(row)


def list_changes(
    conn: Connection,
    *,
    environment: str | None = None,
    overdue_at: str | None = None,
) -> list[ChangeRecord]:
    """Changes, oldest first; `overdue_at` (a `format_time` text) keeps the urgent changes
    whose after-the-fact review was due before it and is still missing."""
    c = changes.c
    query = select(changes).order_by(c.seq)
    if environment is not None:
        query = query.where(c.environment == environment)
    if overdue_at is not None:
        query = query.where(c.urgent, c.reviewed_seq.is_(None), c.review_due < overdue_at)
    return [_change(row) for row in conn.execute(query)]


def changes_for(conn: Connection, release: str, environment: str) -> list[ChangeRecord]:
    c = changes.c
    rows = conn.execute(
        select(changes).where(c.release == release, c.environment == environment).order_by(c.seq)
    )
    return [_change(row) for row in rows]


def newest_change_before(
    conn: Connection, release: str, environment: str, before_seq: int
) -> int | None:
    """The newest change opened for the release and environment before `before_seq`."""
    c = changes.c
    return conn.execute(
        select(c.seq)
        .where(c.release == release, c.environment == environment, c.seq < before_seq)
        .order_by(c.seq.desc())
        .limit(1)
    ).scalar_one_or_none()


def _rfc(text: str, where: str, seq: int) -> Rfc:
    return decoded_row(Rfc, text, where=where, seq=seq)


def revision_before(
    conn: Connection, change_seq: int, before_seq: int
) -> tuple[int, str, Rfc] | None:
    """(seq, digest, RFC) of the change's newest revision recorded before `before_seq`."""
    r = change_revisions.c
    row = conn.execute(
        select(r.seq, r.digest, r.document)
        .where(r.change_seq == change_seq, r.seq < before_seq)
        .order_by(r.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    seq = int(row.seq)
    return seq, str(row.digest), _rfc(row.document, f"table change_revisions row {seq}", seq)


def verdicts_of(
    conn: Connection, change_seq: int, before_seq: int | None = None
) -> list[VerdictRecord]:
    v = change_verdicts.c
    query = select(change_verdicts).where(v.change_seq == change_seq).order_by(v.seq)
    if before_seq is not None:
        query = query.where(v.seq < before_seq)
    return [
        VerdictRecord(int(r.seq), r.verdict, r.actor, r.digest, r.comment, r.decided_at)
        for r in conn.execute(query)
    ]


def exports_of(conn: Connection, change_seq: int) -> list[ExportRecord]:
    e = change_exports.c
    rows = conn.execute(select(change_exports).where(e.change_seq == change_seq).order_by(e.seq))
    return [
        ExportRecord(
            int(r.seq), r.system, r.remote_id, r.remote_key, r.url, r.digest, r.exported_at
        )
        for r in rows
    ]


def _deployment(row: object) -> DeploymentRecord:
    r = row._mapping  # type: ignore[attr-defined]  # a SQLAlchemy Row
    decision, change = r["decision_seq"], r["change_seq"]
    return DeploymentRecord(
        seq=int(r["seq"]),
        release=r["release"],
        environment=r["environment"],
        artifact=r["artifact"],
        actor=r["actor"],
        status=r["status"],
        pipeline_run=r["pipeline_run"],
        authorized=bool(r["authorized"]),
        reason=r["reason"],
        decision_seq=None if decision is None else int(decision),
        change_seq=None if change is None else int(change),
        urgent=bool(r["urgent"]),
        recorded_at=r["recorded_at"],
        updated_at=r["updated_at"],
        policy_digest=r["policy_digest"],
        policy_active=None if r["policy_active"] is None else bool(r["policy_active"]),
    )


def find_deployment(conn: Connection, seq: int) -> DeploymentRecord | None:
    row = conn.execute(select(deployments).where(deployments.c.seq == seq)).first()
    return None if row is None else _deployment(row)


def list_deployments(
    conn: Connection, *, environment: str | None, since: str | None, until: str | None = None
) -> list[DeploymentRecord]:
    """Deployments oldest first; `since` and `until` are `format_time` texts (recorded at or
    after `since`, and before `until`)."""
    d = deployments.c
    query = select(deployments).order_by(d.seq)
    if environment is not None:
        query = query.where(d.environment == environment)
    if since is not None:
        query = query.where(d.recorded_at >= since)
    if until is not None:
        query = query.where(d.recorded_at < until)
    return [_deployment(row) for row in conn.execute(query)]


def updates_of(conn: Connection, deployment_seq: int) -> list[DeploymentUpdateRecord]:
    u = deployment_updates.c
    rows = conn.execute(
        select(deployment_updates).where(u.deployment_seq == deployment_seq).order_by(u.seq)
    )
    return [DeploymentUpdateRecord(int(r.seq), r.status, r.actor, r.updated_at) for r in rows]


def checks_of(conn: Connection, deployment_seq: int) -> list[CheckRecord]:
    c = deployment_checks.c
    rows = conn.execute(
        select(deployment_checks).where(c.deployment_seq == deployment_seq).order_by(c.seq)
    )
    return [
        CheckRecord(int(r.seq), r.name, r.status, r.details_sha256, r.actor, r.checked_at)
        for r in rows
    ]
