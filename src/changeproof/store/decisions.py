"""Queries over recorded policies, the instance's active policy and gate decisions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from changeproof.domain.canonical import JsonValue
from changeproof.store.schema import decisions, policies, policy_activations

__all__ = [
    "Activation",
    "DecisionRow",
    "DecisionSummary",
    "RecordedDecision",
    "active_policy",
    "count_activations",
    "decision_document",
    "decisions_for",
    "decisions_since",
    "list_decisions",
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
    document: dict[str, JsonValue]


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
        yield RecordedDecision(int(row.seq), row.decided_at, dict(json.loads(row.document)))


def count_activations(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(policy_activations)).scalar_one())


@dataclass(frozen=True, slots=True)
class DecisionRow:
    seq: int
    allowed: bool
    classification: str
    artifact: str | None
    deployer: str | None
    policy_digest: str
    document: dict[str, JsonValue]


def decisions_for(
    conn: Connection,
    release: str,
    environment: str,
    *,
    allowed_only: bool = False,
    limit: int | None = None,
) -> list[DecisionRow]:
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
        DecisionRow(
            int(r.seq),
            bool(r.allowed),
            r.classification,
            r.artifact,
            r.deployer,
            r.policy_digest,
            dict(json.loads(r.document)),
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
