"""Where an artifact was deployed before a ledger position: what `promoted-from` reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import Connection, select

from changeproof.domain.deployments import (
    DEPLOYMENT_CHECKED,
    DEPLOYMENT_RECORDED,
    DEPLOYMENT_UPDATED,
    DeploymentFact,
    DeploymentStatus,
    deployment_id,
)
from changeproof.domain.events import parse_time
from changeproof.store.entry_check import EntryCheck
from changeproof.store.schema import deployment_checks, deployment_updates, deployments

__all__ = ["deployments_of_artifacts"]


def deployments_of_artifacts(
    conn: Connection,
    digests: Collection[str],
    before_seq: int,
    check: EntryCheck | None = None,
) -> tuple[DeploymentFact, ...]:
    """Every deployment of one of `digests` recorded before `before_seq`, as it stood then;
    with `check`, each deployment, status and check row is to be held to its entry."""
    if not digests:
        return ()
    d, u, c = deployments.c, deployment_updates.c, deployment_checks.c
    rows = list(
        conn.execute(
            select(d.seq, d.release, d.environment, d.artifact, d.authorized)
            .where(d.artifact.in_(sorted(set(digests))), d.seq < before_seq)
            .order_by(d.seq)
        )
    )
    if not rows:
        return ()
    seqs = [int(r.seq) for r in rows]
    statuses: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for r in conn.execute(
        select(u.seq, u.deployment_seq, u.status, u.updated_at)
        .where(u.deployment_seq.in_(seqs), u.seq < before_seq)
        .order_by(u.seq)
    ):
        statuses[int(r.deployment_seq)].append((int(r.seq), str(r.status), str(r.updated_at)))
    checks: dict[int, dict[str, str]] = defaultdict(dict)
    for r in conn.execute(
        select(c.seq, c.deployment_seq, c.name, c.status)
        .where(c.deployment_seq.in_(seqs), c.seq < before_seq)
        .order_by(c.seq)
    ):
        checks[int(r.deployment_seq)][str(r.name)] = str(r.status)  # the newest wins
        if check is not None:
            check.expect(
                "deployment_checks",
                int(r.seq),
                DEPLOYMENT_CHECKED,
                {"deployment": int(r.deployment_seq), "name": r.name, "status": r.status},
            )
    found = []
    for row in rows:
        seq = int(row.seq)
        history = statuses.get(seq, [])
        if check is not None:
            check.expect(
                "deployments",
                seq,
                DEPLOYMENT_RECORDED,
                {
                    "release": row.release,
                    "environment": row.environment,
                    "artifact": row.artifact,
                    "authorized": bool(row.authorized),
                },
            )
            for at, status, _ in history:
                if at == seq:
                    check.expect("deployment_updates", at, DEPLOYMENT_RECORDED, {"status": status})
                else:
                    check.expect(
                        "deployment_updates",
                        at,
                        DEPLOYMENT_UPDATED,
                        {"deployment": seq, "status": status},
                    )
        succeeded = next(
            (when for _, status, when in history if status == DeploymentStatus.SUCCEEDED), None
        )
        found.append(
            DeploymentFact(
                id=deployment_id(seq),
                environment=str(row.environment),
                release=str(row.release),
                artifact=str(row.artifact),
                authorized=bool(row.authorized),
                status=history[-1][1] if history else "unknown",
                succeeded_at=None if succeeded is None else parse_time(succeeded),
                checks=dict(checks.get(seq, {})),
            )
        )
    if check is not None:
        check.confirm()
    return tuple(found)
