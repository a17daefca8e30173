"""Idempotency-Key as a client that retries meets it, against a real uvicorn, both backends:
a retried request records nothing twice and gets the first answer; a key sent with another
request, a key whose answer was not kept, copies of one request racing on many
connections, and a key that is no key."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from changeproof.api.problems import MEDIA_TYPE, PROBLEMS
from tests.conftest import Cli, ints, query, tamper
from tests.integration.api_scenario import Callers, add_callers, client
from tests.integration.scenario import Scenario


def _size(home: Path) -> int:
    return ints(home, "SELECT tree_size FROM ledger_head")[0]


def _problem(answer: httpx.Response, slug: str) -> dict[str, object]:
    assert answer.headers["content-type"] == MEDIA_TYPE, answer.text
    doc: dict[str, object] = answer.json()
    assert (answer.status_code, doc["type"]) == (PROBLEMS[slug].status, PROBLEMS[slug].type)
    return doc


@pytest.fixture
def gated(home: Path, tmp_path: Path, cli: Cli) -> tuple[Callers, str]:
    """Callers, and a release with one commit under the active policy, for the gate."""
    scenario = Scenario(home, tmp_path, cli)
    scenario.repo.commit("PAY-1 refunds", {"app.py": "print(1)\n"})
    release = scenario.release()
    scenario.activate()  # at once, while the instance has no admin
    callers = add_callers(cli, home)
    return callers, release


def test_a_retried_gate_records_one_decision_and_answers_the_first_answer(
    home: Path, gated: tuple[Callers, str]
) -> None:
    callers, release = gated
    body = {"release": release, "environment": "production"}
    headers = {**callers.auth("pipeline"), "Idempotency-Key": "run-81-gate"}
    before = _size(home)
    with client(home) as api:
        first = api.post("/api/v1/gate", headers=headers, json=body)
        after_first = _size(home)
        again = api.post("/api/v1/gate", headers=headers, json=body)
        quoted = api.post(
            "/api/v1/gate", headers={**headers, "Idempotency-Key": '"run-81-gate"'}, json=body
        )
        unkeyed = api.post("/api/v1/gate", headers=callers.auth("pipeline"), json=body)

    assert first.status_code == 200, first.text
    assert "idempotent-replayed" not in first.headers
    assert after_first == before + 1
    for retry in (again, quoted):
        assert retry.status_code == 200
        assert retry.headers["idempotent-replayed"] == "true"
        assert retry.content == first.content
        assert retry.headers["content-type"] == first.headers["content-type"]
    # Without a key a request is a new request: the gate decides again.
    assert unkeyed.status_code == 200
    assert json.loads(unkeyed.content)["decision_seq"] != json.loads(first.content)["decision_seq"]
    assert _size(home) == before + 2


def test_a_key_is_bound_to_its_request_and_to_its_actor(
    home: Path, gated: tuple[Callers, str]
) -> None:
    callers, release = gated
    key = {"Idempotency-Key": "one-key"}
    before = _size(home)
    with client(home) as api:
        first = api.post(
            "/api/v1/gate",
            headers={**callers.auth("pipeline"), **key},
            json={"release": release, "environment": "production"},
        )
        other_body = api.post(
            "/api/v1/gate",
            headers={**callers.auth("pipeline"), **key},
            json={"release": release, "environment": "frozen"},
        )
        other_route = api.post(
            "/api/v1/tokens", headers={**callers.auth("admin"), **key}, json={"actor": "ci"}
        )
        other_actor = api.post(
            "/api/v1/gate",
            headers={**callers.auth("approver"), **key},
            json={"release": release, "environment": "production"},
        )
    assert first.status_code == 200, first.text
    reused = _problem(other_body, "idempotency-key-reused")
    assert "idempotency key 'one-key' was sent before with a different request" in str(
        reused["detail"]
    )
    # Another actor's key of the same name is another key: both requests record.
    assert other_route.status_code == 201, other_route.text
    assert other_actor.status_code == 200
    assert "idempotent-replayed" not in other_actor.headers
    assert _size(home) == before + 3


def test_a_secret_is_never_kept_for_a_retry_which_learns_what_was_recorded(
    home: Path, cli: Cli
) -> None:
    callers = add_callers(cli, home)
    headers = {**callers.auth("admin"), "Idempotency-Key": "mint-ci-token"}
    with client(home) as api:
        first = api.post("/api/v1/tokens", headers=headers, json={"actor": "ci"})
        size = _size(home)
        again = api.post("/api/v1/tokens", headers=headers, json={"actor": "ci"})

    assert first.status_code == 201, first.text
    assert first.headers["cache-control"] == "no-store"
    secret = first.json()["token"]
    doc = _problem(again, "idempotency-key-recorded")
    assert doc["recorded"] == [size - 1, size - 1]
    assert secret not in again.text
    assert _size(home) == size
    kept = query(
        home,
        "SELECT status, body FROM idempotency_keys WHERE actor = 'root' AND key = 'mint-ci-token'",
    )
    assert kept == [(None, None)]  # no answer kept, so no secret in the database


def test_an_answer_lost_after_the_entries_committed_is_told_not_repeated(
    home: Path, gated: tuple[Callers, str]
) -> None:
    callers, release = gated
    headers = {**callers.auth("pipeline"), "Idempotency-Key": "lost"}
    body = {"release": release, "environment": "production"}
    with client(home) as api:
        first = api.post("/api/v1/gate", headers=headers, json=body)
        seq = json.loads(first.content)["decision_seq"]
        # As a server killed between committing the decision and keeping its answer leaves it.
        tamper(home, "UPDATE idempotency_keys SET status = NULL, media_type = NULL, body = NULL")
        size = _size(home)
        again = api.post("/api/v1/gate", headers=headers, json=body)
    doc = _problem(again, "idempotency-key-recorded")
    assert doc["recorded"] == [seq, seq]
    assert f"recorded entries {seq}..{seq}" in str(doc["detail"])
    assert _size(home) == size


def test_a_request_that_recorded_nothing_keeps_no_key(
    home: Path, gated: tuple[Callers, str]
) -> None:
    callers, release = gated
    headers = {**callers.auth("pipeline"), "Idempotency-Key": "typo-first"}
    before = _size(home)
    with client(home) as api:
        missing = api.post(
            "/api/v1/gate",
            headers=headers,
            json={"release": "payments/9.9", "environment": "production"},
        )
        fixed = api.post(
            "/api/v1/gate", headers=headers, json={"release": release, "environment": "production"}
        )
    _problem(missing, "not-found")
    assert fixed.status_code == 200, fixed.text
    assert _size(home) == before + 1


def test_copies_of_one_request_racing_record_it_once(
    home: Path, gated: tuple[Callers, str]
) -> None:
    callers, release = gated
    headers = {**callers.auth("pipeline"), "Idempotency-Key": "raced"}
    body = {"release": release, "environment": "production"}
    before = _size(home)
    with client(home) as api:

        def send(_: int) -> httpx.Response:
            with httpx.Client(base_url=str(api.base_url), timeout=60) as own:
                return own.post("/api/v1/gate", headers=headers, json=body)

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(send, range(8)))
        settled = api.post("/api/v1/gate", headers=headers, json=body)

    assert _size(home) == before + 1
    seq = before  # the one decision
    fresh = [a for a in answers if a.status_code == 200 and "idempotent-replayed" not in a.headers]
    assert len(fresh) == 1, [(a.status_code, a.text[:200]) for a in answers]
    for answer in answers:
        if answer.status_code == 200:
            assert answer.content == fresh[0].content
        else:  # a copy that read the key before the first answer was kept
            assert _problem(answer, "idempotency-key-recorded")["recorded"] == [seq, seq]
    assert settled.content == fresh[0].content
    assert settled.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize("key", ["", "has space", 'quo"te', "back\\slash", "x" * 256, "ünï"])
def test_a_key_that_is_no_key_is_refused_before_anything_runs(
    home: Path, gated: tuple[Callers, str], key: str
) -> None:
    callers, release = gated
    before = _size(home)
    headers = [(k.encode(), v.encode()) for k, v in callers.auth("pipeline").items()]
    with client(home) as api:
        answer = api.post(
            "/api/v1/gate",
            headers=[*headers, (b"Idempotency-Key", key.encode("utf-8"))],
            json={"release": release, "environment": "production"},
        )
    doc = _problem(answer, "invalid-request")
    assert "the Idempotency-Key header is not a key" in str(doc["detail"])
    assert _size(home) == before
