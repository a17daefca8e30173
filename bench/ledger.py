"""Ledger benchmark: appends, verification, proofs and verification memory, beside their limits.

    .venv/bin/python bench/ledger.py [--quick] [--backend sqlite|postgresql|all]
                                     [--postgres-url URL] [--workdir DIR]

Prints one JSON object per line on stdout (progress goes to stderr):
``name, unit, value, limit, ratio, target, backend`` plus context fields. Every figure is
measured beside its physical limit in the same run, on a fresh instance made by
`changeproof.services.instance.initialize`; PostgreSQL instances live in a fresh schema
that is dropped at the end. docs/benchmarks.md explains each line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Final

from sqlalchemy import MetaData, Table, create_engine, text
from sqlalchemy.engine import make_url

from changeproof.bootstrap import Instance, SystemClock, open_instance
from changeproof.domain.artifacts import Artifact, ArtifactRecorded, Sha256
from changeproof.domain.events import EncodedEvent, Event, format_time
from changeproof.ledger import Checkpoint, NoteSigner, inclusion_proof, leaf_hash, root_hash
from changeproof.ledger.merkle import Subtree
from changeproof.services.initialize import initialize
from changeproof.services.instance import load_signer
from changeproof.store import ledger as stored
from changeproof.store.database import Database, normalize_url
from changeproof.store.driver import batch
from changeproof.store.schema import ledger_events
from changeproof.store.unit_of_work import UnitOfWork

DEFAULT_POSTGRES_URL: Final = "postgresql://postgres@127.0.0.1:5432/test"
RAW_TABLE: Final = "bench_raw_events"
RSS_BUDGET_MB: Final = 300.0
PAGE: Final = 10_000  # the page SqlLogSource reads verification in
SEED: Final = 20261125
_BASE_TIME: Final = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

Row = tuple[int, bytes, bytes, str]
"""(seq, leaf_hash, body, event_type): one ledger_events row exactly as stored."""


@dataclass(frozen=True, slots=True)
class Sizes:
    batched_events: int  # appended through the unit of work (and again through append() alone)
    batch: int  # events per unit of work in the batched phase
    single_events: int  # one event per transaction
    big: int  # the large tree the proof and memory figures use
    big_batch: int  # events per unit of work while building the large tree
    small: int  # the small tree size the proof time is compared with
    proofs: int  # random seqs proved at each tree size
    verify_runs: int  # verification passes (median)


FULL: Final = Sizes(
    batched_events=50_000,
    batch=1_000,
    single_events=2_000,
    big=1_000_000,
    big_batch=10_000,
    small=1_000,
    proofs=101,
    verify_runs=3,
)
QUICK: Final = Sizes(
    batched_events=5_000,
    batch=1_000,
    single_events=200,
    big=20_000,
    big_batch=10_000,
    small=1_000,
    proofs=51,
    verify_runs=3,
)


@dataclass(frozen=True, slots=True)
class Line:
    """One benchmark figure beside its limit; `ratio` is oriented so higher is better."""

    name: str
    unit: str
    value: float
    limit: float
    ratio: float
    target: float
    backend: str
    context: Mapping[str, object] = field(default_factory=dict)

    def emit(self) -> None:
        doc: dict[str, object] = {
            "name": self.name,
            "unit": self.unit,
            "value": _round(self.value),
            "limit": _round(self.limit),
            "ratio": round(self.ratio, 3),
            "target": round(self.target, 3),
            "backend": self.backend,
        }
        doc.update(self.context)
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.stdout.flush()


def _round(number: float) -> float:
    """Four significant digits: enough for a benchmark, short enough to read."""
    return float(f"{number:.4g}")


def rate_line(
    name: str,
    backend: str,
    count: int,
    spent: float,
    limit_spent: float,
    target: float,
    *,
    unit: str = "events/s",
    context: Mapping[str, object],
) -> Line:
    """`count` items in `spent` seconds beside the same items in `limit_spent` seconds."""
    value, limit = count / spent, count / limit_spent
    return Line(name, unit, value, limit, value / limit, target, backend, context)


def say(message: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


class Stopwatch:
    """Seconds spent inside `with watch:` blocks, summed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds += time.perf_counter() - self._start


# -- instances --------------------------------------------------------------------------------


@contextmanager
def fresh_database(backend: str, postgres_url: str) -> Iterator[str | None]:
    """None for SQLite (the instance's own file); for PostgreSQL a URL into a new schema."""
    if backend == "sqlite":
        yield None
        return
    schema = f"cp_bench_{secrets.token_hex(6)}"
    admin = create_engine(normalize_url(postgres_url))
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            say(f"dropped schema {schema}")
    finally:
        admin.dispose()


@dataclass
class Bench:
    """An opened fresh instance and the one write path into it."""

    backend: str
    instance: Instance
    signer: NoteSigner

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.instance.db, self.signer, self.instance.clock)

    @property
    def db(self) -> Database:
        return self.instance.db

    @property
    def home(self) -> Path:
        return self.instance.config.home

    def size(self) -> int:
        return self.instance.ledger.size()


@contextmanager
def fresh_instance(backend: str, workdir: Path, label: str, postgres_url: str) -> Iterator[Bench]:
    home = workdir / f"{backend}-{label}"
    with fresh_database(backend, postgres_url) as url:
        initialize(
            home,
            database_url=url,
            origin=f"bench.example/{label}",
            actor="bench",
            clock=SystemClock(),
        )
        instance = open_instance(home)
        try:
            yield Bench(backend, instance, load_signer(instance.config))
        finally:
            instance.close()


# -- events and rows --------------------------------------------------------------------------


def artifact_events(start: int, count: int) -> list[Event]:
    """`artifact.recorded` events shaped like the attest service's, numbered from `start`."""
    events = []
    for n in range(start, start + count):
        digest = Sha256(hashlib.sha256(n.to_bytes(8, "big")).hexdigest())
        artifact = Artifact(
            "payments", f"1.{n // 1000}.{n % 1000}", f"payments-{n}.tar.gz", 1_048_576 + n, digest
        )
        events.append(
            Event.of(
                ArtifactRecorded.of(artifact),
                "ci/payments-pipeline",
                _BASE_TIME + timedelta(milliseconds=n),
            )
        )
    return events


def rows_of(encoded: Sequence[EncodedEvent], first: int) -> list[Row]:
    """The rows the ledger will store for `encoded` appended at seq `first`."""
    rows = []
    for offset, event in enumerate(encoded):
        body = event.body(first + offset)
        rows.append((first + offset, leaf_hash(body), body, event.event_type))
    return rows


def _marker(db: Database) -> str:
    return "?" if db.dialect == "sqlite" else "%s"


def create_raw_table(db: Database) -> None:
    """A table with ledger_events' exact columns and key, but no ledger around it."""
    raw = ledger_events.to_metadata(MetaData(), name=RAW_TABLE)
    assert isinstance(raw, Table)
    with db.write() as conn:
        raw.create(conn)


def insert_raw(db: Database, rows: Sequence[Row]) -> None:
    """The limit: the driver's executemany of finished rows, in one transaction, nothing else."""
    m = _marker(db)
    sql = f"INSERT INTO {RAW_TABLE} (seq, leaf_hash, body, event_type) VALUES ({m}, {m}, {m}, {m})"
    with db.write() as conn:
        cursor = conn.connection.cursor()
        try:
            if len(rows) == 1:
                cursor.execute(sql, rows[0])
            else:
                cursor.executemany(sql, rows)
        finally:
            cursor.close()


def check_same_rows(db: Database, expected: int) -> None:
    """The ledger and the raw table hold byte-identical rows for every raw seq."""
    with db.read() as conn:
        same = conn.exec_driver_sql(
            f"SELECT count(*) FROM ledger_events e JOIN {RAW_TABLE} r ON r.seq = e.seq "
            "AND r.leaf_hash = e.leaf_hash AND r.body = e.body AND r.event_type = e.event_type"
        ).scalar_one()
    if same != expected:
        raise SystemExit(f"bench bug: {same} of {expected} raw rows equal their ledger rows")


# -- 1. batched appends -----------------------------------------------------------------------


def bench_append_batched(bench: Bench, sizes: Sizes) -> list[Line]:
    """Rounds of: append() alone, a unit of work, then raw inserts of both batches' rows."""
    create_raw_table(bench.db)
    uow_watch, ledger_watch, raw_uow_watch, raw_ledger_watch = (Stopwatch() for _ in range(4))
    seq = bench.size()
    number = 0
    batches = sizes.batched_events // sizes.batch
    started = time.perf_counter()
    for round_number in range(batches):
        # append() alone, on events encoded beforehand.
        encoded = [e.encode() for e in artifact_events(number, sizes.batch)]
        number += sizes.batch
        ledger_rows = rows_of(encoded, seq)
        appended, seconds = append_only(bench, encoded)
        ledger_watch.seconds += seconds
        assert appended.first_seq == seq
        seq += sizes.batch

        # The one write path: record() (which encodes), append, project, sign a checkpoint.
        events = artifact_events(number, sizes.batch)
        number += sizes.batch
        uow_rows = rows_of([e.encode() for e in events], seq)
        with uow_watch, bench.unit_of_work() as uow:
            for event in events:
                uow.record(event)
        assert uow.recorded[0].seq == seq
        seq += sizes.batch

        with raw_ledger_watch:
            insert_raw(bench.db, ledger_rows)
        with raw_uow_watch:
            insert_raw(bench.db, uow_rows)
        if (round_number + 1) % max(1, batches // 5) == 0:
            say(f"  batched: {round_number + 1}/{batches} rounds")
    check_same_rows(bench.db, 2 * batches * sizes.batch)
    count = batches * sizes.batch
    wall = time.perf_counter() - started
    say(f"  batched phase took {wall:.1f}s")
    context: dict[str, object] = {"entries": count, "batch": sizes.batch}
    return [
        rate_line(
            "append_batched",
            bench.backend,
            count,
            uow_watch.seconds,
            raw_uow_watch.seconds,
            0.5,
            context={**context, "seconds": round(uow_watch.seconds, 2)},
        ),
        rate_line(
            "append_batched_ledger_only",
            bench.backend,
            count,
            ledger_watch.seconds,
            raw_ledger_watch.seconds,
            0.5,
            context={**context, "seconds": round(ledger_watch.seconds, 2)},
        ),
    ]


def append_only(bench: Bench, encoded: Sequence[EncodedEvent]) -> tuple[stored.Appended, float]:
    """One transaction around store.ledger's append; seconds spent, less signing.

    The ledger's rows are written with the checkpoint that covers them (finish_append), so
    the checkpoint the unit of work would sign is signed here too, but left out of the time:
    signing is the unit of work's share, not the ledger's.
    """
    started = time.perf_counter()
    with bench.db.write() as conn:
        appended = stored.begin_append(conn, encoded)
        paused = time.perf_counter()
        head = appended.head
        note = bench.signer.sign(Checkpoint(bench.signer.name, head.tree_size, head.root_hash))
        resumed = time.perf_counter()
        with batch(conn):
            stored.finish_append(conn, appended, note, format_time(bench.instance.clock.now()))
    return appended, time.perf_counter() - started - (resumed - paused)


# -- 2. one event per transaction -------------------------------------------------------------


def bench_append_single(bench: Bench, sizes: Sizes, first_number: int) -> Line:
    before = bench.size()
    raw_before = _count_raw(bench.db)
    uow_watch, raw_watch = Stopwatch(), Stopwatch()
    seq = before
    started = time.perf_counter()
    for number in range(first_number, first_number + sizes.single_events):
        (event,) = artifact_events(number, 1)
        rows = rows_of([event.encode()], seq)
        with uow_watch, bench.unit_of_work() as uow:
            uow.record(event)
        assert uow.recorded[0].seq == seq
        seq += 1
        with raw_watch:
            insert_raw(bench.db, rows)
    check_same_rows(bench.db, raw_before + sizes.single_events)
    say(f"  single phase took {time.perf_counter() - started:.1f}s")
    return rate_line(
        "append_single",
        bench.backend,
        sizes.single_events,
        uow_watch.seconds,
        raw_watch.seconds,
        0.5,
        context={
            "entries": sizes.single_events,
            "batch": 1,
            "seconds": round(uow_watch.seconds, 2),
        },
    )


def _count_raw(db: Database) -> int:
    with db.read() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {RAW_TABLE}").scalar_one())


# -- 3. verification --------------------------------------------------------------------------


def read_and_hash(db: Database, page: int = PAGE) -> int:
    """The limit: the same columns in the same keyset pages, and sha256(0x00 || body) of each."""
    m = _marker(db)
    sql = f"SELECT seq, leaf_hash, body FROM ledger_events WHERE seq >= {m} ORDER BY seq LIMIT {m}"
    sha = hashlib.sha256
    count, at = 0, 0
    with db.read() as conn:
        cursor = conn.connection.cursor()
        try:
            while True:
                cursor.execute(sql, (at, page))
                rows = cursor.fetchall()
                if not rows:
                    return count
                for _, _, body in rows:
                    sha(b"\x00" + body).digest()
                count += len(rows)
                at = int(rows[-1][0]) + 1
        finally:
            cursor.close()


def bench_verify(bench: Bench, sizes: Sizes) -> Line:
    entries = bench.size()
    verify_times, limit_times = [], []
    checkpoints = 0
    started = time.perf_counter()
    for _ in range(sizes.verify_runs):
        with Stopwatch() as watch:
            report = bench.instance.ledger.verify()
        if not report.ok or report.entries != entries:
            raise SystemExit(f"bench bug: verification failed: {report.findings}")
        checkpoints = report.checkpoints_checked
        verify_times.append(watch.seconds)
        with Stopwatch() as watch:
            read = read_and_hash(bench.db)
        assert read == entries
        limit_times.append(watch.seconds)
    say(f"  verify phase took {time.perf_counter() - started:.1f}s")
    return rate_line(
        "verify",
        bench.backend,
        entries,
        statistics.median(verify_times),
        statistics.median(limit_times),
        0.5,
        unit="entries/s",
        context={"entries": entries, "checkpoints": checkpoints, "runs": sizes.verify_runs},
    )


# -- 4. proofs --------------------------------------------------------------------------------


class RecordingSource:
    """A HashSource that notes which stored hashes a computation asked for."""

    def __init__(self, inner: stored.SqlHashSource) -> None:
        self._inner = inner
        self.keys: set[Subtree] = set()

    def stored_hashes(self, keys: Collection[Subtree]) -> Mapping[Subtree, bytes]:
        self.keys.update(keys)
        return self._inner.stored_hashes(keys)


def proof_rows(db: Database, seq: int, size: int) -> set[Subtree]:
    """Every stored hash LedgerService.prove reads: the signed root's and the proof's."""
    with db.read() as conn:
        recorder = RecordingSource(stored.SqlHashSource(conn))
        root_hash(recorder, size)
        inclusion_proof(recorder, seq, size)
    return recorder.keys


def bare_proof_read(db: Database, seq: int, keys: Collection[Subtree]) -> None:
    """The limit: one read transaction fetching the newest checkpoint, the entry and the stored
    hashes a proof needs (one query per table, no hashing, no signature check)."""
    m = _marker(db)
    leaves = sorted({index for height, index in keys if height == 0} | {seq})
    inner = sorted((height, index) for height, index in keys if height != 0)
    with db.read() as conn:
        cursor = conn.connection.cursor()
        try:
            cursor.execute("SELECT note FROM ledger_checkpoints ORDER BY tree_size DESC LIMIT 1")
            cursor.fetchall()
            marks = ", ".join([m] * len(leaves))
            cursor.execute(
                f"SELECT seq, leaf_hash, body FROM ledger_events WHERE seq IN ({marks})", leaves
            )
            cursor.fetchall()
            if inner:
                pairs = " OR ".join([f"(height = {m} AND idx = {m})"] * len(inner))
                cursor.execute(
                    f"SELECT height, idx, hash FROM ledger_subtrees WHERE {pairs}",
                    [number for pair in inner for number in pair],
                )
                cursor.fetchall()
        finally:
            cursor.close()


@dataclass(frozen=True, slots=True)
class ProofTimes:
    size: int
    prove: float  # median seconds of LedgerService.prove
    bare: float  # median seconds of the bare read
    merkle: float  # median seconds of merkle.inclusion_proof over SqlHashSource alone
    stored_hashes: int  # median number of stored hashes a proof reads
    proofs: int  # how many random entries were proved

    def __str__(self) -> str:
        return (
            f"proof at tree size {self.size:,}: {self.prove * 1000:.2f} ms "
            f"(bare read {self.bare * 1000:.2f} ms, merkle only {self.merkle * 1000:.2f} ms)"
        )


def measure_proofs(bench: Bench, sizes: Sizes) -> ProofTimes:
    size = bench.size()
    rng = random.Random(SEED + size)  # noqa: S311 - reproducible choice of entries, not secrets
    seqs = rng.sample(range(size), sizes.proofs)
    ledger = bench.instance.ledger
    for seq in seqs[:5]:  # warm the statement caches
        ledger.prove(seq)
    prove, bare, merkle, counts = [], [], [], []
    for seq in seqs:
        keys = proof_rows(bench.db, seq, size)
        counts.append(len(keys))
        with Stopwatch() as watch:
            proof = ledger.prove(seq)
        assert proof.tree_size == size
        prove.append(watch.seconds)
        with Stopwatch() as watch:
            bare_proof_read(bench.db, seq, keys)
        bare.append(watch.seconds)
        with bench.db.read() as conn:
            source = stored.SqlHashSource(conn)
            with Stopwatch() as watch:
                inclusion_proof(source, seq, size)
            merkle.append(watch.seconds)
    return ProofTimes(
        size,
        statistics.median(prove),
        statistics.median(bare),
        statistics.median(merkle),
        int(statistics.median(counts)),
        len(seqs),
    )


def grow(bench: Bench, target: int, batch: int, first_number: int) -> tuple[int, float]:
    """Append through the unit of work until the tree holds `target` entries; (events, seconds)."""
    size = bench.size()
    start_size, number = size, first_number
    report_every = max(batch, (target - size) // 10)
    next_report = size + report_every
    started = time.perf_counter()
    with Stopwatch() as watch:
        while size < target:
            count = min(batch, target - size)
            with bench.unit_of_work() as uow:
                for event in artifact_events(number, count):
                    uow.record(event)
            number += count
            size += count
            if size >= next_report:
                rate = (size - start_size) / (time.perf_counter() - started)
                say(f"  grown to {size:,} entries ({rate:,.0f} events/s)")
                next_report += report_every
    return size - start_size, watch.seconds


def proof_lines(
    small: ProofTimes, big: ProofTimes, backend: str, build: Mapping[str, object]
) -> list[Line]:
    return [
        Line(
            f"proof_time_{_size_label(small.size)}",
            "s",
            small.prove,
            small.bare,
            small.bare / small.prove,
            0.5,
            backend,
            {
                "tree_size": small.size,
                "proofs": small.proofs,
                "limit_is": "bare read of the same rows",
                "merkle_only_s": _round(small.merkle),
                "stored_hashes": small.stored_hashes,
            },
        ),
        Line(
            f"proof_time_{_size_label(big.size)}",
            "s",
            big.prove,
            small.prove,
            small.prove / big.prove,
            1 / 3,
            backend,
            {
                "tree_size": big.size,
                "proofs": big.proofs,
                "limit_is": f"proof time at tree size {small.size}",
                "bare_read_s": _round(big.bare),
                "merkle_only_s": _round(big.merkle),
                "stored_hashes": big.stored_hashes,
                **build,
            },
        ),
    ]


def _size_label(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    if size % 1_000 == 0:
        return f"{size // 1_000}k"
    return str(size)


# -- 5. verification memory -------------------------------------------------------------------


def changeproof_command() -> list[str]:
    script = Path(sys.executable).with_name("changeproof")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from changeproof.cli.main import main; main()"]


@dataclass(frozen=True, slots=True)
class ChildRun:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_rss_mb: float


def run_child(args: Sequence[str], workdir: Path) -> ChildRun:
    """Run a command and read its own peak RSS from wait4 (not every child's, as getrusage)."""
    out_path, err_path = workdir / "child.out", workdir / "child.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(args, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(
        process.returncode,
        out_path.read_text(encoding="utf-8"),
        err_path.read_text(encoding="utf-8"),
        seconds,
        usage.ru_maxrss / 1024,  # Linux reports KiB
    )


def bench_verify_rss(bench: Bench, workdir: Path) -> Line:
    entries = bench.size()
    command = changeproof_command()
    home = str(bench.home)
    baseline = run_child(
        [*command, "ledger", "status", "--home", home, "--output", "json"], workdir
    )
    if baseline.code != 0:
        raise SystemExit(f"`changeproof ledger status` failed: {baseline.stderr}")
    child = run_child([*command, "ledger", "verify", "--home", home, "--output", "json"], workdir)
    if child.code != 0:
        raise SystemExit(f"`changeproof ledger verify` exited {child.code}: {child.stderr}")
    report = json.loads(child.stdout)
    if not report["ok"] or report["entries"] != entries:
        raise SystemExit(f"bench bug: CLI verification did not pass: {child.stdout}")
    say(f"  CLI verify of {entries:,} entries: {child.seconds:.1f}s, {child.peak_rss_mb:.0f} MB")
    return Line(
        f"verify_{_size_label(entries)}_peak_rss",
        "MB",
        child.peak_rss_mb,
        RSS_BUDGET_MB,
        RSS_BUDGET_MB / child.peak_rss_mb,
        1.0,
        bench.backend,
        {
            "entries": entries,
            "limit_is": "memory budget",
            "startup_mb": round(baseline.peak_rss_mb, 1),
            "seconds": round(child.seconds, 2),
            "entries_per_s": _round(entries / child.seconds),
        },
    )


# -- the run ----------------------------------------------------------------------------------


def run_backend(backend: str, sizes: Sizes, workdir: Path, postgres_url: str) -> None:
    say(f"{backend}: fresh instance for appends and verification")
    with fresh_instance(backend, workdir, "appends", postgres_url) as bench:
        say(f"{backend}: append_batched ({sizes.batched_events:,} events, {sizes.batch:,} a batch)")
        for line in bench_append_batched(bench, sizes):
            line.emit()
        say(f"{backend}: verify ({bench.size():,} entries)")
        bench_verify(bench, sizes).emit()
        say(f"{backend}: append_single ({sizes.single_events:,} transactions)")
        bench_append_single(bench, sizes, first_number=2 * sizes.batched_events).emit()

    say(f"{backend}: fresh instance for proofs at {sizes.small:,} and {sizes.big:,} entries")
    with fresh_instance(backend, workdir, "proofs", postgres_url) as bench:
        added, _ = grow(bench, sizes.small, sizes.big_batch, first_number=0)
        small = measure_proofs(bench, sizes)
        say(f"  {small}")
        say(f"{backend}: growing to {sizes.big:,} entries in batches of {sizes.big_batch:,}")
        grown, seconds = grow(bench, sizes.big, sizes.big_batch, first_number=added)
        say(f"  built in {seconds:.1f}s ({grown / seconds:,.0f} events/s)")
        big = measure_proofs(bench, sizes)
        say(f"  {big}")
        build = {"build_seconds": round(seconds, 1), "build_events_per_s": _round(grown / seconds)}
        for line in proof_lines(small, big, backend, build):
            line.emit()
        say(f"{backend}: `changeproof ledger verify` in a subprocess")
        bench_verify_rss(bench, workdir).emit()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Ledger benchmark: JSON lines on stdout, progress on stderr."
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    add_store_arguments(parser, backend_help="default: all")
    return parser.parse_args(argv)


def add_store_arguments(parser: argparse.ArgumentParser, *, backend_help: str) -> None:
    """The flags every benchmark takes for where it measures: --backend, --postgres-url,
    --workdir (docs/benchmarks.md, "Running them")."""
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], help=backend_help)
    parser.add_argument(
        "--postgres-url",
        help="server for the PostgreSQL lines; a fresh schema is made and dropped (with "
        "--backend postgresql|all and no URL: $CHANGEPROOF_TEST_POSTGRES_URL, else "
        f"{DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--workdir", type=Path, help="where instances go (default: a temporary folder, removed)"
    )


def chosen_backends(args: argparse.Namespace, *, default: str) -> tuple[list[str], str]:
    """The backends to measure and the PostgreSQL URL. Without --backend: `default`, or
    "sqlite" and PostgreSQL too when --postgres-url is given and `default` is "auto"."""
    chosen = args.backend or default
    if chosen == "auto":
        chosen = "all" if args.postgres_url else "sqlite"
    backends = ["sqlite", "postgresql"] if chosen == "all" else [chosen]
    url = args.postgres_url or os.environ.get("CHANGEPROOF_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    return backends, url


def within(parent: Path | None, run: Callable[[Path], None], *, prefix: str) -> None:
    """Run in a new folder under `parent`, kept; or in a temporary one, removed."""
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
        run(Path(tempfile.mkdtemp(dir=parent)))
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as temporary:
        run(Path(temporary))


def describe_server(postgres_url: str) -> str:
    """The PostgreSQL server's version; SystemExit(2) when it does not answer."""
    engine = create_engine(normalize_url(postgres_url))
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SHOW server_version").scalar_one())
    except Exception as e:  # any failure to connect means: no server to measure
        display = make_url(postgres_url).render_as_string(hide_password=True)
        say(f"no PostgreSQL at {display} ({e.__class__.__name__}); use --postgres-url or --backend")
        raise SystemExit(2) from e
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    backends, postgres_url = chosen_backends(args, default="all")
    say(f"{'quick' if args.quick else 'full'} run: {sizes}")
    say(f"SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if "postgresql" in backends:
        say(f"PostgreSQL {describe_server(postgres_url)}")
    started = time.perf_counter()
    for backend in backends:
        phase = time.perf_counter()
        within(
            args.workdir,
            partial(run_backend, backend, sizes, postgres_url=postgres_url),
            prefix="changeproof-bench-",
        )
        say(f"{backend}: done in {time.perf_counter() - phase:.0f}s")
    say(f"all done in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
