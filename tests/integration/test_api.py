"""The REST API as clients meet it, against a real uvicorn on a loopback port, both
backends: problem documents, hostile requests that record nothing, pagination, the acting
actor always the authenticated one, failed authentications rate limited, no secret in any
answer or log line."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from changeproof.api.problems import MEDIA_TYPE, PROBLEMS
from tests.conftest import Cli, ints, query
from tests.integration.api_scenario import (
    GITHUB_SECRET,
    GITLAB_TOKEN,
    ROTATED_SECRET,
    STANDARD_SECRET,
    add_callers,
    add_hooks,
    client,
    github_headers,
)


def _size(home: Path) -> int:
    return ints(home, "SELECT tree_size FROM ledger_head")[0]


def _problem(answer: httpx.Response, slug: str) -> dict[str, object]:
    assert answer.headers["content-type"] == MEDIA_TYPE, answer.text
    doc: dict[str, object] = answer.json()
    kind = PROBLEMS[slug]
    assert (answer.status_code, doc["type"], doc["title"]) == (kind.status, kind.type, kind.title)
    assert doc["status"] == kind.status
    assert doc["request_id"] == answer.headers["x-request-id"]
    return doc


def test_hostile_requests_get_a_problem_each_and_record_nothing(home: Path, cli: Cli) -> None:
    callers = add_callers(cli, home)
    auth = callers.auth("admin")
    before = _size(home)
    with client(home) as api:
        _problem(api.get("/api/v1/no-such-route", headers=auth), "not-found")
        _problem(api.put("/api/v1/gate", headers=auth, json={}), "method-not-allowed")
        malformed = api.post(
            "/api/v1/gate",
            headers={**auth, "content-type": "application/json"},
            content=b'{"release": "a/b",',
        )
        _problem(malformed, "invalid-request")
        missing = _problem(api.post("/api/v1/gate", headers=auth, json={}), "invalid-request")
        pointers = {e["pointer"] for e in missing["errors"]}  # type: ignore[attr-defined]
        assert pointers == {"/release", "/environment"}
        unknown = api.post(
            "/api/v1/gate",
            headers=auth,
            json={"release": "a/b", "environment": "prod", "actor": "someone-else"},
        )
        extra = _problem(unknown, "invalid-request")
        assert [e["pointer"] for e in extra["errors"]] == ["/actor"]  # type: ignore[attr-defined]
        as_text = api.post(
            "/api/v1/gate",
            headers={**auth, "content-type": "text/plain"},
            content=b"release=a/b",
        )
        _problem(as_text, "invalid-request")
        bad_release = api.post(
            "/api/v1/gate", headers=auth, json={"release": "../etc", "environment": "prod"}
        )
        assert "service '..' must be 1-100 letters" in str(
            _problem(bad_release, "invalid-request")["detail"]
        )
        traversal = api.get("/api/v1/releases/..%2F..%2Fetc/passwd", headers=auth)
        assert traversal.status_code in (400, 404)
        assert traversal.headers["content-type"] == MEDIA_TYPE
        injected = api.get("/api/v1/ledger", headers={**auth, "x-request-id": "a\tb"})
        assert injected.status_code == 200
        assert injected.headers["x-request-id"] != "a\tb"
        kept = api.get("/api/v1/ledger", headers={**auth, "x-request-id": "ci-42.7"})
        assert kept.headers["x-request-id"] == "ci-42.7"
    assert _size(home) == before


def test_an_oversized_body_is_refused_before_it_is_read(home: Path, cli: Cli) -> None:
    from changeproof.api.app import create_app
    from changeproof.bootstrap import open_instance

    callers = add_callers(cli, home)
    before = _size(home)
    app = create_app(open_instance(home), max_body=1024, close_instance=True)
    with client(home, app=app) as api:
        big = {"release": "a/b", "environment": "prod", "reason": "x" * 2000}
        declared = api.post("/api/v1/gate", headers=callers.auth("admin"), json=big)
        _problem(declared, "too-large")

        def chunks() -> object:
            yield b'{"release": "a/b", "environment": "prod", "reason": "'
            yield b"x" * 4096
            yield b'"}'

        streamed = api.post(
            "/api/v1/gate",
            headers={**callers.auth("admin"), "content-type": "application/json"},
            content=chunks(),  # type: ignore[arg-type]
        )
        _problem(streamed, "too-large")
    assert _size(home) == before


def test_service_errors_name_their_fields_as_json_pointers(home: Path, cli: Cli) -> None:
    callers = add_callers(cli, home)
    with client(home) as api:
        answer = api.post(
            "/api/v1/tokens",
            headers=callers.auth("admin"),
            json={"actor": "root", "expires": "1y"},
        )
        doc = _problem(answer, "invalid-request")
        assert (
            doc["detail"]
            == "expires '1y': expected a duration (90d, 12h, 2w) or a date (2027-01-31)"
        )
        assert doc["errors"] == [{"pointer": "/expires", "detail": doc["detail"]}]
        assert "--" not in str(doc)  # no CLI flag reaches an API client
        nobody = _problem(
            api.get("/api/v1/releases/pay/1.0", headers=callers.auth("reader")), "not-found"
        )
        assert nobody["detail"] == "no release pay/1.0"
        assert nobody["hint"] == "create it with `release create`"


def test_lists_page_with_a_cursor_that_survives_appends(home: Path, cli: Cli) -> None:
    callers = add_callers(cli, home)
    with client(home) as api:
        auth = callers.auth("admin")
        everything = api.get("/api/v1/tokens", headers=auth).json()
        assert everything["next_page_token"] is None
        ids = [t["id"] for t in everything["items"]]
        assert len(ids) == 5
        seen: list[str] = []
        token = None
        while True:
            params = {"page_size": 2, **({"page_token": token} if token else {})}
            page = api.get("/api/v1/tokens", headers=auth, params=params).json()
            seen += [t["id"] for t in page["items"]]
            if len(seen) == 2:  # a token created between two pages comes last, once
                created = api.post("/api/v1/tokens", headers=auth, json={"actor": "root"})
                assert created.status_code == 201, created.text
                ids.append(created.json()["id"])
            token = page["next_page_token"]
            if token is None:
                break
        assert seen == ids
        bad = api.get("/api/v1/tokens", headers=auth, params={"page_token": "bm9wZQ"})
        assert _problem(bad, "invalid-request")["errors"] == [
            {"pointer": "/page_token", "detail": "not a page token"}
        ]
        _problem(
            api.get("/api/v1/tokens", headers=auth, params={"page_size": 0}), "invalid-request"
        )


def test_the_actor_is_the_authenticated_one_and_no_secret_is_shown(
    home: Path, cli: Cli, caplog: pytest.LogCaptureFixture
) -> None:
    callers = add_callers(cli, home)
    add_hooks(cli, home, admin="root")
    caplog.set_level(logging.INFO, logger="changeproof.api.access")
    caplog.set_level(logging.DEBUG, logger="changeproof")
    answers = []
    with client(home) as api:
        body = b'{"zen": "Design for failure."}'
        for secret in (GITHUB_SECRET, "not the secret"):
            headers = github_headers(body, "ping", f"ping-{len(secret)}", secret=secret)
            answers.append(api.post("/api/v1/hooks/github", content=body, headers=headers).text)
        gitlab = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "g-1"}
        answers.extend(
            api.post(
                "/api/v1/hooks/gitlab", content=b"{}", headers={**gitlab, "X-Gitlab-Token": token}
            ).text
            for token in (GITLAB_TOKEN, GITLAB_TOKEN[:-1])
        )
        me = api.get("/api/v1/tokens/me", headers=callers.auth("pipeline")).json()
        assert (me["actor"], me["scopes"]) == ("ci", ["read", "record"])
        audrey = api.get("/api/v1/tokens/me", headers=callers.auth("auditor")).json()
        assert (audrey["actor"], audrey["scopes"]) == ("audrey", ["read"])
        created = api.post(
            "/api/v1/tokens", headers=callers.auth("approver"), json={"actor": "ana", "label": "x"}
        )
        assert created.status_code == 201, created.text
        new = created.json()
        assert new["created_by"] == "ana"  # the token's actor, whatever the body could say
        listed = api.get("/api/v1/tokens", headers=callers.auth("reader")).text
        entries = api.get("/api/v1/ledger/entries", headers=callers.auth("reader")).text
        assert new["token"] not in listed
        assert new["token"] not in entries
        status = api.get("/api/v1/ledger", headers=callers.auth("reader")).json()
        assert "database" not in status
    hook_secrets = [GITHUB_SECRET, GITLAB_TOKEN, STANDARD_SECRET, ROTATED_SECRET]
    everything = [r.getMessage() for r in caplog.records]
    bodies = [bytes(row[0]) for row in query(home, "SELECT body FROM ledger_events")]  # type: ignore[call-overload]
    for secret in hook_secrets:
        assert all(secret not in line for line in everything), secret
        assert all(secret not in answer for answer in answers), secret
        assert all(secret.encode() not in body for body in bodies), secret
        assert secret not in entries
    secrets = [*callers.tokens.values(), new["token"]]
    lines = [r.getMessage() for r in caplog.records if r.name == "changeproof.api.access"]
    assert len(lines) >= 6
    assert all('"request_id":' in line and '"outcome":' in line for line in lines)
    assert any('"actor":"ci"' in line for line in lines)
    for secret in secrets:
        assert all(secret not in line and secret[21:] not in line for line in lines)
        assert secret not in listed
        assert secret not in entries


def test_failed_authentications_are_rate_limited_per_address(home: Path, cli: Cli) -> None:
    callers = add_callers(cli, home)
    with client(home) as api:
        wrong = {"Authorization": "Bearer cpt_" + "0" * 16 + "_" + "1" * 64}
        for _ in range(20):
            _problem(api.get("/api/v1/ledger", headers=wrong), "unauthenticated")
        limited = api.get("/api/v1/ledger", headers=callers.auth("admin"))
        _problem(limited, "too-many-requests")
        assert int(limited.headers["retry-after"]) >= 1
        # The probes stay open to a load balancer.
        assert api.get("/api/v1/healthz").json() == {"status": "ok"}
        assert api.get("/api/v1/readyz").json() == {"status": "ready"}


def test_a_misspelt_filter_is_refused_not_ignored(home: Path, cli: Cli) -> None:
    callers = add_callers(cli, home)
    with client(home) as api:
        answer = api.get("/api/v1/deployments?enviroment=prod", headers=callers.auth("auditor"))
        allowed = api.request("OPTIONS", "/api/v1/tokens/me", headers=callers.auth("auditor"))
        listed = api.request("TRACE", "/api/v1/changes", headers=callers.auth("auditor"))
    doc = _problem(answer, "invalid-request")
    assert doc["errors"] == [{"pointer": "/enviroment", "detail": doc["detail"]}]
    assert "this route takes environment, page_size, page_token, since, until" in str(doc["detail"])
    _problem(allowed, "method-not-allowed")
    assert allowed.headers["allow"] == "GET"  # /tokens/me, not also /tokens/{token_id}
    assert listed.headers["allow"] == "GET, POST"
