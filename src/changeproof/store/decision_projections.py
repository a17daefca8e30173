"""Projections of policies and gate decisions (imported by store.projections)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import Connection, select, update

from changeproof.domain.canonical import json_text
from changeproof.domain.decisions import (
    GATE_DECIDED,
    POLICY_ACTIVATED,
    POLICY_RECORDED,
    Classification,
    GateDecided,
)
from changeproof.domain.events import RecordedEvent, format_time
from changeproof.domain.policies import (
    POLICY_GOVERNANCE_SET,
    POLICY_PROPOSED,
    POLICY_REJECTED,
    PolicyActivated,
    PolicyGovernanceSet,
    PolicyProposed,
    PolicyRecorded,
    PolicyRejected,
)
from changeproof.store.driver import DriverCursor, placeholders
from changeproof.store.projections import projects
from changeproof.store.schema import (
    policies,
    policy_activations,
    policy_governance,
    policy_proposals,
)

__all__: list[str] = []


@projects(POLICY_RECORDED)
def _policies(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        _policy(conn, event, event.as_(PolicyRecorded))


def _policy(
    conn: Connection,
    event: RecordedEvent,
    held: PolicyRecorded | PolicyActivated | PolicyProposed,
) -> None:
    """Keep a policy by its digest (once: the first entry that held it)."""
    known = conn.execute(select(policies.c.digest).where(policies.c.digest == held.digest)).first()
    if known is None:
        conn.execute(
            policies.insert().values(
                digest=held.digest,
                seq=event.seq,
                document=json_text(held.policy),
                source=held.source,
            )
        )


@projects(POLICY_ACTIVATED)
def _activations(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    """An activation carries its policy, so decisions under it replay from `policies`."""
    for event in events:
        activated = event.as_(PolicyActivated)
        _policy(conn, event, activated)
        conn.execute(
            policy_activations.insert().values(
                seq=event.seq,
                digest=activated.digest,
                previous_digest=activated.previous_digest,
                source=activated.source,
                actor=event.actor,
                activated_at=format_time(event.time),
            )
        )
        if activated.proposal is not None:
            _decide(conn, activated.proposal, "activated", event, None)


@projects(POLICY_PROPOSED)
def _proposals(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    """A proposal carries its policy too: a simulation or a diff reads it before activation."""
    for event in events:
        proposed = event.as_(PolicyProposed)
        _policy(conn, event, proposed)
        simulation = proposed.simulation
        conn.execute(
            policy_proposals.insert().values(
                seq=event.seq,
                digest=proposed.digest,
                previous_digest=proposed.previous_digest,
                source=proposed.source,
                simulation=None if simulation is None else json_text(simulation.to_data()),
                actor=event.actor,
                proposed_at=format_time(event.time),
                state="pending",
            )
        )


@projects(POLICY_REJECTED)
def _rejections(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        rejected = event.as_(PolicyRejected)
        _decide(conn, rejected.proposal, "rejected", event, rejected.reason)


def _decide(
    conn: Connection, proposal: int, state: str, event: RecordedEvent, reason: str | None
) -> None:
    conn.execute(
        update(policy_proposals)
        .where(policy_proposals.c.seq == proposal)
        .values(
            state=state,
            decided_seq=event.seq,
            decided_by=event.actor,
            decided_at=format_time(event.time),
            reason=reason,
        )
    )


@projects(POLICY_GOVERNANCE_SET)
def _governance(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    for event in events:
        governance = event.as_(PolicyGovernanceSet)
        conn.execute(
            policy_governance.insert().values(
                seq=event.seq,
                one_person=governance.one_person,
                approver_role=governance.approver_role,
                actor=event.actor,
                set_at=format_time(event.time),
            )
        )


_DECISION_COLUMNS: Final = (
    "seq, release, environment, allowed, classification, policy_digest, deployer, artifact, "
    "urgent, as_of_seq, actor, decided_at, document"
)


@projects(GATE_DECIDED, batched=True)
def _decisions(conn: Connection, events: Sequence[RecordedEvent]) -> None:
    # A gate decision is the most frequent single write: straight to the driver.
    DriverCursor(conn).executemany(
        f"INSERT INTO decisions ({_DECISION_COLUMNS}) VALUES ({placeholders(13)})",  # noqa: S608
        [
            (
                event.seq,
                decided.release,
                decided.environment,
                decided.allowed,
                str(decided.classification),
                decided.policy_digest,
                decided.deployer,
                decided.artifact,
                decided.classification is Classification.URGENT,
                decided.as_of_seq,
                event.actor,
                format_time(event.time),
                json_text(event.data),
            )
            for event, decided in ((e, e.as_(GateDecided)) for e in events)
        ],
    )
