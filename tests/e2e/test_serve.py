"""`changeproof serve` as an operator runs it: a real process on a loopback port, probes
answering, a token's requests served, one JSON log line each, SIGTERM ending it cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import Cli
from tests.integration.api_scenario import add_callers

SERVE = [str(Path(sys.executable).parent / "changeproof"), "serve"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            if httpx.get(f"{base}/api/v1/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not become ready")


def test_serve_runs_the_api_with_two_workers(sqlite_home: Path, cli: Cli) -> None:
    callers = add_callers(cli, sqlite_home)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    args = [*SERVE, "--home", str(sqlite_home), "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        for _ in range(4):  # spread over both workers
            answer = httpx.get(f"{base}/api/v1/tokens/me", headers=callers.auth("pipeline"))
            assert answer.json()["actor"] == "ci"
        refused = httpx.get(f"{base}/api/v1/ledger")
        assert refused.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr.decode()
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
    served = [line for line in lines if line["path"] == "/api/v1/tokens/me"]
    assert len(served) == 4
    assert {line["actor"] for line in served} == {"ci"}
    assert all(line["status"] == 200 and line["outcome"] == "ok" for line in served)
    assert any(line["status"] == 401 and line["outcome"] == "refused" for line in lines)
    for token in callers.tokens.values():
        assert token[21:] not in stderr.decode()


def test_serve_refuses_a_folder_that_is_no_instance(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SERVE, "--home", str(tmp_path / "nothing"), "--port", str(_free_port())],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert b"no changeproof instance at" in done.stderr
