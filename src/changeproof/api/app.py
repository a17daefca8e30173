"""The ASGI application: `create_app(instance)` for tests and embedding, `from_environment`
for uvicorn's workers (`changeproof serve`).

The app holds one opened instance (the store, the signer, the clock) for its lifetime;
handlers are synchronous and run in the thread pool, each calling one service.
Every route under /api/v1 needs a scope (`api.routing`), a place in PUBLIC, or a webhook
source whose signature it checks, and the app refuses to start otherwise: a new route
cannot be reachable without one. When it starts, it processes the webhook deliveries a
previous run received but did not get to (`HookService.recover`).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.routing import compile_path

from changeproof import __version__
from changeproof.api.auth import FailureLimiter
from changeproof.api.errors import install_handlers
from changeproof.api.idempotency import IdempotencyKeys
from changeproof.api.middleware import ACCESS_LOG, BodyLimit, RequestLog
from changeproof.api.problems import MEDIA_TYPE, Problem
from changeproof.api.routes import ROUTERS
from changeproof.api.routing import PUBLIC, hook_of, known_query, scope_of
from changeproof.bootstrap import Instance, open_instance
from changeproof.domain.errors import ChangeproofError
from changeproof.domain.idempotency import MAX_KEY_LENGTH
from changeproof.domain.tokens import Scope

__all__ = ["API_PREFIX", "HOME_VARIABLE", "create_app", "from_environment"]

API_PREFIX: Final = "/api/v1"
HOME_VARIABLE: Final = "CHANGEPROOF_HOME"
# The largest body any route reads (an evidence upload); routes and services hold each
# kind of body to its own, smaller limit.
DEFAULT_MAX_BODY: Final = 64 * 1024 * 1024

_DESCRIPTION: Final = """The changeproof server: the only holder of the instance's store and
signing key. Every route needs `Authorization: Bearer cpt_…` with the scope its
`x-changeproof-scope` names, except the webhook routes (`x-changeproof-hook`), which
authenticate each delivery by its signature; errors are RFC 9457 problem documents."""

log = logging.getLogger(__name__)


def create_app(
    instance: Instance,
    *,
    limiter: FailureLimiter | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    close_instance: bool = False,
) -> FastAPI:
    """The API over `instance`; `close_instance` closes it when the app shuts down."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(_recover, instance)
            yield
        finally:
            if close_instance:
                instance.close()

    app = FastAPI(
        title="changeproof",
        version=__version__,
        description=_DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.instance = instance
    app.state.limiter = limiter or FailureLimiter()
    scopes, hooks = _scopes(ROUTERS)
    app.state.methods = _methods(ROUTERS)
    instance.hooks  # noqa: B018 - a [hooks] table in error stops the app before it serves
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX, dependencies=[Depends(known_query)])

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A changeproof token (cpt_…, from `token create`)",
                }
            }
            _problems(schema)
            for (path, method), scope in scopes.items():
                operation = schema["paths"][path][method]
                operation["x-changeproof-scope"] = scope.value
                operation["security"] = [{"bearer": []}]
                if method == "post" and scope is not Scope.READ:
                    parameters = operation.setdefault("parameters", [])
                    parameters.append(_IDEMPOTENCY_PARAMETER)
            for (path, method), source in hooks.items():
                operation = schema["paths"][path][method]
                operation["x-changeproof-hook"] = source
                operation["security"] = []
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    install_handlers(app)
    app.add_middleware(IdempotencyKeys, keep=instance.idempotency.keep_answer)
    app.add_middleware(BodyLimit, limit=max_body)
    app.add_middleware(RequestLog)
    return app


def _problems(schema: dict[str, Any]) -> None:
    """Every operation answers its errors as problem documents, whatever the status: say so,
    in place of FastAPI's 422 validation schema (a bad request is a 400 problem here)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    answer = {
        "description": "An RFC 9457 problem (docs/server.md lists the types)",
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    for operations in schema["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
            operation["responses"]["default"] = answer


_IDEMPOTENCY_PARAMETER: Final = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "A key of the client's (a UUID): a retry with the same key records "
    "nothing twice and gets the first answer (see docs/server.md, Retries).",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


def from_environment() -> FastAPI:
    """The app for the instance at $CHANGEPROOF_HOME: what each uvicorn worker builds."""
    home = os.environ.get(HOME_VARIABLE)
    if not home:
        raise RuntimeError(f"{HOME_VARIABLE} is not set: run the server with `changeproof serve`")
    max_body = int(os.environ.get("CHANGEPROOF_SERVER_MAX_BODY", DEFAULT_MAX_BODY))
    _log_requests()
    return create_app(open_instance(Path(home)), max_body=max_body, close_instance=True)


def _log_requests() -> None:
    """The request log on standard error, one JSON object per line, in every worker."""
    access = logging.getLogger(ACCESS_LOG)
    if not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False


def _methods(routers: Sequence[APIRouter]) -> list[tuple[re.Pattern[str], int, frozenset[str]]]:
    """Every path's methods, for a 405's Allow header: Starlette names only those of the
    one route it tried, where a path may have several (GET and POST /changes). With each
    path the number of its parameters: a literal path (/tokens/me) is not also /tokens/{id}."""
    found: dict[str, set[str]] = {}
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                found.setdefault(API_PREFIX + route.path, set()).update(route.methods or ())
    return [
        (compile_path(path)[0], path.count("{"), frozenset(methods))
        for path, methods in found.items()
    ]


def _recover(instance: Instance) -> None:
    try:
        done = instance.hooks.recover()
    except ChangeproofError as e:  # the server still starts; the next start tries again
        log.warning("webhook deliveries left unprocessed: %s", e.message)
        return
    if done:
        log.info("processed %d webhook deliveries a previous run left unprocessed", done)


def _scopes(
    routers: Sequence[APIRouter],
) -> tuple[dict[tuple[str, str], Scope], dict[tuple[str, str], str]]:
    """Each operation's scope, and each webhook operation's source, by its path and method;
    RuntimeError for a route with neither (or both) that is not PUBLIC."""
    found: dict[tuple[str, str], Scope] = {}
    hooks: dict[tuple[str, str], str] = {}
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                raise RuntimeError(f"{route!r} is not an API route: it would escape the scopes")
            path = API_PREFIX + route.path
            scope, source = scope_of(route), hook_of(route)
            if scope is not None and source is not None:
                raise RuntimeError(f"route {path} takes both a token and a webhook signature")
            if scope is None and source is None and path not in PUBLIC:
                raise RuntimeError(
                    f"route {path} needs a scope, a webhook signature or a place in PUBLIC"
                )
            methods = [m.lower() for m in route.methods or ()]
            if scope is not None:
                found.update({(path, m): scope for m in methods})
            if source is not None:
                hooks.update({(path, m): source for m in methods})
    return found, hooks
