"""Projections of changes and deployments (imported by store.projections)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, update

from changeproof.domain.canonical import json_text
from changeproof.domain.changes import (
    CHANGE_APPROVED,
    CHANGE_EXPORTED,
    CHANGE_OPENED,
    CHANGE_REFRESHED,
    CHANGE_REJECTED,
    CHANGE_REVIEWED,
    ChangeState,
)
from changeproof.domain.deployments import (
    DEPLOYMENT_CHECKED,
    DEPLOYMENT_RECORDED,
    DEPLOYMENT_UPDATED,
    DeploymentChecked,
    DeploymentRecorded,
    DeploymentStatus,
    DeploymentUpdated,
)
from changeproof.domain.events import RecordedEvent, format_time
from changeproof.store.projections import projects
from changeproof.store.schema import (
    change_exports,
    change_revisions,
    change_verdicts,
    changes,
    deployment_checks,
    deployment_updates,
    deployments,
)

__all__: list[str] = []


@projects(CHANGE_OPENED)
def _opened(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        data = event.data
        conn.execute(
            changes.insert().values(
                seq=event.seq,
                release=data["release"],
                environment=data["environment"],
                urgent=data["urgent"],
                urgent_reason=data.get("urgent_reason"),
                state=ChangeState.OPEN.value,
                digest=data["digest"],
                document=json_text(data["rfc"]),
                opened_by=event.actor,
                opened_at=format_time(event.time),
                review_due=data.get("review_due"),
            )
        )
        _revision(conn, event, event.seq)


@projects(CHANGE_REFRESHED)
def _refreshed(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        change = int(str(event.data["change"]))
        conn.execute(
            update(changes)
            .where(changes.c.seq == change)
            .values(digest=event.data["digest"], document=json_text(event.data["rfc"]))
        )
        _revision(conn, event, change)


def _revision(conn: Connection, event: RecordedEvent, change: int) -> None:
    conn.execute(
        change_revisions.insert().values(
            seq=event.seq,
            change_seq=change,
            digest=event.data["digest"],
            document=json_text(event.data["rfc"]),
        )
    )


@projects(CHANGE_APPROVED)
def _approved(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        _verdict(conn, event, "approved", event.data.get("comment"))


@projects(CHANGE_REJECTED)
def _rejected(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        _verdict(conn, event, "rejected", event.data.get("reason"))
        conn.execute(
            update(changes)
            .where(changes.c.seq == int(str(event.data["change"])))
            .values(state=ChangeState.REJECTED.value)
        )


def _verdict(conn: Connection, event: RecordedEvent, verdict: str, comment: object) -> None:
    conn.execute(
        change_verdicts.insert().values(
            seq=event.seq,
            change_seq=int(str(event.data["change"])),
            verdict=verdict,
            actor=event.actor,
            digest=event.data["digest"],
            comment=comment,
            decided_at=format_time(event.time),
        )
    )


@projects(CHANGE_REVIEWED)
def _reviewed(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        conn.execute(
            update(changes)
            .where(changes.c.seq == int(str(event.data["change"])))
            .values(
                reviewed_seq=event.seq,
                review_outcome=event.data["outcome"],
                reviewed_by=event.actor,
                reviewed_at=format_time(event.time),
                review_notes=event.data["notes"],
            )
        )


@projects(CHANGE_EXPORTED)
def _exported(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        data = event.data
        conn.execute(
            change_exports.insert().values(
                seq=event.seq,
                change_seq=int(str(data["change"])),
                system=data["system"],
                remote_id=data["remote_id"],
                remote_key=data.get("key"),
                url=data.get("url"),
                digest=data["digest"],
                exported_at=format_time(event.time),
            )
        )


@projects(DEPLOYMENT_RECORDED)
def _deployed(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        deployed = event.as_(DeploymentRecorded)
        at = format_time(event.time)
        conn.execute(
            deployments.insert().values(
                seq=event.seq,
                release=deployed.release,
                environment=deployed.environment,
                artifact=deployed.artifact,
                actor=event.actor,
                status=deployed.status.value,
                pipeline_run=deployed.pipeline_run,
                authorized=deployed.authorized,
                reason=deployed.reason,
                decision_seq=deployed.decision,
                change_seq=deployed.change,
                urgent=deployed.urgent,
                recorded_at=at,
                updated_at=at,
                policy_digest=deployed.policy_digest,
                policy_active=deployed.policy_active,
            )
        )
        _update(conn, event, event.seq, deployed.status)


@projects(DEPLOYMENT_UPDATED)
def _updated(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        updated = event.as_(DeploymentUpdated)
        conn.execute(
            update(deployments)
            .where(deployments.c.seq == updated.deployment)
            .values(status=updated.status.value, updated_at=format_time(event.time))
        )
        _update(conn, event, updated.deployment, updated.status)


def _update(
    conn: Connection, event: RecordedEvent, deployment: int, status: DeploymentStatus
) -> None:
    conn.execute(
        deployment_updates.insert().values(
            seq=event.seq,
            deployment_seq=deployment,
            status=status.value,
            actor=event.actor,
            updated_at=format_time(event.time),
        )
    )


@projects(DEPLOYMENT_CHECKED)
def _checked(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        checked = event.as_(DeploymentChecked)
        conn.execute(
            deployment_checks.insert().values(
                seq=event.seq,
                deployment_seq=checked.deployment,
                name=checked.name,
                status=checked.status.value,
                details=checked.details,
                details_sha256=checked.details_sha256,
                actor=event.actor,
                checked_at=format_time(event.time),
            )
        )
