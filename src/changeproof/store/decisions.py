"""Queries over recorded policies and gate decisions."""

from __future__ import annotations

import json

from sqlalchemy import Connection, select

from changeproof.domain.canonical import JsonValue
from changeproof.store.schema import decisions, policies

__all__ = ["decision_document", "policy_document"]


def policy_document(conn: Connection, digest: str) -> dict[str, JsonValue] | None:
    row = conn.execute(select(policies.c.document).where(policies.c.digest == digest)).first()
    return None if row is None else dict(json.loads(row.document))


def decision_document(conn: Connection, seq: int) -> dict[str, JsonValue] | None:
    row = conn.execute(select(decisions.c.document).where(decisions.c.seq == seq)).first()
    return None if row is None else dict(json.loads(row.document))
