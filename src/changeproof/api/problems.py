"""Every API error as one RFC 9457 `application/problem+json` document.

    {"type": "https://changeproof.dev/problems/not-found", "title": "Not found",
     "status": 404, "detail": "no release payments/1.4.0", "hint": "…",
     "errors": [{"pointer": "/release", "detail": "…"}], "request_id": "…"}

`type` is one of the URIs in PROBLEMS (docs/server.md lists them); `detail` and `hint` are
the service error's interface-neutral words; `errors` points at the request fields the
error is about: JSON pointers into the body, or for a query or path parameter the pointer
of its name (issue 7's field names, the same ones the CLI maps to flags). A 500 never
carries an exception's text: only its request id, for the server's log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel, ConfigDict
from pydantic import Field as ModelField

from changeproof.domain.errors import (
    ChangeproofError,
    ConfigError,
    ConflictError,
    InputError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    UsageError,
)

__all__ = [
    "MEDIA_TYPE",
    "PROBLEMS",
    "Problem",
    "ProblemError",
    "ProblemKind",
    "kind_of",
    "pointer",
]

MEDIA_TYPE: Final = "application/problem+json"
_BASE: Final = "https://changeproof.dev/problems/"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    slug: str
    status: int
    title: str
    meaning: str  # what docs/server.md says of it

    @property
    def type(self) -> str:
        return _BASE + self.slug


def _kinds(*kinds: ProblemKind) -> dict[str, ProblemKind]:
    return {k.slug: k for k in kinds}


PROBLEMS: Final = _kinds(
    ProblemKind("invalid-request", 400, "Invalid request", "a parameter or body is wrong"),
    ProblemKind(
        "unauthenticated",
        401,
        "Unauthenticated",
        "no bearer token, or one that is malformed, unknown, revoked or expired",
    ),
    ProblemKind(
        "insufficient-scope",
        403,
        "Insufficient scope",
        "the token lacks the scope this route needs (see Tokens and scopes)",
    ),
    ProblemKind(
        "forbidden", 403, "Forbidden", "the actor may not do this (a role or separation rule)"
    ),
    ProblemKind("not-found", 404, "Not found", "the named release, change, entry … does not exist"),
    ProblemKind(
        "method-not-allowed", 405, "Method not allowed", "the route exists for another method"
    ),
    ProblemKind("not-acceptable", 406, "Not acceptable", "no representation the client accepts"),
    ProblemKind("conflict", 409, "Conflict", "the request conflicts with what is recorded"),
    ProblemKind(
        "not-configured",
        409,
        "Not configured",
        "the instance is not set up for this (a missing key, secret or setting)",
    ),
    ProblemKind(
        "idempotency-key-recorded",
        409,
        "Idempotency key recorded",
        "a request with this Idempotency-Key recorded the entries in `recorded` (first and "
        "last seq) but its answer was not kept; nothing was recorded again",
    ),
    ProblemKind("too-large", 413, "Too large", "the body or an uploaded file is over its limit"),
    ProblemKind(
        "unsupported-media-type",
        415,
        "Unsupported media type",
        "the body is not of the content type the route reads",
    ),
    ProblemKind("invalid-input", 422, "Invalid input", "a document or file given is malformed"),
    ProblemKind(
        "idempotency-key-reused",
        422,
        "Idempotency key reused",
        "the Idempotency-Key was sent before with a different request",
    ),
    ProblemKind(
        "too-many-requests",
        429,
        "Too many requests",
        "too many failed authentications from this address; retry after Retry-After",
    ),
    ProblemKind(
        "integrity-failure",
        500,
        "Integrity failure",
        "recorded data no longer matches what was signed: the ledger or a table was tampered "
        "with (run `ledger verify` and `ledger audit`)",
    ),
    ProblemKind("internal", 500, "Internal error", "a bug; the server's log has the request id"),
    ProblemKind(
        "unavailable",
        503,
        "Unavailable",
        "the database or another service is unreachable; retry after Retry-After",
    ),
)

# Most specific first: the first class an error is an instance of decides its problem.
_BY_CLASS: Final = (
    (IntegrityError, "integrity-failure"),
    (UnavailableError, "unavailable"),
    (PermissionDeniedError, "forbidden"),
    (NotFoundError, "not-found"),
    (ConflictError, "conflict"),
    (ConfigError, "not-configured"),
    (InputError, "invalid-input"),
    (UsageError, "invalid-request"),
)


def kind_of(error: ChangeproofError) -> ProblemKind:
    slug = getattr(error, "problem", None)  # an error class may name its own (TooLargeError)
    if isinstance(slug, str) and slug in PROBLEMS:
        return PROBLEMS[slug]
    for cls, name in _BY_CLASS:
        if isinstance(error, cls):
            return PROBLEMS[name]
    return PROBLEMS["internal"]


def pointer(field: str) -> str:
    """The JSON pointer (RFC 6901) of a request field named in domain words."""
    return "/" + field.replace("~", "~0").replace("/", "~1")


class FieldError(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pointer: str = ModelField(description="JSON pointer of the field (body or parameter name)")
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="forbid")

    type: str
    title: str
    status: int
    detail: str
    hint: str | None = None
    errors: list[FieldError] = ModelField(default_factory=list)
    recorded: list[int] | None = ModelField(
        default=None,
        description="idempotency-key-recorded: the first and last seq the request recorded",
    )
    request_id: str | None = None


class ProblemError(Exception):
    """Raised by the API layer itself (authentication, scopes, request shape)."""

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        hint: str | None = None,
        errors: tuple[tuple[str, str], ...] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.kind = PROBLEMS[slug]
        self.detail = detail
        self.hint = hint
        self.errors = errors
        self.headers = headers or {}
