"""A process killed with SIGKILL in the middle of appends loses nothing it committed,
and leaves no part of a batch it had not committed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import Cli, query

KILLS = 20
BATCH_SIZES = ("50", "7", "200")


def _kill_mid_append(home: Path, worker: str, after_commits: int) -> list[tuple[int, int]]:
    """Start an endless appender, SIGKILL it after some commits; return what it said was durable."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.appender", str(home), worker, "0", *BATCH_SIZES],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    committed: list[tuple[int, int]] = []
    for line in process.stdout:
        _, _, batch, size = line.split()
        committed.append((int(batch), int(size)))
        if len(committed) >= after_commits:
            break
    # The next batch is already being built or written when the kill lands.
    os.kill(process.pid, signal.SIGKILL)
    rest, stderr = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, stderr
    for line in rest.splitlines():
        _, _, batch, size = line.split()
        committed.append((int(batch), int(size)))
    return committed


@pytest.mark.slow
def test_sigkill_during_batch_appends_twenty_times(home: Path, cli: Cli) -> None:
    chance = random.Random(20261125)
    promised: dict[str, dict[int, int]] = {}
    for round_number in range(KILLS):
        worker = f"k{round_number}"
        promised[worker] = dict(_kill_mid_append(home, worker, chance.randint(1, 4)))

    stored = Counter(
        (str(service).removeprefix("worker-"), str(version))
        for service, version in query(home, "SELECT service, version FROM artifacts")
    )
    for worker, batches in promised.items():
        for batch, size in batches.items():
            assert stored[(worker, f"{worker}-{batch}")] == size, "a committed batch was lost"
    for (_worker, version), count in stored.items():
        # A batch the process never reported may have committed just before the kill; if it
        # is there, it is there whole. Batch n has the n-th size of the cycle.
        batch = int(version.split("-")[1])
        assert count == int(BATCH_SIZES[batch % len(BATCH_SIZES)]), f"partial batch {version}"
    entries = int(str(query(home, "SELECT COUNT(*) FROM ledger_events")[0][0]))
    assert entries == 1 + sum(stored.values())

    verified = cli("ledger", "verify", "--home", home)
    assert verified.code == 0, verified.err
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0
