"""`Idempotency-Key` on every POST: a retried request records nothing twice.

The middleware opens a claim for a POST that carries the header (its key, and a
fingerprint of the method, target, content type and body as the app reads it) and the
principal dependency names its actor. The unit of work does the rest under the ledger
lock (`changeproof.domain.idempotency`). When the request recorded, its answer is kept
before the client gets it, so a retry that arrives after the answer left finds it:
  - the key is new: the request runs as usual;
  - the key recorded and was answered: the first answer again, `Idempotent-Replayed: true`;
  - the key recorded and its answer was not kept (still being answered, the server stopped
    first, or it held a secret shown once: `Cache-Control: no-store`): 409
    `idempotency-key-recorded` with the entries it recorded;
  - the key came with a different request: 422 `idempotency-key-reused`.
A request that recorded nothing keeps no key: running it again is safe by nature.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from changeproof.api.middleware import send_problem
from changeproof.api.problems import PROBLEMS
from changeproof.domain.errors import ChangeproofError
from changeproof.domain.idempotency import CLAIM, MAX_KEY_LENGTH, Answer, Claim, parse_key

__all__ = ["HEADER", "REPLAYED_HEADER", "IdempotencyKeys"]

log = logging.getLogger(__name__)

HEADER: Final = "idempotency-key"
REPLAYED_HEADER: Final = "idempotent-replayed"
# A recording route answers with a document of a few kilobytes; one this large is not kept
# (its retries get idempotency-key-recorded), so a key never holds a large body.
MAX_KEPT_ANSWER: Final = 1 << 20


class IdempotencyKeys:
    def __init__(self, app: ASGIApp, keep: Callable[[Claim, Answer], None]) -> None:
        self.app = app
        self.keep = keep

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        value = headers.get(HEADER)
        if value is None:
            await self.app(scope, receive, send)
            return
        key = parse_key(value)
        if key is None:
            await _refuse(scope, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        target = scope["path"] + (f"?{query}" if query else "")
        claim = Claim.of(key, "POST", target, headers.get("content-type", ""))

        async def fingerprinted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                claim.fingerprint.update(message.get("body", b""))
            return message

        held: Message | None = None
        body: list[bytes] = []

        async def answered(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                if claim.recorded is not None and _keepable(message):
                    held = message
                    return
            elif message["type"] == "http.response.body" and held is not None:
                body.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                await self._keep(claim, held, b"".join(body))
                await send(held)
                held = None
                await send({"type": "http.response.body", "body": b"".join(body)})
                return
            await send(message)

        token = CLAIM.set(claim)
        try:
            await self.app(scope, fingerprinted, answered)
        finally:
            CLAIM.reset(token)

    async def _keep(self, claim: Claim, start: Message, body: bytes) -> None:
        if len(body) > MAX_KEPT_ANSWER:
            return
        media_type = Headers(raw=start.get("headers", [])).get("content-type", "")
        try:
            await run_in_threadpool(self.keep, claim, Answer(start["status"], media_type, body))
        except ChangeproofError as error:
            # The entries are recorded whatever happens here; a retry is told so (409).
            log.warning("the answer to idempotency key was not kept: %s", error.message)


def _keepable(start: Message) -> bool:
    cache = Headers(raw=start.get("headers", [])).get("cache-control", "")
    return "no-store" not in cache.lower()


async def _refuse(scope: Scope, send: Send) -> None:
    detail = (
        f"the Idempotency-Key header is not a key: 1 to {MAX_KEY_LENGTH} printable ASCII "
        "characters, without quotes or backslashes (a UUID will do)"
    )
    await send_problem(scope, send, PROBLEMS["invalid-request"], detail)
