"""The `idempotency_keys` table: what each keyed request recorded, and its answer.

The unit of work checks a request's claim while it holds the ledger's write lock and, when
it appends, inserts the key in the same transaction as the entries: a key is in the table
exactly when its entries are in the ledger. The answer is kept after, in its own
transaction; until then (or for ever, when the server stopped first) the key says only
which entries it recorded.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from changeproof.domain.errors import operation
from changeproof.domain.idempotency import (
    Answer,
    Claim,
    KeyRecordedError,
    KeyReusedError,
    Replayed,
)
from changeproof.store.schema import idempotency_keys as keys

__all__ = ["check", "extend", "keep_answer", "record"]


def check(conn: Connection, claim: Claim, actor: str) -> None:
    """Nothing, when the key is new; else why the request must not record again."""
    row = (
        conn.execute(select(keys).where(keys.c.actor == actor, keys.c.key == claim.key))
        .mappings()
        .first()
    )
    if row is None:
        return
    seqs = (int(row["first_seq"]), int(row["last_seq"]))
    if row["request_sha256"] != claim.request_sha256():
        raise KeyReusedError(
            f"idempotency key {claim.key!r} was sent before with a different request "
            f"(which recorded entries {seqs[0]}..{seqs[1]}); nothing was recorded",
            hint="send a new key with each new request, and the same key only with its retries",
        )
    if row["status"] is None:
        raise KeyRecordedError(
            f"the request with idempotency key {claim.key!r} recorded entries "
            f"{seqs[0]}..{seqs[1]}, but its answer was not kept; nothing was recorded again",
            seqs=seqs,
            hint="read what it recorded with "
            f"{operation('ledger entries', start=seqs[0], end=seqs[1] + 1)}",
        )
    raise Replayed(Answer(int(row["status"]), str(row["media_type"]), bytes(row["body"])), seqs)


def record(conn: Connection, claim: Claim, actor: str, seqs: tuple[int, int], at: str) -> None:
    conn.execute(
        insert(keys).values(
            actor=actor,
            key=claim.key,
            request_sha256=claim.request_sha256(),
            first_seq=seqs[0],
            last_seq=seqs[1],
            recorded_at=at,
        )
    )


def extend(conn: Connection, claim: Claim, actor: str, last_seq: int) -> None:
    """A later unit of work of the same request appended up to `last_seq`."""
    conn.execute(
        update(keys).where(keys.c.actor == actor, keys.c.key == claim.key).values(last_seq=last_seq)
    )


def keep_answer(conn: Connection, actor: str, key: str, answer: Answer) -> None:
    # Only the first answer: a key's row is answered once and read ever after.
    conn.execute(
        update(keys)
        .where(keys.c.actor == actor, keys.c.key == key, keys.c.status.is_(None))
        .values(status=answer.status, media_type=answer.media_type, body=answer.body)
    )
