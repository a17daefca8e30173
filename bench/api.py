"""API benchmark: the gate through `changeproof serve`, against the same gate in-process.

    .venv/bin/python bench/api.py [--quick] [--commits N] [--decisions N]
                                  [--backend sqlite|postgresql|all] [--postgres-url URL]
                                  [--workdir DIR] [--cache DIR] [--seed S]

Records one release of 100 commits with the evidence a compliant release has (bench/gate.py's
history and `prepare`, through the services), gives the pipeline identity a token, then
measures, in one run per backend:

- gate decisions/s in-process (`GateService.decide`, one caller: the limit), and through
  HTTP with token auth, eight concurrent clients, against `changeproof serve` at one and at
  two workers (target ratio 0.7 at one worker);
- p50 and p99 latency of a decision with 16 concurrent clients at one worker, against the
  wait at the physical limit: decisions append one at a time, so a request that finds the
  15 others queued waits for them all at in-process speed (p99: 16 decisions, p50: 8.5);
- `changeproof gate` as the server's client, wall time per call, against
  `python -c "import httpx"` (target 0.33).

Prints one JSON object per line on stdout, in bench/ledger.py's form; progress on stderr.
docs/benchmarks.md explains each line.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Final

import httpx

from changeproof.bootstrap import Instance, SystemClock, open_instance
from changeproof.services.initialize import initialize
from gate import POLICY, Prepared, add_people, prepare, repository
from ingest import add_history_arguments
from ledger import (
    Line,
    changeproof_command,
    chosen_backends,
    describe_server,
    fresh_database,
    say,
    within,
)

COMMITS: Final = 100
DECISIONS: Final = 200
QUICK_DECISIONS: Final = 60
CLIENTS: Final = 8
LATENCY_CLIENTS: Final = 16
CLI_RUNS: Final = 7
TARGETS: Final = {"throughput": 0.7, "latency": 0.5, "cli": 0.33}
IN_PROCESS: Final = "GateService.decide in-process, one caller"


@contextmanager
def serving(home: Path, workers: int) -> Iterator[str]:
    """`changeproof serve` of `home` on a free loopback port, until the block ends."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [*changeproof_command(), "serve", "--home", str(home), "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _ready(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"changeproof serve did not start (exit {process.poll()})")
            time.sleep(0.1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v1/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def pipeline_token(instance: Instance) -> str:
    instance.actors.add("ci", pipeline=True, by="bench")
    return instance.tokens.create("ci", by="bench").text


def gate_body(prepared: Prepared) -> dict[str, object]:
    request = prepared.request
    return {
        "release": str(request.release),
        "environment": request.environment,
        "deployer": request.deployer,
        "artifact": request.artifact,
    }


def in_process(instance: Instance, prepared: Prepared, decisions: int) -> list[float]:
    """Each decision's seconds, through the service as the server calls it."""
    request = replace(prepared.request, policy_file=None)  # the active policy, as a server
    times = []
    for _ in range(decisions):
        started = time.perf_counter()
        result = instance.gate.decide(request, actor="ci")
        times.append(time.perf_counter() - started)
        if not result.decision.allowed or result.dry_run:
            raise SystemExit("bench bug: the decision blocked or was not recorded")
    return times


def over_http(
    url: str, token: str, body: dict[str, object], decisions: int, clients: int
) -> tuple[float, list[float]]:
    """Wall seconds for `decisions` decisions sent by `clients` concurrent clients, and each
    request's seconds."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(decisions))

    def client() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                started = time.perf_counter()
                answer = http.post("/api/v1/gate", json=body)
                spent = time.perf_counter() - started
                if answer.status_code != 200 or not answer.json()["allowed"]:
                    raise SystemExit(f"bench bug: {answer.status_code} {answer.text[:300]}")
                with lock:
                    latencies.append(spent)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if len(latencies) != decisions:
        raise SystemExit("bench bug: a client stopped early")
    return wall, latencies


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def cli_wall(command: Sequence[str], env: dict[str, str], runs: int) -> float:
    times = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, check=False)
        spent = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)}: exit {done.returncode}: {done.stderr.decode()}")
        if attempt:  # the first run warms the caches
            times.append(spent)
    return statistics.median(times)


def run_backend(
    backend: str, workdir: Path, postgres_url: str, args: argparse.Namespace
) -> list[Line]:
    home = workdir / f"{backend}-api"
    policy = workdir / "changeproof.yaml"
    policy.write_text(POLICY)
    repo, plan = repository(args.seed, args.commits, args.cache)
    decisions = args.decisions or (QUICK_DECISIONS if args.quick else DECISIONS)
    lines: list[Line] = []
    with fresh_database(backend, postgres_url) as url:
        initialize(home, database_url=url, origin=f"bench.example/api-{backend}", actor="bench",
                   clock=SystemClock())  # fmt: skip
        with open_instance(home) as instance:
            add_people(instance)
            prepared = prepare(instance, repo, plan, workdir / f"evidence-{backend}", policy,
                               args.seed)  # fmt: skip
            token = pipeline_token(instance)
            say(f"{backend}: {args.commits} commits, {prepared.evidence} evidence records")
            limit_times = in_process(instance, prepared, decisions)
        limit_rate = decisions / sum(limit_times)
        single = statistics.median(limit_times)
        say(f"  in-process: {limit_rate:.1f} decisions/s ({single * 1000:.1f} ms each)")
        body = gate_body(prepared)
        context = {"commits": args.commits, "decisions": decisions, "auth": "bearer token"}
        for workers in (1, 2):
            with serving(home, workers) as base:
                over_http(base, token, body, min(decisions, 10), CLIENTS)  # warm-up
                wall, _ = over_http(base, token, body, decisions, CLIENTS)
                rate = decisions / wall
                say(f"  HTTP, {workers} worker(s), {CLIENTS} clients: {rate:.1f} decisions/s")
                lines.append(Line(f"api_gate_decisions_{workers}w", "decisions/s", rate, limit_rate,
                                  rate / limit_rate, TARGETS["throughput"], backend,
                                  {**context, "workers": workers, "clients": CLIENTS,
                                   "limit_is": IN_PROCESS}))  # fmt: skip
                if workers != 1:
                    continue
                _, latencies = over_http(base, token, body, decisions, LATENCY_CLIENTS)
                for name, fraction, queued in (("p50", 0.5, (LATENCY_CLIENTS + 1) / 2),
                                               ("p99", 0.99, LATENCY_CLIENTS)):  # fmt: skip
                    value = percentile(latencies, fraction) * 1000
                    limit = queued * single * 1000
                    say(f"  {LATENCY_CLIENTS} clients: {name} {value:.1f} ms (limit {limit:.1f})")
                    lines.append(Line(f"api_gate_latency_{name}", "ms", value, limit, limit / value,
                                      TARGETS["latency"], backend,
                                      {**context, "workers": 1, "clients": LATENCY_CLIENTS,
                                       "limit_is": f"{queued:g} decisions queued"}))  # fmt: skip
                env = {**os.environ, "CHANGEPROOF_URL": base, "CHANGEPROOF_TOKEN": token}
                env.pop("CHANGEPROOF_HOME", None)
                request = prepared.request
                gate = [*changeproof_command(), "gate", "--release", str(request.release),
                        "--env", request.environment, "--deployer", str(request.deployer),
                        "--artifact", str(request.artifact)]  # fmt: skip
                seconds = cli_wall(gate, env, CLI_RUNS)
                floor = cli_wall([sys.executable, "-c", "import httpx"], env, CLI_RUNS)
                say(f"  changeproof gate as a client: {seconds:.3f} s (import httpx {floor:.3f} s)")
                lines.append(Line("api_cli_gate_wall", "s", seconds, floor, floor / seconds,
                                  TARGETS["cli"], backend,
                                  {**context, "runs": CLI_RUNS,
                                   "limit_is": 'python -c "import httpx"'}))  # fmt: skip
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="API benchmark: JSON lines on stdout.")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_DECISIONS} decisions per figure"
    )
    parser.add_argument("--commits", type=int, default=COMMITS, help=f"default {COMMITS}")
    parser.add_argument("--decisions", type=int, help=f"per figure (default {DECISIONS})")
    add_history_arguments(parser)
    args = parser.parse_args(argv)
    if args.decisions is not None and args.decisions < CLIENTS:
        parser.error(f"--decisions must be at least {CLIENTS}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    backends, postgres_url = chosen_backends(args, default="auto")
    if "postgresql" in backends:
        say(f"PostgreSQL {describe_server(postgres_url)}")
    lines: list[Line] = []

    def run(workdir: Path) -> None:
        for backend in backends:
            lines.extend(run_backend(backend, workdir, postgres_url, args))

    within(args.workdir, run, prefix="changeproof-api-")
    for line in lines:
        line.emit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
