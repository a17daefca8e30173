"""Several OS processes append at once: the database, not process memory, serializes them."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import Cli, ints, query
from tests.integration.test_changes import ENV, Changes

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


@pytest.mark.slow
def test_eight_processes_attesting_gating_and_approving_at_once_never_fail(
    home: Path, tmp_path: Path, cli: Cli
) -> None:
    """SQLite refuses an optimistic (read-then-write) transaction's write at once while
    another writer holds the lock: the gate must take that as "decide again", not fail."""
    changes = Changes(home, tmp_path, cli)
    release, digest = changes.ready("1.0")
    other, _ = changes.ready("2.0")
    change = changes.open(release)
    decided = ints(home, "SELECT count(*) FROM decisions")[0]
    changeproof = str(Path(sys.executable).parent / "changeproof")
    at = ["--home", str(home)]
    gate = ["gate", "--release", release, "--env", ENV, "--policy", str(changes.policy),
            "--deployer", "pat", "--artifact", digest, *at, "-o", "json"]  # fmt: skip
    builds = []
    for n in range(2):
        build = tmp_path / f"build-{n}.tar"
        build.write_bytes(f"build {n}\n".encode())
        builds.append(build)
    # Gates first: each is an optimistic transaction, the kind SQLite refused outright.
    commands = [
        gate,
        gate,
        gate,
        gate,
        gate,
        ["attest", "artifact", str(builds[0]), "--release", other, *at],
        ["attest", "artifact", str(builds[1]), "--release", other, *at],
        ["change", "approve", change, "--as", "alan", *at],
    ]
    workers = [
        subprocess.Popen(
            [changeproof, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for args in commands
    ]
    codes = []
    for worker in workers:
        _, stderr = worker.communicate(timeout=600)
        codes.append((worker.returncode, stderr))
    for code, stderr in codes:
        assert code != 70, stderr
        assert "database is locked" not in stderr
    assert all(code in (0, 1) for code, _ in codes[:5]), codes  # a verdict, allowed or not
    assert all(code == 0 for code, _ in codes[5:]), codes
    assert ints(home, "SELECT count(*) FROM decisions") == [decided + 5]
    verified = cli("ledger", "verify", "--home", home)
    assert verified.code == 0, verified.err
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0
