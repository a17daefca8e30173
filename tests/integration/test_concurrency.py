"""Several OS processes append at once: the database, not process memory, serializes them."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from changeproof.bootstrap import open_instance
from changeproof.domain.events import ActorId, Event
from changeproof.services.instance import load_signer
from changeproof.store.unit_of_work import StaleSnapshotError, UnitOfWork
from tests.conftest import Cli, instance_url, ints, query
from tests.integration.scenario import ENV, Changes

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


@pytest.fixture
def postgres_home(tmp_path: Path, postgres_url: str, cli: Cli) -> Path:
    where = tmp_path / "instance"
    result = cli("init", "--home", where, "--actor", "tester", "--origin", "test.example/ledger",
                 "--database-url", postgres_url)  # fmt: skip
    assert result.code == 0, result.err
    return where


def _blocked_by(home: Path, holder: int) -> int:
    """How many connections wait for a lock the backend `holder` holds."""
    engine = create_engine(instance_url(home))
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"
    )
    try:
        with engine.connect() as watcher:
            return int(watcher.execute(waiting, {"holder": holder}).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_write_unit_of_work_holds_the_head_lock_from_its_start(postgres_home: Path) -> None:
    """A second write unit of work waits at its start until the first ends, though the first
    has read nothing yet; it then sees the head the first left. (On SQLite, BEGIN IMMEDIATE
    serializes whole write transactions.)"""
    home = postgres_home
    with open_instance(home) as instance:
        signer = load_signer(instance.config)
        seen: list[int] = []

        def second() -> None:
            with UnitOfWork(instance.db, signer, instance.clock) as uow:
                seen.append(uow.head.tree_size)

        with UnitOfWork(instance.db, signer, instance.clock) as first:
            before = first.head.tree_size
            holder = int(first.conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
            waiter = threading.Thread(target=second)
            waiter.start()
            deadline = time.monotonic() + 60
            while _blocked_by(home, holder) < 1:
                assert time.monotonic() < deadline, "the second unit of work never waited"
                assert waiter.is_alive(), "the second unit of work did not wait for the first"
                time.sleep(0.02)
            assert seen == []
            first.record(Event("test.locked", ActorId("tester"), instance.clock.now(), {}))
        waiter.join(timeout=60)
        assert not waiter.is_alive()
    assert seen == [before + 1]


@pytest.mark.postgres
def test_an_optimistic_unit_of_work_holds_no_lock_while_it_reads(postgres_home: Path) -> None:
    """The gate's path: a write unit of work opens and appends while an optimistic one is
    open, which then finds its snapshot stale and records nothing."""
    home = postgres_home
    with open_instance(home) as instance:
        signer = load_signer(instance.config)
        done: list[int] = []

        def writer() -> None:
            with UnitOfWork(instance.db, signer, instance.clock) as uow:
                uow.record(Event("test.locked", ActorId("tester"), instance.clock.now(), {}))
            done.append(uow.recorded[0].seq)

        reading = UnitOfWork(instance.db, signer, instance.clock, optimistic=True)
        before = reading.__enter__().head.tree_size
        thread = threading.Thread(target=writer)
        thread.start()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the write waited for an optimistic reader"
        assert done == [before]
        assert reading.head.tree_size == before  # its snapshot's head
        reading.record(Event("test.locked", ActorId("tester"), instance.clock.now(), {}))
        with pytest.raises(StaleSnapshotError):
            reading.__exit__(None, None, None)
    assert ints(home, "SELECT tree_size FROM ledger_head") == [before + 1]
