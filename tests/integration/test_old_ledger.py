"""A ledger written by an older changeproof still verifies, rebuilds and replays identically.

tests/fixtures/ledger-v1 is an instance made by tools/ledger_fixture.py with the code of the
commit its docstring names, and the golden dumps that code produced from it: the online and
offline verification reports, the audit report, the projection tables after a rebuild and
every ledger entry. Today's code opens a copy (migrating it first, as a user would) and must
agree with every one of them. The fixture is never regenerated: it is the old format's
witness. The golden dumps' format is defined here, where they are compared.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest
from sqlalchemy import Connection, Engine, create_engine, select

from changeproof.bootstrap import open_instance
from changeproof.cli.main import run
from changeproof.domain.canonical import JsonValue, canonical_json
from changeproof.domain.errors import InputError, NotFoundError
from changeproof.domain.events import Event, decode_body
from changeproof.domain.payloads import event_types
from changeproof.store.database import normalize_url
from changeproof.store.projections import apply
from changeproof.store.schema import PROJECTION_TABLES, ledger_events, metadata
from changeproof.verify.__main__ import main as verify_offline
from tests.conftest import Cli

FIXTURE: Final = Path(__file__).resolve().parent.parent / "fixtures" / "ledger-v1"
KEY_FILE: Final = "TEST-ONLY-signing-key.pem"  # signs nothing anyone trusts

# Every event type the fixture's code defined; the fixture holds at least one entry of each,
# so a type whose old bodies stop decoding, verifying or replaying is caught.
ALL_EVENT_TYPES: Final = (
    "actor.added",
    "actor.alias.added",
    "actor.group.granted",
    "actor.group.revoked",
    "actor.role.granted",
    "actor.role.revoked",
    "artifact.recorded",
    "change.approved",
    "change.exported",
    "change.opened",
    "change.refreshed",
    "change.rejected",
    "change.reviewed",
    "commit.recorded",
    "deployment.checked",
    "deployment.recorded",
    "deployment.updated",
    "evidence.recorded",
    "gate.decided",
    "instance.initialized",
    "policy.activated",
    "policy.governance.set",
    "policy.proposed",
    "policy.recorded",
    "policy.rejected",
    "release.created",
    "token.created",
    "token.revoked",
)

Rows = dict[str, list[dict[str, JsonValue]]]


def _plain(value: object) -> JsonValue:
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, str | int | bool):
        return value
    raise TypeError(f"a projection column holds a {type(value).__name__}: {value!r}")


def dump_projections(conn: Connection) -> Rows:
    """Every projection table's rows, in primary-key order, as JSON values."""
    return {
        table.name: [
            {column: _plain(value) for column, value in row._mapping.items()}
            for row in conn.execute(select(table).order_by(*table.primary_key.columns))
        ]
        for table in PROJECTION_TABLES
    }


def dump_entries(conn: Connection) -> list[dict[str, JsonValue]]:
    """Every ledger entry: its seq, type, leaf hash and body (UTF-8 text)."""
    e = ledger_events.c
    return [
        {"seq": seq, "type": kind, "leaf_hash": bytes(leaf).hex(), "body": bytes(body).decode()}
        for seq, kind, leaf, body in conn.execute(
            select(e.seq, e.event_type, e.leaf_hash, e.body).order_by(e.seq)
        )
    ]


def _golden(name: str) -> JsonValue:
    value: JsonValue = json.loads((FIXTURE / "golden" / name).read_text(encoding="utf-8"))
    return value


def _copy(where: Path) -> Path:
    """A copy of the fixture's instance, migrated to today's schema."""
    home = where / "instance"
    shutil.copytree(FIXTURE / "instance", home)
    with contextlib.redirect_stdout(io.StringIO()):
        code = run(["init", "--upgrade", "--home", str(home)])
    assert code == 0
    return home


@contextlib.contextmanager
def _database(home: Path) -> Iterator[Connection]:
    engine = create_engine(normalize_url("sqlite:///changeproof.db", base=home))
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy for the tests that only read it."""
    return _copy(tmp_path_factory.mktemp("old-ledger"))


@pytest.fixture(scope="module")
def entries() -> list[dict[str, JsonValue]]:
    golden = _golden("entries.json")
    assert isinstance(golden, list)
    return [e for e in golden if isinstance(e, dict)]


def _bodies(entries: list[dict[str, JsonValue]]) -> list[tuple[int, bytes]]:
    return [(int(str(e["seq"])), str(e["body"]).encode()) for e in entries]


def _json(cli: Cli, *args: str | Path) -> JsonValue:
    result = cli(*args, "--output", "json")
    assert result.code == 0, result.err
    value: JsonValue = json.loads(result.out)
    return value


def test_the_fixture_holds_every_event_type_and_stays_small(
    entries: list[dict[str, JsonValue]],
) -> None:
    assert set(ALL_EVENT_TYPES) <= {e["type"] for e in entries}
    size = sum(p.stat().st_size for p in FIXTURE.rglob("*") if p.is_file())
    assert size < 512 * 1024


def test_migrating_it_leaves_every_entry_as_it_was(
    old: Path, entries: list[dict[str, JsonValue]]
) -> None:
    with _database(old) as conn:
        assert dump_entries(conn) == entries


def test_it_verifies_against_its_signatures_and_a_kept_checkpoint(old: Path, cli: Cli) -> None:
    report = _json(
        cli, "ledger", "verify", "--checkpoint", FIXTURE / "checkpoint.txt", "--home", old
    )
    assert report == _golden("verify.json")
    assert isinstance(report, dict)
    assert report["ok"] is True


def test_its_meaning_audits_as_it_did(old: Path, cli: Cli) -> None:
    report = _json(cli, "ledger", "audit", "--home", old)
    assert report == _golden("audit.json")
    assert isinstance(report, dict)
    assert report["ok"] is True


@pytest.mark.parametrize("made_by", ["today", "the old code"])
def test_its_export_verifies_offline_with_the_committed_public_key(
    old: Path, cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path, made_by: str
) -> None:
    export = FIXTURE / "ledger.jsonl"
    if made_by == "today":
        export = tmp_path / "ledger.jsonl"
        assert cli("ledger", "export", "--out", export, "--home", old).code == 0
    capsys.readouterr()
    argv = [str(export), "--public-key", str(FIXTURE / "instance" / "public-key.pem")]
    argv += ["--checkpoint", str(FIXTURE / "checkpoint.txt"), "--output", "json"]
    assert verify_offline(argv) == 0
    assert json.loads(capsys.readouterr().out) == _golden("offline-verify.json")


def test_its_stored_projections_equal_a_rebuild(old: Path, cli: Cli) -> None:
    result = cli("ledger", "rebuild", "--check", "--home", old)
    assert result.code == 0, result.out + result.err


def test_a_rebuild_reproduces_the_golden_projections(tmp_path: Path, cli: Cli) -> None:
    home = _copy(tmp_path)
    assert cli("ledger", "rebuild", "--home", home).code == 0
    with _database(home) as conn:
        _assert_golden_projections(dump_projections(conn))


# Columns later migrations added, with what they hold for every entry the fixture's code
# wrote (the entries cannot hold what did not exist yet).
ADDED_SINCE: Final[dict[str, dict[str, JsonValue]]] = {
    "tokens": {"scopes": None},  # 0011: tokens recorded before scopes carry none
}
# Projection tables later migrations added: the fixture's entries put no row in them.
TABLES_SINCE: Final = frozenset({"hook_deliveries"})  # 0013


def _assert_golden_projections(rows: Rows) -> None:
    """Table by table, so a failure names the table and shows only its rows."""
    golden = _golden("projections.json")
    assert isinstance(golden, dict)
    for table, expected in golden.items():
        added = ADDED_SINCE.get(table, {})
        assert isinstance(expected, list)
        grown = [{**row, **added} for row in expected if isinstance(row, dict)]
        assert rows.get(table) == grown, table
    for table in TABLES_SINCE:
        assert rows.get(table) == [], table
    assert set(rows) == set(golden) | TABLES_SINCE


def _replay_one_by_one(engine: Engine, entries: list[dict[str, JsonValue]]) -> Rows:
    metadata.create_all(engine, tables=list(PROJECTION_TABLES))
    with engine.begin() as conn:
        for seq, body in _bodies(entries):
            apply(conn, [decode_body(body, seq=seq)])
        return dump_projections(conn)


def test_replaying_each_entry_alone_gives_the_golden_projections(
    entries: list[dict[str, JsonValue]],
) -> None:
    """Entry by entry, as the unit of work applies them, not in a rebuild's batches."""
    engine = create_engine("sqlite://")
    try:
        _assert_golden_projections(_replay_one_by_one(engine, entries))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_replaying_it_into_postgresql_gives_the_golden_projections(
    entries: list[dict[str, JsonValue]], postgres_url: str
) -> None:
    engine = create_engine(normalize_url(postgres_url))
    try:
        _assert_golden_projections(_replay_one_by_one(engine, entries))
    finally:
        engine.dispose()


def test_every_body_decodes_and_encodes_again_to_the_same_bytes(
    entries: list[dict[str, JsonValue]],
) -> None:
    """Same bytes, same leaf hash: the canonical encoding of an old event has not moved."""
    for seq, body in _bodies(entries):
        event = decode_body(body, seq=seq)
        again = Event(event.type, event.actor, event.time, event.data).encode().body(event.seq)
        assert again == body, seq


@pytest.mark.parametrize("event_type", ALL_EVENT_TYPES)
def test_every_old_payload_decodes_to_its_type_and_back(
    entries: list[dict[str, JsonValue]], event_type: str
) -> None:
    """An old body through today's codec, and back to the very same canonical JSON."""
    bodies = [e["body"] for e in entries if e["type"] == event_type]
    assert bodies
    if event_type not in event_types():
        with pytest.raises(InputError, match="no payload type"):
            decode_body(str(bodies[0]).encode()).payload()
        pytest.skip(f"{event_type} has no payload type yet")
    for body in bodies:
        event = decode_body(str(body).encode())
        data = event.payload().to_data()
        assert canonical_json(data) == canonical_json(event.data), event.seq
        assert data == event.data


def test_its_evidence_predates_the_vault_so_no_file_is_said_kept(
    old: Path, cli: Cli, entries: list[dict[str, JsonValue]]
) -> None:
    checked = _json(cli, "vault", "check", "--home", old)
    assert checked == {"ok": True, "entries": 0, "files": 0, "findings": []}
    cited = next(
        json.loads(str(e["body"]))["data"]["files"][0]["sha256"]
        for e in entries
        if e["type"] == "evidence.recorded"
    )
    with open_instance(old) as instance, pytest.raises(NotFoundError, match="before evidence"):
        instance.evidence.download(cited, reader="auditor")
