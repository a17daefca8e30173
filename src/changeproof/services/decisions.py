"""Recorded gate decisions, listed: which releases were allowed or blocked, where and when."""

from __future__ import annotations

from changeproof.domain.canonical import JsonValue
from changeproof.domain.releases import ReleaseRef
from changeproof.store import decisions as recorded
from changeproof.store.database import Database
from changeproof.store.decisions import DecisionSummary

__all__ = ["DecisionService", "DecisionSummary", "decision_document"]


class DecisionService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list(
        self,
        *,
        release: ReleaseRef | None = None,
        environment: str | None = None,
        allowed: bool | None = None,
    ) -> list[DecisionSummary]:
        """Decisions oldest first; `allowed` True or False keeps only that verdict."""
        with self._db.read() as conn:
            return recorded.list_decisions(
                conn,
                release=None if release is None else str(release),
                environment=environment,
                allowed=allowed,
            )


def decision_document(d: DecisionSummary) -> dict[str, JsonValue]:
    """A decision as `decision list` and the API list it."""
    return {
        "seq": d.seq,
        "decided_at": d.decided_at,
        "release": d.release,
        "environment": d.environment,
        "allowed": d.allowed,
        "classification": d.classification,
        "policy_digest": d.policy_digest,
        "deployer": d.deployer,
        "artifact": d.artifact,
        "actor": d.actor,
    }
