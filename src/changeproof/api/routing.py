"""The route table's one rule: every route declares how its caller is authenticated.

A route has a scope, or is PUBLIC, or is a signed webhook route; the app refuses to start
with a route that is none of these.

A handler takes its caller as one of the principal aliases below (`Reader`, `Recorder`,
`Approver`, `Governor`, `Administrator`); the alias authenticates the bearer token and
checks its scope, and the app publishes that scope as the operation's
`x-changeproof-scope` in the OpenAPI document, from which the authorization matrix test
is generated. A webhook route takes its delivery as `api.hooks.signed(source)` instead:
the delivery's signature is its only credential (a bearer token means nothing there), and
the app publishes the source as `x-changeproof-hook`. Services get the instance through
`Services`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from fastapi.routing import APIRoute

from changeproof.api.auth import FailureLimiter, authenticate, require_scope
from changeproof.api.problems import ProblemError, pointer
from changeproof.bootstrap import Instance
from changeproof.domain.idempotency import CLAIM
from changeproof.domain.tokens import Principal, Scope

__all__ = [
    "PUBLIC",
    "Administrator",
    "Approver",
    "Governor",
    "Reader",
    "Recorder",
    "Services",
    "hook_of",
    "known_query",
    "scope_of",
]

# Routes anyone may call: health probes and the API's own description.
PUBLIC: Final = frozenset({"/api/v1/healthz", "/api/v1/readyz"})

_SCOPE_ATTRIBUTE: Final = "changeproof_scope"
HOOK_ATTRIBUTE: Final = "changeproof_hook"  # set by api.hooks.signed on its dependency


def _instance(request: Request) -> Instance:
    instance: Instance = request.app.state.instance
    return instance


Services = Annotated[Instance, Depends(_instance)]


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def _needs(scope: Scope) -> Callable[[Request], Principal]:
    def principal(request: Request) -> Principal:
        instance: Instance = request.app.state.instance
        limiter: FailureLimiter = request.app.state.limiter
        found = authenticate(
            request.headers.get("authorization"),
            client_address(request),
            instance.tokens.principal,
            limiter,
        )
        request.state.actor = found.actor  # for the request log
        require_scope(found, scope)
        claim = CLAIM.get()
        if claim is not None:  # the key is the caller's own
            claim.actor = found.actor
        return found

    setattr(principal, _SCOPE_ATTRIBUTE, scope)
    return principal


Reader = Annotated[Principal, Depends(_needs(Scope.READ))]
Recorder = Annotated[Principal, Depends(_needs(Scope.RECORD))]
Approver = Annotated[Principal, Depends(_needs(Scope.APPROVE))]
Governor = Annotated[Principal, Depends(_needs(Scope.GOVERN))]
Administrator = Annotated[Principal, Depends(_needs(Scope.ADMIN))]


def known_query(request: Request) -> None:
    """Refuse a query parameter the route does not take, or one given twice: a misspelt filter
    (`?enviroment=prod`) must not answer the whole list as if it were the filtered one."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = {p.alias for p in route.dependant.query_params}
    for dependency in route.dependant.dependencies:
        known.update(p.alias for p in dependency.query_params)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        detail = f"unknown query parameter {unknown[0]!r}"
        if known:
            detail += f"; this route takes {', '.join(sorted(known))}"
        raise ProblemError(
            "invalid-request", detail, errors=tuple((pointer(u), detail) for u in unknown)
        )
    # No route takes a list in its query: a parameter given twice would be read as its
    # last value, so a filter could be answered for another value than the one checked.
    repeated = sorted(k for k in known if len(request.query_params.getlist(k)) > 1)
    if repeated:
        detail = f"query parameter {repeated[0]!r} is given more than once"
        raise ProblemError(
            "invalid-request", detail, errors=tuple((pointer(r), detail) for r in repeated)
        )


def scope_of(route: APIRoute) -> Scope | None:
    """The scope a route's principal dependency checks (None: it takes no principal)."""
    scope: Scope | None = _marked(route, _SCOPE_ATTRIBUTE, "scopes")
    return scope


def hook_of(route: APIRoute) -> str | None:
    """The webhook source whose signature a route's delivery dependency checks, if any."""
    source: str | None = _marked(route, HOOK_ATTRIBUTE, "webhook sources")
    return source


def _marked(route: APIRoute, attribute: str, what: str) -> Any:
    """The one value its dependencies carry as `attribute`; RuntimeError for several."""
    found = {
        getattr(dependency.call, attribute)
        for dependency in route.dependant.dependencies
        if hasattr(dependency.call, attribute)
    }
    if len(found) > 1:
        raise RuntimeError(f"route {route.path} checks several {what}: {sorted(found)}")
    return found.pop() if found else None
