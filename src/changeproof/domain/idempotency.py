"""Idempotency keys: a retried request records nothing twice and gets the first answer.

A client that sends `Idempotency-Key: K` with a request that records may send it again
(a timeout, a replica killed mid-request, a 503) and be sure it is recorded at most once.
The interface that took the request sets the `Claim` for it in `CLAIM`; the unit of work
that appends the request's entries checks it while it holds the ledger's write lock, so two
copies of one request (on two replicas, at the same instant) are serialized there: the
first records its entries and the key with them, in one transaction; a later one finds the
key and records nothing. The key is the caller's own: two actors may use the same key.

Services never see a claim; only the unit of work and the interface do.
"""

from __future__ import annotations

import hashlib
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Final

from changeproof.domain.errors import ConflictError

__all__ = [
    "CLAIM",
    "MAX_KEY_LENGTH",
    "Answer",
    "Claim",
    "KeyRecordedError",
    "KeyReusedError",
    "Replayed",
    "parse_key",
]

MAX_KEY_LENGTH: Final = 255
# Printable ASCII without the quote and backslash: a key is an opaque token (a UUID, a
# pipeline run id), and nothing that could break a header, a log line or a quoted string.
_KEY: Final = re.compile(rf"[\x21\x23-\x5b\x5d-\x7e]{{1,{MAX_KEY_LENGTH}}}")


def parse_key(value: str) -> str | None:
    """The key in a header value, bare (`abc`) or as a structured-field string (`"abc"`,
    the form the IETF draft gives); None when it is not a key."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value if _KEY.fullmatch(value) else None


@dataclass(slots=True)
class Claim:
    """One request sent with a key. `actor` is set once the caller is authenticated (a
    claim without one binds nothing); `fingerprint` hashes the request as it is read, so a
    key sent again with another request is told apart. The unit of work sets `recorded`
    to the first and last seq it appended for the request."""

    key: str
    fingerprint: hashlib._Hash
    actor: str | None = None
    recorded: tuple[int, int] | None = field(default=None)

    @classmethod
    def of(cls, key: str, method: str, target: str, content_type: str) -> Claim:
        fingerprint = hashlib.sha256()
        for part in (method, target, content_type):
            fingerprint.update(part.encode("utf-8", "surrogateescape") + b"\0")
        return cls(key, fingerprint)

    def request_sha256(self) -> str:
        return self.fingerprint.hexdigest()


CLAIM: Final[ContextVar[Claim | None]] = ContextVar("changeproof_idempotency_claim", default=None)


@dataclass(frozen=True, slots=True)
class Answer:
    """The response the first request got, to be given again."""

    status: int
    media_type: str
    body: bytes


class Replayed(Exception):  # not an error: the request was answered before
    """The key's request was recorded and answered before: give `answer` again."""

    def __init__(self, answer: Answer, seqs: tuple[int, int]) -> None:
        super().__init__("replayed")
        self.answer = answer
        self.seqs = seqs


class KeyReusedError(ConflictError):
    """The key was sent before with a different request."""

    problem = "idempotency-key-reused"


class KeyRecordedError(ConflictError):
    """The key's request recorded entries, but its answer was not kept: it is still being
    answered, or the server stopped before it could answer, or the answer held a secret
    shown only once."""

    problem = "idempotency-key-recorded"

    def __init__(self, message: str, *, seqs: tuple[int, int], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.seqs = seqs
