"""A webhook delivery as a route receives it: the raw body read once, held to the hooks'
size cap, and authenticated by its signature before the handler runs.

`signed(source)` is the dependency a webhook route takes instead of a principal; it marks
the route as a signed webhook route for the app's route rule (`api.routing.hook_of`). A
delivery whose signature does not hold is answered 401, counted in
`changeproof_hook_rejections_total{source,reason}`, and recorded nowhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from changeproof.api.metrics import HOOK_REJECTIONS
from changeproof.api.problems import ProblemError
from changeproof.api.routing import HOOK_ATTRIBUTE
from changeproof.bootstrap import Instance
from changeproof.domain.hooks import HookSource
from changeproof.services.hooks import MAX_BODY, Delivery, SignatureError

__all__ = ["MAX_BODY", "signed"]

_CHALLENGE: Final = {"WWW-Authenticate": 'Signature realm="changeproof webhooks"'}


def signed(source: HookSource) -> Callable[[Request], Awaitable[Delivery]]:
    async def delivery(request: Request) -> Delivery:
        instance: Instance = request.app.state.instance
        service = instance.hooks
        service.settings(source)  # an unconfigured source refuses before reading a byte
        body = await _body(request)
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            found = await run_in_threadpool(service.authenticate, source, body, headers)
        except SignatureError as e:
            HOOK_REJECTIONS.labels(source.value, e.reason).inc()
            raise ProblemError(
                "unauthenticated", e.message, hint=e.hint(), headers=_CHALLENGE
            ) from None
        request.state.actor = service.settings(source).actor  # for the request log
        return found

    setattr(delivery, HOOK_ATTRIBUTE, source.value)
    return delivery


async def _body(request: Request) -> bytes:
    """The raw body, refused with 413 past MAX_BODY: by Content-Length before reading, or
    as it streams in."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise _too_large()
    chunks: list[bytes] = []
    seen = 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > MAX_BODY:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> ProblemError:
    return ProblemError(
        "too-large",
        f"a webhook delivery is limited to {MAX_BODY:,} bytes",
        hint="GitHub and GitLab send no larger payloads; send the events changeproof handles",
    )
