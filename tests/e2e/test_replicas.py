"""Many replicas on one PostgreSQL database, as an operator runs them and as they fail: two
`changeproof serve` processes of two workers each on loopback ports, loopback clients
gating concurrently with idempotency keys, one server SIGKILLed mid-load and the other's
database connections terminated (`pg_terminate_backend`). Clients see 503 problems with
Retry-After or a dropped connection, retry with their keys, and the ledger ends with
exactly one decision per request, no gap, `ledger verify` and `ledger audit` clean."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text

from changeproof.api.problems import MEDIA_TYPE, PROBLEMS
from changeproof.store.database import normalize_url
from tests.conftest import Cli, ints, query
from tests.e2e.test_serve import SERVE, _free_port, _wait_ready
from tests.integration.api_scenario import add_callers
from tests.integration.scenario import Scenario

pytestmark = pytest.mark.postgres

REQUESTS = 80
CLIENTS = 8


def _serve(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    args = [*SERVE, "--home", str(home), "--port", str(port), "--workers", "2"]
    # A session of its own: SIGKILL then takes the supervisor and its workers at once.
    return subprocess.Popen(
        args,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )


def _terminate_connections(url: str, application: str) -> None:
    engine = create_engine(normalize_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name"
                ),
                {"name": application},
            )
    finally:
        engine.dispose()


def test_two_servers_one_killed_record_each_request_exactly_once(
    postgres_url: str, tmp_path: Path, cli: Cli
) -> None:
    application = f"cp-replicas-{secrets.token_hex(4)}"
    url = make_url(postgres_url).update_query_dict({"application_name": application})
    home = tmp_path / "instance"
    init = cli("init", "--actor", "tester", "--origin", "test.example/ledger", "--home", home,
               "--database-url", url.render_as_string(hide_password=False))  # fmt: skip
    assert init.code == 0, init.err
    scenario = Scenario(home, tmp_path, cli)
    scenario.repo.commit("PAY-1 refunds", {"app.py": "print(1)\n"})
    release = scenario.release()
    scenario.activate()
    callers = add_callers(cli, home)
    decided_before = ints(home, "SELECT count(*) FROM decisions")[0]

    ports = [_free_port(), _free_port()]
    servers = [_serve(home, port) for port in ports]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    for base, process in zip(bases, servers, strict=True):
        _wait_ready(base, process)

    done = 0
    lock = threading.Lock()
    quarter, half = threading.Event(), threading.Event()
    unavailable: list[httpx.Response] = []
    dropped = 0

    def send(number: int) -> tuple[str, int]:
        nonlocal done, dropped
        key = f"load-{number}"
        headers = {**callers.auth("pipeline"), "Idempotency-Key": key}
        body = {"release": release, "environment": "production"}
        for attempt in range(40):
            base = bases[(number + attempt) % 2]
            try:
                answer = httpx.post(f"{base}/api/v1/gate", headers=headers, json=body, timeout=30)
            except httpx.TransportError:
                with lock:
                    dropped += 1
                time.sleep(0.2)
                continue
            if answer.status_code == 503:
                with lock:
                    unavailable.append(answer)
                time.sleep(float(answer.headers.get("retry-after", "1")) / 4)
                continue
            with lock:
                done += 1
                if done >= REQUESTS // 4:
                    quarter.set()
                if done >= REQUESTS // 2:
                    half.set()
            if answer.status_code == 200:
                return "answered", int(answer.json()["decision_seq"])
            problem = answer.json()
            assert answer.status_code == 409, (answer.status_code, answer.text)
            assert problem["type"] == PROBLEMS["idempotency-key-recorded"].type
            return "recorded", int(problem["recorded"][0])
        raise AssertionError(f"{key}: no answer after 40 attempts")

    def chaos() -> None:
        quarter.wait(timeout=120)
        os.killpg(servers[0].pid, signal.SIGKILL)
        half.wait(timeout=120)
        # Again and again for a while, so transactions in flight are cut, not only idle
        # connections the pool would replace unseen.
        until = time.monotonic() + 2
        while time.monotonic() < until:
            _terminate_connections(postgres_url, application)
            time.sleep(0.02)

    saboteur = threading.Thread(target=chaos)
    saboteur.start()
    try:
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            outcomes = list(pool.map(send, range(REQUESTS)))
    finally:
        saboteur.join(timeout=130)
        for process in servers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)

    assert servers[0].returncode == -signal.SIGKILL
    seqs = [seq for _, seq in outcomes]
    assert len(set(seqs)) == REQUESTS  # each request its own decision, none shared
    decided = ints(home, "SELECT count(*) FROM decisions")[0] - decided_before
    assert decided == REQUESTS  # exactly one per request: none lost, none twice
    keys = query(home, "SELECT key, first_seq, last_seq FROM idempotency_keys")
    assert len(keys) == REQUESTS
    assert {int(str(first)) for _, first, _ in keys} == set(seqs)
    assert dropped > 0  # requests in flight to the killed server
    assert unavailable  # and transactions cut under the other
    for answer in unavailable:  # what a client saw of the outage: a problem, never a 500
        assert answer.headers["content-type"] == MEDIA_TYPE
        assert answer.headers["retry-after"].isdigit()
        assert answer.json()["type"] == PROBLEMS["unavailable"].type
    size = ints(home, "SELECT tree_size FROM ledger_head")[0]
    assert ints(home, "SELECT count(*) FROM ledger_events") == [size]  # no gap
    verify = cli("ledger", "verify", "--home", home)
    assert verify.code == 0, verify.err
    audit = cli("ledger", "audit", "--home", home)
    assert audit.code == 0, audit.err
