"""Queries over recorded policies, the instance's active policy and gate decisions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from changeproof.domain.canonical import JsonValue
from changeproof.domain.decisions import GATE_DECIDED, POLICY_ACTIVATED, GateDecided
from changeproof.domain.records import DecisionRecord, GovernanceRecord, ProposalRecord
from changeproof.store.entry_check import EntryCheck, decoded_row
from changeproof.store.schema import (
    decisions,
    policies,
    policy_activations,
    policy_governance,
    policy_proposals,
)

__all__ = [
    "Activation",
    "DecisionSummary",
    "RecordedDecision",
    "active_digest_before",
    "active_policy",
    "count_activations",
    "decision_document",
    "decisions_for",
    "decisions_since",
    "expect_decision",
    "find_proposal",
    "governance",
    "list_activations",
    "list_decisions",
    "list_proposals",
    "policy_document",
    "policy_recorded",
]


@dataclass(frozen=True, slots=True)
class Activation:
    """One `policy.activated` entry: the newest is the instance's active policy."""

    seq: int
    digest: str
    previous_digest: str | None
    source: str | None
    actor: str
    activated_at: str


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    seq: int
    decided_at: str
    document: GateDecided


def _decided(text: str, seq: int) -> GateDecided:
    return decoded_row(GateDecided, text, where=f"the decisions row of entry {seq}", seq=seq)


def policy_document(conn: Connection, digest: str) -> dict[str, JsonValue] | None:
    row = conn.execute(select(policies.c.document).where(policies.c.digest == digest)).first()
    return None if row is None else dict(json.loads(row.document))


def policy_recorded(conn: Connection, digest: str) -> bool:
    found = conn.execute(select(policies.c.digest).where(policies.c.digest == digest)).first()
    return found is not None


def decision_document(conn: Connection, seq: int) -> dict[str, JsonValue] | None:
    row = conn.execute(select(decisions.c.document).where(decisions.c.seq == seq)).first()
    return None if row is None else dict(json.loads(row.document))


def active_policy(conn: Connection) -> Activation | None:
    """The newest activation, or None when no policy was ever activated."""
    a = policy_activations.c
    row = conn.execute(
        select(a.seq, a.digest, a.previous_digest, a.source, a.actor, a.activated_at)
        .order_by(a.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return Activation(
        int(row.seq), row.digest, row.previous_digest, row.source, row.actor, row.activated_at
    )


def list_activations(conn: Connection) -> list[Activation]:
    """Every activation, oldest first: the history of the instance's active policy."""
    a = policy_activations.c
    rows = conn.execute(
        select(a.seq, a.digest, a.previous_digest, a.source, a.actor, a.activated_at).order_by(
            a.seq
        )
    )
    return [
        Activation(int(r.seq), r.digest, r.previous_digest, r.source, r.actor, r.activated_at)
        for r in rows
    ]


def decisions_since(
    conn: Connection, since: str | None, environment: str | None
) -> Iterator[RecordedDecision]:
    """Gate decisions in seq order; `since` is a `format_time` text (decided at or after it)."""
    d = decisions.c
    query = select(d.seq, d.decided_at, d.document).order_by(d.seq)
    if since is not None:
        query = query.where(d.decided_at >= since)
    if environment is not None:
        query = query.where(d.environment == environment)
    for row in conn.execute(query):
        yield RecordedDecision(int(row.seq), row.decided_at, _decided(row.document, int(row.seq)))


def active_digest_before(conn: Connection, seq: int, check: EntryCheck | None = None) -> str | None:
    """The digest of the policy that was active when entry `seq` was recorded; with `check`,
    the activation row is to be held to its entry."""
    a = policy_activations.c
    row = conn.execute(
        select(a.seq, a.digest).where(a.seq < seq).order_by(a.seq.desc()).limit(1)
    ).first()
    if row is None:
        return None
    if check is not None:
        check.expect("policy_activations", int(row.seq), POLICY_ACTIVATED, {"digest": row.digest})
    return str(row.digest)


def expect_decision(check: EntryCheck, decision: DecisionRecord) -> None:
    """The decision's row and document are to be held to its `gate.decided` entry."""
    document = decision.document.to_data()
    columns: dict[str, JsonValue] = {
        "allowed": decision.allowed,
        "classification": decision.classification,
        "artifact": decision.artifact,
        "deployer": decision.deployer,
        "policy_digest": decision.policy_digest,
    }
    check.expect("decisions", decision.seq, GATE_DECIDED, columns)
    # The document too: its environment, release, position and controls are read from it.
    read = ("release", "environment", "as_of_seq", "controls", *columns)
    check.expect("decisions", decision.seq, GATE_DECIDED, {k: document.get(k) for k in read})


def find_proposal(conn: Connection, seq: int) -> ProposalRecord | None:
    found = list_proposals(conn, seq=seq)
    return found[0] if found else None


def list_proposals(
    conn: Connection, *, state: str | None = None, seq: int | None = None
) -> list[ProposalRecord]:
    """Proposals, oldest first."""
    p = policy_proposals.c
    query = select(policy_proposals).order_by(p.seq)
    if state is not None:
        query = query.where(p.state == state)
    if seq is not None:
        query = query.where(p.seq == seq)
    return [
        ProposalRecord(
            int(r.seq),
            r.digest,
            r.previous_digest,
            r.source,
            None if r.simulation is None else dict(json.loads(r.simulation)),
            r.actor,
            r.proposed_at,
            r.state,
            None if r.decided_seq is None else int(r.decided_seq),
            r.decided_by,
            r.decided_at,
            r.reason,
        )
        for r in conn.execute(query)
    ]


def governance(conn: Connection, before_seq: int | None = None) -> GovernanceRecord | None:
    """The newest governance setting (recorded before `before_seq`), or None when none was."""
    g = policy_governance.c
    query = select(policy_governance).order_by(g.seq.desc()).limit(1)
    if before_seq is not None:
        query = query.where(g.seq < before_seq)
    row = conn.execute(query).first()
    if row is None:
        return None
    return GovernanceRecord(
        int(row.seq), bool(row.one_person), row.approver_role, row.actor, row.set_at
    )


def count_activations(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(policy_activations)).scalar_one())


def decisions_for(
    conn: Connection,
    release: str,
    environment: str,
    *,
    allowed_only: bool = False,
    limit: int | None = None,
) -> list[DecisionRecord]:
    """The gate's decisions for the release and environment, newest first."""
    d = decisions.c
    query = (
        select(d.seq, d.allowed, d.classification, d.artifact, d.deployer, d.policy_digest)
        .add_columns(d.document)
        .where(d.release == release, d.environment == environment)
        .order_by(d.seq.desc())
        .limit(limit)
    )
    if allowed_only:
        query = query.where(d.allowed)
    return [
        DecisionRecord(
            int(r.seq),
            bool(r.allowed),
            r.classification,
            r.artifact,
            r.deployer,
            r.policy_digest,
            _decided(r.document, int(r.seq)),
        )
        for r in conn.execute(query)
    ]


@dataclass(frozen=True, slots=True)
class DecisionSummary:
    """A gate decision as a listing shows it: what was asked, the verdict, who and when."""

    seq: int
    release: str
    environment: str
    allowed: bool
    classification: str
    policy_digest: str
    deployer: str | None
    artifact: str | None
    actor: str
    decided_at: str


def list_decisions(
    conn: Connection,
    *,
    release: str | None = None,
    environment: str | None = None,
    allowed: bool | None = None,
) -> list[DecisionSummary]:
    """Gate decisions oldest first, narrowed by release, environment and verdict."""
    d = decisions.c
    query = select(
        d.seq,
        d.release,
        d.environment,
        d.allowed,
        d.classification,
        d.policy_digest,
        d.deployer,
        d.artifact,
        d.actor,
        d.decided_at,
    ).order_by(d.seq)
    if release is not None:
        query = query.where(d.release == release)
    if environment is not None:
        query = query.where(d.environment == environment)
    if allowed is not None:
        query = query.where(d.allowed == allowed)
    return [
        DecisionSummary(
            int(r.seq),
            r.release,
            r.environment,
            bool(r.allowed),
            r.classification,
            r.policy_digest,
            r.deployer,
            r.artifact,
            r.actor,
            r.decided_at,
        )
        for r in conn.execute(query)
    ]
