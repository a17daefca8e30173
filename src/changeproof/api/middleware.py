"""ASGI middleware: a request id and one JSON log line per request; the body-size cap.

Log lines carry the request id, method, path, status, actor (once authenticated),
outcome and duration; never a header, a query string or a body, so no token or webhook
secret can reach a log.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from typing import Final

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from changeproof.api.problems import MEDIA_TYPE, PROBLEMS, Problem, ProblemKind

__all__ = ["ACCESS_LOG", "REQUEST_ID_HEADER", "BodyLimit", "RequestLog", "send_problem"]

ACCESS_LOG: Final = "changeproof.api.access"
log = logging.getLogger(ACCESS_LOG)

REQUEST_ID_HEADER: Final = "x-request-id"
# A client's own request id is kept when it is a plain token; anything else is replaced,
# so no header injection or log forgery rides in on it.
_CLIENT_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = given if _CLIENT_ID.fullmatch(given) else secrets.token_hex(8)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "actor": state.get("actor"),
                        "outcome": _outcome(status),
                        "ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                    separators=(",", ":"),
                )
            )


def _outcome(status: int) -> str:
    if status < 400:
        return "ok"
    return "refused" if status < 500 else "failed"


class BodyLimit:
    """Refuse a body over `limit` bytes with 413, by its Content-Length before reading or
    as it streams in (a chunked body has none)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, send)
            return
        seen = 0
        refused = False

        async def counted() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # Answer now, and tell the app the client went away: it stops reading,
                    # and whatever it would answer after is dropped.
                    refused = True
                    await self._refuse(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def unless_refused(message: Message) -> None:
            if not refused:
                await send(message)

        try:
            await self.app(scope, counted, unless_refused)
        except Exception:
            if not refused:
                raise

    def _detail(self) -> str:
        return f"the request body is over the server's {self.limit:,}-byte limit"

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await send_problem(
            scope, send, PROBLEMS["too-large"], self._detail(), [(b"connection", b"close")]
        )


async def send_problem(
    scope: Scope,
    send: Send,
    kind: ProblemKind,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer with a problem from a middleware, before or instead of the app."""
    problem = Problem(
        type=kind.type,
        title=kind.title,
        status=kind.status,
        detail=detail,
        request_id=scope.get("state", {}).get("request_id"),
    )
    body = problem.model_dump_json(exclude_none=True).encode()
    await send(
        {
            "type": "http.response.start",
            "status": kind.status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
