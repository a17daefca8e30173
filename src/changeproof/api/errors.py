"""The app's exception handlers: whatever goes wrong, the client reads one problem shape.

Service errors keep their interface-neutral words and name their fields as JSON pointers;
FastAPI's request validation becomes `invalid-request` pointing at each bad field; an
unexpected exception is logged with its traceback and answered 500 with the request id
only, never its text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from changeproof.api.idempotency import REPLAYED_HEADER
from changeproof.api.problems import (
    MEDIA_TYPE,
    PROBLEMS,
    FieldError,
    Problem,
    ProblemError,
    ProblemKind,
    kind_of,
    pointer,
)
from changeproof.domain.errors import ChangeproofError, UnavailableError
from changeproof.domain.idempotency import KeyRecordedError, Replayed

__all__ = ["install_handlers", "problem_response"]

log = logging.getLogger(__name__)

# How long a client should wait before retrying a request the database could not take.
RETRY_AFTER_SECONDS: Final = 1

_HTTP_STATUS: Final = {
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "too-large",
    415: "unsupported-media-type",
}


def problem_response(
    request: Request,
    kind: ProblemKind,
    detail: str,
    *,
    hint: str | None = None,
    errors: Sequence[tuple[str, str]] = (),
    headers: dict[str, str] | None = None,
    recorded: list[int] | None = None,
) -> JSONResponse:
    problem = Problem(
        type=kind.type,
        title=kind.title,
        status=kind.status,
        detail=detail,
        hint=hint,
        errors=[FieldError(pointer=p, detail=d) for p, d in errors],
        recorded=recorded,
        request_id=getattr(request.state, "request_id", None),
    )
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=kind.status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _service_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ChangeproofError)
    kind = kind_of(error)
    if kind.status >= 500:
        log.error("%s: %s", kind.slug, error.message)
    detail, hint = error.message, error.hint()
    errors = [(pointer(field), detail) for field in dict.fromkeys(error.fields)]
    headers = (
        {"Retry-After": str(RETRY_AFTER_SECONDS)} if isinstance(error, UnavailableError) else None
    )
    recorded = list(error.seqs) if isinstance(error, KeyRecordedError) else None
    return problem_response(
        request, kind, detail, hint=hint, errors=errors, headers=headers, recorded=recorded
    )


def _replayed(request: Request, error: Exception) -> Response:
    assert isinstance(error, Replayed)
    answer = error.answer
    return Response(
        answer.body,
        status_code=answer.status,
        media_type=answer.media_type or None,
        headers={REPLAYED_HEADER: "true"},
    )


def _api_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(
        request,
        error.kind,
        error.detail,
        hint=error.hint,
        errors=error.errors,
        headers=error.headers,
    )


def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = []
    for item in error.errors():
        # ("body", "release") / ("query", "page_size"): the pointer of the field itself.
        location = [str(part) for part in item.get("loc", ())[1:]]
        errors.append(("/" + "/".join(location), str(item.get("msg", "invalid"))))
    detail = "; ".join(f"{p}: {d}" for p, d in errors) or "the request is not valid"
    return problem_response(request, PROBLEMS["invalid-request"], detail, errors=errors)


def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    slug = _HTTP_STATUS.get(error.status_code, "invalid-request")
    headers = dict(error.headers) if error.headers else None
    return problem_response(request, PROBLEMS[slug], str(error.detail), headers=headers)


def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("internal error", exc_info=error)
    request_id = getattr(request.state, "request_id", "unknown")
    return problem_response(
        request, PROBLEMS["internal"], f"internal error; the server's log has request {request_id}"
    )


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ChangeproofError, _service_error)
    app.add_exception_handler(Replayed, _replayed)
    app.add_exception_handler(ProblemError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
