"""A changeproof server as the CLI calls it: bearer token, retries, problems as errors.

The client holds no database and no key: only the server's URL and a token. Each POST
carries an Idempotency-Key drawn for it and kept across its retries, so a request retried
after a timeout, a dropped connection or a 503 (a replica that went away, a database
failing over) is recorded once. Problems come back as the error classes the embedded CLI
raises, so a command exits with the same code either way: 3 when the server cannot be
reached at all.
"""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from changeproof.domain.errors import (
    ChangeproofError,
    ConfigError,
    ConflictError,
    Field,
    InputError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
    UsageError,
)

__all__ = ["API", "ServerClient"]

API: Final = "/api/v1"
_PROBLEMS: Final = "https://changeproof.dev/problems/"
# A problem's slug → the error the embedded CLI raises for the same refusal.
_ERRORS: Final[Mapping[str, type[ChangeproofError]]] = {
    "invalid-request": UsageError,
    "unauthenticated": PermissionDeniedError,
    "insufficient-scope": PermissionDeniedError,
    "forbidden": PermissionDeniedError,
    "not-found": NotFoundError,
    "method-not-allowed": UsageError,
    "not-acceptable": UsageError,
    "conflict": ConflictError,
    "idempotency-key-recorded": ConflictError,
    "idempotency-key-reused": ConflictError,
    "not-configured": ConfigError,
    "too-large": InputError,
    "unsupported-media-type": InputError,
    "invalid-input": InputError,
    "too-many-requests": UnavailableError,
    "integrity-failure": IntegrityError,
    "unavailable": UnavailableError,
}
_RETRIED: Final = frozenset({502, 503, 504})
_LOOPBACK_NAMES: Final = frozenset({"localhost"})


class ServerClient:
    """One server, one token. `attempts` bounds each request's tries; between them the
    client waits as the server's Retry-After says (else 0.5 s, 1 s, 2 s …)."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 60.0,
        attempts: int = 4,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = _checked_url(url)
        self._attempts = attempts
        self._http = httpx.Client(
            base_url=self.url + API,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "changeproof-cli"},
            timeout=timeout,
            transport=transport,
            # Plain http is loopback only (`_checked_url`), where no TLS is spoken: loading
            # the CA bundle would only cost each command a tenth of a second.
            verify=self.url.startswith("https://"),
        )

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._send("GET", path, params=params).json()

    def post(
        self,
        path: str,
        json: Any = None,
        *,
        files: list[tuple[str, tuple[str, bytes]]] | None = None,
        data: Mapping[str, str] | None = None,
        accept_status: frozenset[int] = frozenset(),
    ) -> Any:
        """The answer's JSON. `accept_status` names non-2xx statuses that are answers."""
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        answer = self._send(
            "POST",
            path,
            json=json,
            files=files,
            data=data,
            headers=headers,
            accept_status=accept_status,
        )
        return answer.json()

    def text(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        return self._send("GET", path, params=params).text

    @contextmanager
    def stream(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[httpx.Response]:
        """A streamed GET, its status checked before the body is read."""
        try:
            with self._http.stream("GET", path, params=params) as answer:
                if answer.status_code >= 400:
                    answer.read()
                    raise _error(answer, self.url)
                yield answer
        except httpx.TransportError as e:
            raise self._unreachable(e) from e

    def _send(
        self,
        method: str,
        path: str,
        *,
        accept_status: frozenset[int] = frozenset(),
        **options: Any,
    ) -> httpx.Response:
        delay = 0.5
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts
            try:
                answer = self._http.request(method, path, **options)
            except httpx.TransportError as e:
                if last or not _retryable(e):
                    raise self._unreachable(e) from e
                time.sleep(delay)
                delay *= 2
                continue
            if answer.status_code in _RETRIED and not last:
                time.sleep(_retry_after(answer, delay))
                delay *= 2
                continue
            if answer.status_code >= 400 and answer.status_code not in accept_status:
                raise _error(answer, self.url)
            return answer
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _unreachable(self, error: httpx.TransportError) -> UnavailableError:
        reason = str(error) or type(error).__name__
        return UnavailableError(
            f"cannot reach the changeproof server at {self.url}: {reason}",
            hint="check the server's URL and that it is running (its /api/v1/healthz answers)",
        )


def _checked_url(url: str) -> str:
    """The server's base URL; a token is never sent in clear text beyond this machine."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"server URL {url!r}: expected https://HOST[:PORT]")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise UsageError(
            f"server URL {url!r}: a token is sent over https only, except to this machine",
            hint="use the server's https:// URL (a TLS-terminating load balancer in front)",
        )
    return url.rstrip("/").removesuffix(API)


def _loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _retryable(error: httpx.TransportError) -> bool:
    # A request that may have reached the server is retried too: its key makes it safe.
    return isinstance(
        error, httpx.NetworkError | httpx.TimeoutException | httpx.RemoteProtocolError
    )


def _retry_after(answer: httpx.Response, default: float) -> float:
    given = answer.headers.get("retry-after", "")
    return min(float(given), 30.0) if given.isdigit() else default


def _error(answer: httpx.Response, url: str) -> ChangeproofError:
    try:
        problem = answer.json()
    except ValueError:
        problem = None
    if not isinstance(problem, dict) or not str(problem.get("type", "")).startswith(_PROBLEMS):
        return UnavailableError(
            f"the changeproof server at {url} answered {answer.status_code} without a problem "
            "document: is that URL a changeproof server?"
        )
    slug = str(problem["type"]).removeprefix(_PROBLEMS)
    detail = str(problem.get("detail", "")) or f"the server refused the request ({slug})"
    hint = problem.get("hint")
    error_class = _ERRORS.get(slug, ChangeproofError)
    template = _marked(detail, problem.get("errors"))
    return error_class(template, hint=hint if isinstance(hint, str) else None)


def _marked(detail: str, errors: object) -> str:
    """The detail with the fields its pointers name marked again, so the CLI names each as
    its flag, as it would have had the error been raised here: the server words a field
    by its bare name, at its first mention."""
    if not isinstance(errors, list):
        return detail
    for item in errors:
        pointer = item.get("pointer") if isinstance(item, dict) else None
        if not isinstance(pointer, str) or pointer.count("/") != 1:
            continue  # a field inside the body (/commits/3/sha) is no flag of the CLI
        name = pointer[1:].replace("~1", "/").replace("~0", "~")
        word = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        marker = format(Field(name)).replace("\\", "\\\\")
        detail = word.sub(marker, detail, count=1)
    return detail
