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
    ChangeApproved,
    ChangeExported,
    ChangeOpened,
    ChangeRefreshed,
    ChangeRejected,
    ChangeReviewed,
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
        opened = event.as_(ChangeOpened)
        document = json_text(opened.rfc.to_data())
        conn.execute(
            changes.insert().values(
                seq=event.seq,
                release=opened.release,
                environment=opened.environment,
                urgent=opened.urgent,
                urgent_reason=opened.urgent_reason,
                state=ChangeState.OPEN.value,
                digest=opened.digest,
                document=document,
                opened_by=event.actor,
                opened_at=format_time(event.time),
                review_due=None if opened.review_due is None else format_time(opened.review_due),
            )
        )
        _revision(conn, event.seq, event.seq, opened.digest, document)


@projects(CHANGE_REFRESHED)
def _refreshed(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        refreshed = event.as_(ChangeRefreshed)
        document = json_text(refreshed.rfc.to_data())
        conn.execute(
            update(changes)
            .where(changes.c.seq == refreshed.change)
            .values(digest=refreshed.digest, document=document)
        )
        _revision(conn, event.seq, refreshed.change, refreshed.digest, document)


def _revision(conn: Connection, seq: int, change: int, digest: str, document: str) -> None:
    conn.execute(
        change_revisions.insert().values(
            seq=seq, change_seq=change, digest=digest, document=document
        )
    )


@projects(CHANGE_APPROVED)
def _approved(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        approved = event.as_(ChangeApproved)
        _verdict(conn, event, approved.change, "approved", approved.digest, approved.comment)


@projects(CHANGE_REJECTED)
def _rejected(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        rejected = event.as_(ChangeRejected)
        _verdict(conn, event, rejected.change, "rejected", rejected.digest, rejected.reason)
        conn.execute(
            update(changes)
            .where(changes.c.seq == rejected.change)
            .values(state=ChangeState.REJECTED.value)
        )


def _verdict(
    conn: Connection,
    event: RecordedEvent,
    change: int,
    verdict: str,
    digest: str,
    comment: str | None,
) -> None:
    conn.execute(
        change_verdicts.insert().values(
            seq=event.seq,
            change_seq=change,
            verdict=verdict,
            actor=event.actor,
            digest=digest,
            comment=comment,
            decided_at=format_time(event.time),
        )
    )


@projects(CHANGE_REVIEWED)
def _reviewed(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        reviewed = event.as_(ChangeReviewed)
        conn.execute(
            update(changes)
            .where(changes.c.seq == reviewed.change)
            .values(
                reviewed_seq=event.seq,
                review_outcome=reviewed.outcome.value,
                reviewed_by=event.actor,
                reviewed_at=format_time(event.time),
                review_notes=reviewed.notes,
            )
        )


@projects(CHANGE_EXPORTED)
def _exported(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        exported = event.as_(ChangeExported)
        conn.execute(
            change_exports.insert().values(
                seq=event.seq,
                change_seq=exported.change,
                system=exported.system,
                remote_id=exported.remote_id,
                remote_key=exported.key,
                url=exported.url,
                digest=exported.digest,
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
                policy_digest=deployed.under_policy[0],
                policy_active=deployed.under_policy[1],
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
