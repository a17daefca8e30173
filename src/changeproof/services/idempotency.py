"""Keeping the answer a keyed request got, so its retries get it again.

The unit of work records a keyed request's key with its entries; the interface keeps the
answer here once it has one, before the client can read it. An answer holding a secret
shown only once (a new token) is never kept: its retries are told what was recorded.
"""

from __future__ import annotations

from changeproof.domain.idempotency import Answer, Claim
from changeproof.store import idempotency
from changeproof.store.database import Database

__all__ = ["IdempotencyService"]


class IdempotencyService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def keep_answer(self, claim: Claim, answer: Answer) -> None:
        """Keep the first answer of a claim whose request recorded (else nothing to keep)."""
        if claim.actor is None or claim.recorded is None:
            return
        with self._db.write() as conn:
            idempotency.keep_answer(conn, claim.actor, claim.key, answer)
