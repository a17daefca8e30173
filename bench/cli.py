"""CLI start-up benchmark: what one `changeproof` process costs before and while it works.

    .venv/bin/python bench/cli.py [--quick] [--runs N] [--entries N] [--workdir DIR]

Measures, in one run, the wall time of `changeproof --version`, of `changeproof ledger
status` on a SQLite instance of 1,000 entries, and of the same `ledger status` as a server's
client (`CHANGEPROOF_URL` set: a `changeproof serve` of that instance on a loopback port;
the client loads typer and httpx, never the store) (each the median of 11 runs, one warm-up
run first so the page cache and byte-code cache are warm) beside `python -c "import typer"`
in the same virtual environment, the least any Typer CLI can cost (the limit). A CI job calls
the CLI many times; this is the fee it pays each time. Prints one JSON object per line on
stdout, in bench/ledger.py's form; progress goes to stderr. docs/benchmarks.md explains each line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from api import serving
from changeproof.bootstrap import SystemClock
from changeproof.services.initialize import initialize
from ledger import (
    Bench,
    Line,
    add_store_arguments,
    artifact_events,
    changeproof_command,
    chosen_backends,
    say,
    within,
)

RUNS: Final = 11
QUICK_RUNS: Final = 5
ENTRIES: Final = 1_000
TARGETS: Final = {"version": 0.5, "ledger_status": 0.33, "remote_ledger_status": 0.8}
# The same work as the server's client's `ledger status`, in the least code Typer allows.
FLOOR: Final = """
import os, httpx, typer

def status(output: str = "text") -> None:
    url, token = os.environ["CHANGEPROOF_URL"], os.environ["CHANGEPROOF_TOKEN"]
    with httpx.Client(verify=False) as client:
        answer = client.get(url + "/api/v1/ledger", headers={"Authorization": "Bearer " + token})
    answer.raise_for_status()
    print(answer.json())

typer.run(status)
"""


def wall_time(args: Sequence[str], runs: int, env: dict[str, str] | None = None) -> float:
    """The median wall time of `runs` runs of `args`, after one warm-up; each must succeed."""
    times = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(
            args, capture_output=True, stdin=subprocess.DEVNULL, check=False, env=env
        )
        spent = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} exited {done.returncode}: {done.stderr.decode()}")
        if attempt:
            times.append(spent)
    return statistics.median(times)


def grow_instance(home: Path, entries: int) -> None:
    """A SQLite instance with `entries` entries, appended in batches through the write path."""
    from changeproof.bootstrap import open_instance
    from changeproof.services.instance import load_signer

    initialize(
        home, database_url=None, origin="bench.example/cli", actor="bench", clock=SystemClock()
    )
    with open_instance(home) as instance:
        bench = Bench("sqlite", instance, load_signer(instance.config))
        number = 0
        while (size := bench.size()) < entries:
            count = min(250, entries - size)
            with bench.unit_of_work() as uow:
                for event in artifact_events(number, count):
                    uow.record(event)
            number += count


def read_token(home: Path) -> str:
    """A read-only token of an auditor, made through the services."""
    from changeproof.bootstrap import open_instance

    with open_instance(home) as instance:
        instance.actors.add("bench-auditor", roles=["auditor"], by="bench")
        return instance.tokens.create("bench-auditor", by="bench-auditor").text


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="CLI start-up benchmark: JSON lines on stdout, progress on stderr."
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs per figure")
    parser.add_argument("--runs", type=int, help=f"runs per figure (default {RUNS})")
    parser.add_argument(
        "--entries", type=int, default=ENTRIES, help=f"ledger size (default {ENTRIES:,})"
    )
    # The figures are defined on the embedded default; the flags are taken so that
    # `make bench BENCH_ARGS=...` passes every benchmark the same ones.
    add_store_arguments(parser, backend_help="measures SQLite; postgresql alone skips this")
    args = parser.parse_args(argv)
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def measure(workdir: Path, runs: int, entries: int) -> list[Line]:
    home = workdir / "instance"
    say(f"growing a SQLite instance to {entries:,} entries")
    grow_instance(home, entries)
    command = changeproof_command()
    say(f"timing, median of {runs} runs each")
    limit = wall_time([sys.executable, "-c", "import typer"], runs)
    figures = {
        "version": wall_time([*command, "--version"], runs),
        "ledger_status": wall_time([*command, "ledger", "status", "--home", str(home)], runs),
    }
    token = read_token(home)
    floor = workdir / "floor.py"
    floor.write_text(FLOOR, encoding="utf-8")
    with serving(home, workers=1) as url:
        client = {**os.environ, "CHANGEPROOF_URL": url, "CHANGEPROOF_TOKEN": token}
        client.pop("CHANGEPROOF_HOME", None)
        remote = wall_time([*command, "ledger", "status"], runs, client)
        same_work = wall_time([sys.executable, str(floor), "--output", "text"], runs, client)
    context = {"runs": runs, "limit_is": 'python -c "import typer"'}
    lines = []
    for name, seconds in figures.items():
        lines.append(
            Line(
                f"cli_{name}_wall",
                "s",
                seconds,
                limit,
                limit / seconds,
                TARGETS[name],
                "sqlite",
                {**context, **({"entries": entries} if "ledger_status" in name else {})},
            )
        )
    # Typer (0.29) builds each option's converter with pydantic when a command runs, which
    # `import typer` does not load: the least a Typer command making the same request costs
    # is this one-command app, the limit of the same work.
    lines.append(
        Line(
            "cli_remote_ledger_status_wall",
            "s",
            remote,
            same_work,
            same_work / remote,
            TARGETS["remote_ledger_status"],
            "sqlite",
            {
                "runs": runs,
                "entries": entries,
                "limit_is": "a one-command Typer app making the same GET with httpx",
                "ratio_to_import_typer": round(limit / remote, 3),
            },
        )
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    backends, _ = chosen_backends(args, default="sqlite")
    if "sqlite" not in backends:
        say("cli: measures the SQLite default only; nothing to do for --backend postgresql")
        return 0
    runs = args.runs or (QUICK_RUNS if args.quick else RUNS)
    lines: list[Line] = []
    within(
        args.workdir,
        lambda workdir: lines.extend(measure(workdir, runs, args.entries)),
        prefix="changeproof-cli-",
    )
    for line in lines:
        line.emit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
