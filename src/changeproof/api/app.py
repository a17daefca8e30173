"""The ASGI application: `create_app(instance)` for tests and embedding, `from_environment`
for uvicorn's workers (`changeproof serve`).

The app holds one opened instance (the store, the signer, the clock) for its lifetime;
handlers are synchronous and run in the thread pool, each calling one service.
Every route under /api/v1 needs a scope (`api.routing`) unless it is listed in PUBLIC, and
the app refuses to start otherwise: a new route cannot be reachable without one.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.routing import APIRoute

from changeproof import __version__
from changeproof.api.auth import FailureLimiter
from changeproof.api.errors import install_handlers
from changeproof.api.middleware import ACCESS_LOG, BodyLimit, RequestLog
from changeproof.api.routes import ROUTERS
from changeproof.api.routing import PUBLIC, scope_of
from changeproof.bootstrap import Instance, open_instance

__all__ = ["API_PREFIX", "HOME_VARIABLE", "create_app", "from_environment"]

API_PREFIX: Final = "/api/v1"
HOME_VARIABLE: Final = "CHANGEPROOF_HOME"
# The largest body any route reads (an evidence upload); routes and services hold each
# kind of body to its own, smaller limit.
DEFAULT_MAX_BODY: Final = 64 * 1024 * 1024

_DESCRIPTION: Final = """The changeproof server: the only holder of the instance's store and
signing key. Every route needs `Authorization: Bearer cpt_…` with the scope its
`x-changeproof-scope` names; errors are RFC 9457 problem documents."""


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
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    _require_scopes(app)
    install_handlers(app)
    app.add_middleware(BodyLimit, limit=max_body)
    app.add_middleware(RequestLog)
    return app


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


def _require_scopes(app: FastAPI) -> None:
    for route in app.routes:
        if not isinstance(route, APIRoute):
            continue
        scope = scope_of(route)
        if scope is None and route.path not in PUBLIC:
            raise RuntimeError(f"route {route.path} needs a scope or a place in PUBLIC")
        if scope is not None:
            route.openapi_extra = {**(route.openapi_extra or {}), "x-changeproof-scope": scope}
