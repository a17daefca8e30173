"""Several OS processes append at once: the database, not process memory, serializes them."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import Cli, ints, query

WORKERS = 4
EVENTS_PER_WORKER = 1_000
# One-event transactions and batches interleave, so both append paths contend for the lock.
SIZES = ("1", "5", "20", "14")


def _batches_for(events: int) -> int:
    cycle = [int(s) for s in SIZES]
    assert events % sum(cycle) == 0
    return events // sum(cycle) * len(cycle)


@pytest.mark.slow
def test_four_processes_appending_at_once_leave_a_gapless_verified_ledger(
    home: Path, cli: Cli
) -> None:
    before = ints(home, "SELECT tree_size FROM ledger_head")[0]
    batches = _batches_for(EVENTS_PER_WORKER)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.appender",
                str(home),
                f"w{n}",
                str(batches),
                *SIZES,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WORKERS)
    ]
    for worker in workers:
        _, stderr = worker.communicate(timeout=600)
        assert worker.returncode == 0, stderr

    seqs = ints(home, "SELECT seq FROM ledger_events ORDER BY seq")
    assert len(seqs) == before + WORKERS * EVENTS_PER_WORKER
    assert seqs == list(range(len(seqs))), "seqs must be contiguous from 0, with no duplicate"
    per_worker = Counter(str(row[0]) for row in query(home, "SELECT service FROM artifacts"))
    assert per_worker == {f"worker-w{n}": EVENTS_PER_WORKER for n in range(WORKERS)}

    verified = cli("ledger", "verify", "--home", home)
    assert verified.code == 0, verified.err
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0
