"""Every route by every caller, generated from the OpenAPI document: a route answers a
caller without a token 401, a caller whose token lacks the route's scope 403, and a caller
holding it anything but those (and never a 5xx). A webhook route (`x-changeproof-hook`)
answers a delivery without a valid signature 401 whatever token comes with it, and records
nothing. A route added without a scope stops the app from starting, so it cannot escape
this table."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from changeproof.api import app as app_module
from changeproof.api import routes
from changeproof.api.problems import MEDIA_TYPE, PROBLEMS
from changeproof.api.routing import PUBLIC
from changeproof.bootstrap import open_instance
from tests.conftest import Cli, ints
from tests.integration.api_scenario import CALLERS, add_callers, add_hooks, client

_PARAMETER = re.compile(r"\{([^}]+)\}")


def _operations(openapi: dict[str, object]) -> list[tuple[str, str, str | None]]:
    """(method, path, scope) of every operation; a webhook operation's scope reads `hook:`
    and its source."""
    found = []
    paths = openapi["paths"]
    assert isinstance(paths, dict)
    for path, operations in paths.items():
        for method, operation in operations.items():
            hook = operation.get("x-changeproof-hook")
            scope = f"hook:{hook}" if hook else operation.get("x-changeproof-scope")
            found.append((method.upper(), path, scope))
    return sorted(found)


def _request(api: httpx.Client, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    url = _PARAMETER.sub("0", path)  # a number reads as any kind of id
    body: dict[str, object] | None = {} if method in {"POST", "PUT", "PATCH"} else None
    return api.request(method, url, headers=headers, json=body)


def test_every_route_checks_its_scope_for_every_caller(home: Path, cli: Cli) -> None:
    callers = add_callers(cli, home)
    add_hooks(cli, home, admin="root")
    with client(home) as api:
        operations = _operations(api.get("/api/v1/openapi.json").json())
        assert len(operations) >= 25
        for method, path, scope in operations:
            if path in PUBLIC:
                assert scope is None
                continue
            if scope is not None and scope.startswith("hook:"):
                _refuses_unsigned(api, home, method, path, callers.auth)
                continue
            assert scope in {"read", "record", "approve", "govern", "admin"}, (method, path)
            anonymous = _request(api, method, path, {})
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            assert anonymous.headers["content-type"] == MEDIA_TYPE
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
            for caller, scopes in CALLERS.items():
                answer = _request(api, method, path, callers.auth(caller))
                what = (caller, method, path, answer.status_code, answer.text[:300])
                assert answer.status_code < 500, what
                problem = PROBLEMS["insufficient-scope"].type
                refused = answer.status_code == 403 and answer.json()["type"] == problem
                assert refused == (scope not in scopes), what
                assert answer.status_code != 401, what
                if answer.status_code >= 400:
                    assert answer.headers["content-type"] == MEDIA_TYPE, what


def _refuses_unsigned(
    api: httpx.Client, home: Path, method: str, path: str, auth: Callable[[str], dict[str, str]]
) -> None:
    size = ints(home, "SELECT tree_size FROM ledger_head")
    forged = {
        "X-Hub-Signature-256": "sha256=" + "0" * 64,
        "X-Gitlab-Token": "not-the-token",
        "webhook-id": "msg_1",
        "webhook-timestamp": "1",
        "webhook-signature": "v1," + "A" * 43 + "=",
        "X-GitHub-Delivery": "d-1",
        "X-Gitlab-Event-UUID": "d-1",
    }
    for caller in (None, *CALLERS):
        for signature in ({}, forged):
            headers = {**signature, **({} if caller is None else auth(caller))}
            answer = _request(api, method, path, headers)
            what = (caller, method, path, answer.status_code, answer.text[:300])
            assert answer.status_code == 401, what
            assert answer.headers["content-type"] == MEDIA_TYPE, what
            assert answer.json()["type"] == PROBLEMS["unauthenticated"].type, what
    assert ints(home, "SELECT tree_size FROM ledger_head") == size


def test_a_route_without_a_scope_stops_the_app_from_starting(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loose = APIRouter()

    @loose.get("/loose")
    def _loose() -> dict[str, str]:
        return {"open": "to anyone"}

    monkeypatch.setattr(app_module, "ROUTERS", (*routes.ROUTERS, loose))
    with open_instance(home) as instance, pytest.raises(RuntimeError, match="/api/v1/loose"):
        app_module.create_app(instance)


def test_the_app_serves_only_the_routers_it_lists(home: Path) -> None:
    with open_instance(home) as instance:
        app: FastAPI = app_module.create_app(instance)
    paths = {getattr(route, "path", "") for route in app.routes}
    assert "/api/v1/openapi.json" in paths
    assert not {p for p in paths if p.startswith("/docs") or p.startswith("/redoc")}
