"""Who is calling: the bearer token's principal, its scope checked per route.

The actor of a request is the one its token authenticates, never a name the request
claims (no body field or header names the acting actor). Failed authentications are
counted per client address: past `FailureLimiter.limit` in `window` seconds the address
gets 429 with Retry-After until the window has passed, whatever it presents, so a token
cannot be guessed online (it holds 256 random bits anyway) and a leaked id cannot be
probed. The counts live in the process: each replica limits on its own, which bounds the
rate at the number of replicas times the limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Final

from changeproof.api.problems import ProblemError
from changeproof.domain.errors import PermissionDeniedError
from changeproof.domain.tokens import Principal, Scope

__all__ = ["FailureLimiter", "authenticate", "require_scope"]

_SCHEME: Final = "bearer"
_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="changeproof"'}


class FailureLimiter:
    """Failed authentications per client address in a sliding window."""

    def __init__(
        self,
        limit: int = 20,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int | None:
        """Seconds until `address` may try again, or None when it may now."""
        with self._lock:
            failures = self._recent(address)
            if len(failures) < self.limit:
                return None
            return max(1, math.ceil(failures[0] + self.window - self._clock()))

    def failed(self, address: str) -> None:
        with self._lock:
            self._recent(address).append(self._clock())
            if len(self._failures) > 100_000:  # a flood of addresses: forget the quiet ones
                for quiet in [a for a, f in self._failures.items() if not f]:
                    del self._failures[quiet]

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures.setdefault(address, deque())
        horizon = self._clock() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        return failures


def authenticate(
    authorization: str | None,
    address: str,
    principal_of: Callable[[str], Principal],
    limiter: FailureLimiter,
) -> Principal:
    """The principal of `Authorization: Bearer cpt_…`; ProblemError 401 (429 when the
    address failed too often) that never quotes what was presented."""
    wait = limiter.retry_after(address)
    if wait is not None:
        raise ProblemError(
            "too-many-requests",
            f"too many failed authentications from this address; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    if authorization is None or not authorization.strip():
        # No credentials at all is not a guess: it is not counted.
        raise ProblemError(
            "unauthenticated",
            "this route needs a bearer token (Authorization: Bearer cpt_…)",
            hint="create one with `token create` and send it in the Authorization header",
            headers=_CHALLENGE,
        )
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != _SCHEME or not credentials.strip():
        limiter.failed(address)
        raise ProblemError(
            "unauthenticated",
            "the Authorization header is not `Bearer <token>`",
            headers=_CHALLENGE,
        )
    try:
        return principal_of(credentials.strip())
    except PermissionDeniedError as e:
        limiter.failed(address)
        raise ProblemError(
            "unauthenticated", e.message, hint=e.hint(), headers=_CHALLENGE
        ) from None


def require_scope(principal: Principal, scope: Scope) -> None:
    if not principal.may(scope):
        held = ", ".join(sorted(principal.scopes)) or "none"
        raise ProblemError(
            "insufficient-scope",
            f"token {principal.token} of {principal.actor} lacks the {scope} scope this "
            f"route needs (it holds {held})",
            hint="an auditor's token only reads; a pipeline's reads and records"
            if scope not in (Scope.READ, Scope.RECORD)
            else "create a token with that scope",
            headers={"WWW-Authenticate": f'Bearer realm="changeproof", scope="{scope}"'},
        )
