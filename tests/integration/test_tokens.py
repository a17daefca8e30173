"""API tokens through the CLI on both backends: create, act with, revoke, expire; the secret
kept nowhere; who may manage tokens and roles once an admin exists."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import MISSING
from sqlalchemy import create_engine, inspect
from sqlalchemy import text as sql

from changeproof.bootstrap import open_instance
from changeproof.domain.errors import ConflictError, PermissionDeniedError
from changeproof.domain.tokens import Scope, scopes_of
from changeproof.services.instance import load_signer
from changeproof.services.tokens import TokenService
from changeproof.store.entry_check import entry_checks
from changeproof.store.unit_of_work import UnitOfWork
from tests.conftest import Cli, CliResult, FixedClock, instance_url, ints, query

TOKEN = re.compile(r"cpt_([0-9a-f]{16})_([0-9a-f]{64})")
PLATFORM = "platform"


def _size(home: Path) -> int:
    return ints(home, "SELECT tree_size FROM ledger_head")[0]


def _json(cli: Cli, home: Path, *args: str | Path) -> dict[str, object]:
    result = cli(*args, "--home", home, "-o", "json")
    assert result.code == 0, result.err
    doc: dict[str, object] = json.loads(result.out)
    return doc


def _refused(cli: Cli, home: Path, *args: str | Path) -> str:
    """A command that must fail with exit 2 and record nothing; its error text."""
    before = _size(home)
    result = cli(*args, "--home", home)
    assert result.code == 2, (result.out, result.err)
    assert result.err.startswith("error: "), result.err
    assert _size(home) == before
    return result.err


def _events(home: Path, start: int = 0) -> list[tuple[str, str, dict[str, object]]]:
    rows = query(home, f"SELECT body FROM ledger_events WHERE seq >= {start} ORDER BY seq")
    found = []
    for (body,) in rows:
        assert isinstance(body, bytes | memoryview)
        doc = json.loads(bytes(body))
        found.append((doc["type"], doc["actor"], doc["data"]))
    return found


def _people(cli: Cli, home: Path, *, admin: str | None = None) -> None:
    """alice and bob (with emails and logins), carol; `admin` also holds role admin."""
    for name, *aliases in (
        ["alice", "--email", "alice@example.com", "--github", "alice-gh"],
        ["bob", "--email", "bob@example.com"],
        ["carol"],
    ):
        roles = ["--role", "admin"] if name == admin else []
        _json(cli, home, "actor", "add", name, *aliases, *roles, "--actor", PLATFORM)


def _create(cli: Cli, home: Path, actor: str, *args: str) -> str:
    doc = _json(cli, home, "token", "create", "--actor", actor, *args)
    text = doc["token"]
    assert isinstance(text, str)
    assert TOKEN.fullmatch(text)
    return text


def test_a_token_acts_as_its_actor_until_revoked(
    home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people(cli, home)
    start = _size(home)
    created = _json(
        cli, home, "token", "create", "--actor", "alice", "--name", "ci", "--as", PLATFORM
    )
    text = created["token"]
    assert isinstance(text, str)
    match = TOKEN.fullmatch(text)
    assert match is not None
    ident = match[1]
    assert created["id"] == ident
    assert created["actor"] == "alice"
    assert created["label"] == "ci"
    assert created["state"] == "active"
    assert created["created_by"] == PLATFORM
    assert created["seq"] == start
    ((kind, by, data),) = _events(home, start)
    assert (kind, by) == ("token.created", PLATFORM)
    assert set(data) == {"id", "actor", "sha256", "expires_at", "label", "scopes"}
    assert data["scopes"] == ["admin", "approve", "govern", "read", "record"]  # a person's
    assert created["scopes"] == data["scopes"]
    assert data["sha256"] != text
    assert data["expires_at"] == created["expires_at"]

    monkeypatch.setenv("CHANGEPROOF_TOKEN", text)
    monkeypatch.setenv("CHANGEPROOF_ACTOR", "someone-else")  # a token outranks a claim …
    error = _refused(cli, home, "actor", "add", "dave")  # … that names another actor
    assert f"CHANGEPROOF_TOKEN: token {ident} acts as alice, but CHANGEPROOF_ACTOR says" in error
    monkeypatch.delenv("CHANGEPROOF_ACTOR")

    recorded = _json(cli, home, "actor", "add", "dave")
    assert recorded["actor"]["added_by"] == "alice"  # type: ignore[index]
    for n, same in enumerate(("alice", "ALICE", "alice@example.com", "Alice-GH")):
        assert cli("actor", "add", f"e{n}", "--as", same, "--home", home).code == 0
    for other, flag in (("bob", "--actor"), ("bob@example.com", "--as"), ("nobody", "--as")):
        error = _refused(cli, home, "actor", "add", "frank", flag, other)
        assert f"token {ident} acts as alice, but --actor/--as says {other}" in error
        assert "a token acts only as its own actor" in error
    error = _refused(cli, home, "token", "create", "--actor", "bob", "--as", "bob")
    assert "--as says bob" in error
    assert all(text not in line and match[2] not in line for line in error.splitlines())

    # The token's actor revokes it with the token itself; after that it authenticates no one.
    revoked = cli("token", "revoke", ident, "--home", home)
    assert revoked.code == 0, revoked.err
    assert revoked.out == f"entry {_size(home) - 1}: revoked token {ident} of alice\n"
    error = _refused(cli, home, "actor", "add", "gina")
    assert f"CHANGEPROOF_TOKEN: token {ident} of alice was revoked at" in error
    assert f"by alice (entry {_size(home) - 1})" in error
    monkeypatch.delenv("CHANGEPROOF_TOKEN")
    error = _refused(cli, home, "token", "revoke", ident, "--as", PLATFORM)
    assert f"token {ident} was already revoked in entry {_size(home) - 1} by alice" in error

    listed = cli("token", "list", "--home", home, "-o", "json")
    assert listed.code == 0, listed.err
    (doc,) = json.loads(listed.out)
    assert (doc["id"], doc["state"], doc["revoked_by"]) == (ident, "revoked", "alice")
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0
    assert cli("ledger", "verify", "--home", home).code == 0


def test_text_output_prints_the_token_alone_on_stdout(home: Path, cli: Cli) -> None:
    _people(cli, home)
    result = cli("token", "create", "--actor", "bob", "--expires", "12h", "--home", home)
    assert result.code == 0, result.err
    assert TOKEN.fullmatch(result.out.strip())
    assert "created token" in result.err
    assert "shown only now" in result.err
    assert result.out.strip() not in result.err
    table = cli("token", "list", "--home", home)
    assert table.code == 0
    assert result.out.strip()[4:20] in table.out  # the id, never folded
    assert "active" in table.out


def test_a_token_stops_working_when_it_expires(home: Path, cli: Cli) -> None:
    _people(cli, home)
    clock = FixedClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    with open_instance(home, clock) as instance:
        created = instance.tokens.create("bob", expires="12h", by=PLATFORM)
        dated = instance.tokens.create("bob", expires="2026-12-01", by=PLATFORM)
        assert created.record.token.expires_at == datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
        clock.advance(hours=11, minutes=59, seconds=59)
        assert instance.tokens.authenticate(created.text) == "bob"
        clock.advance(seconds=1)
        with pytest.raises(PermissionDeniedError) as expired:
            instance.tokens.authenticate(created.text)
        message = expired.value.message
        assert message == (
            f"token {created.record.id} of bob expired at 2026-11-26T00:00:00.000000Z"
        )
        assert instance.tokens.authenticate(dated.text) == "bob"
        states = {v.record.id: v.state for v in instance.tokens.list("bob")}
        assert states == {created.record.id: "expired", dated.record.id: "active"}
        clock.advance(days=6)
        with pytest.raises(PermissionDeniedError, match="expired at 2026-12-01T00:00:00"):
            instance.tokens.authenticate(dated.text)


def test_an_expired_token_is_refused_by_every_command(
    home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people(cli, home)
    # Made two days ago, for one day: expired by the real clock the CLI reads.
    clock = FixedClock(datetime.now(UTC) - timedelta(days=2))
    with open_instance(home, clock) as instance:
        created = instance.tokens.create("carol", expires="1d", by=PLATFORM)
    monkeypatch.setenv("CHANGEPROOF_TOKEN", created.text)
    error = _refused(cli, home, "actor", "add", "dave")
    assert f"CHANGEPROOF_TOKEN: token {created.record.id} of carol expired at" in error
    assert "token create --actor carol" in error
    monkeypatch.delenv("CHANGEPROOF_TOKEN")
    (doc,) = json.loads(cli("token", "list", "--actor", "carol", "--home", home, "-o", "json").out)
    assert doc["state"] == "expired"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("", "CHANGEPROOF_TOKEN: the token is malformed: it is empty"),
        ("hunter2-hunter2", "CHANGEPROOF_TOKEN: the token is malformed: not a changeproof token"),
        ("cpt_0123456789abcdef_" + "0" * 64, "token 0123456789abcdef is not known to this"),
    ],
    ids=["empty", "malformed", "unknown"],
)
def test_a_bad_token_refuses_the_command_without_echoing_it(
    home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, value: str, words: str
) -> None:
    _people(cli, home)
    monkeypatch.setenv("CHANGEPROOF_TOKEN", value)
    error = _refused(cli, home, "actor", "add", "dave", "--actor", PLATFORM)
    assert words in error
    if value:
        assert value not in error


def test_a_wrong_secret_reads_as_an_unknown_token(
    home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people(cli, home)
    text = _create(cli, home, "alice")
    forged = text[:-1] + ("0" if text[-1] != "0" else "1")
    monkeypatch.setenv("CHANGEPROOF_TOKEN", forged)
    error = _refused(cli, home, "actor", "add", "dave")
    assert f"token {text[4:20]} is not known to this instance" in error


def test_the_secret_is_kept_nowhere_and_never_shown_again(
    home: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _people(cli, home)
    text = _create(cli, home, "alice", "--name", "deploy bot", "--expires", "30d")
    secret = TOKEN.fullmatch(text)[2]  # type: ignore[index]
    ident = text[4:20]
    outputs: list[CliResult] = []
    monkeypatch.setenv("CHANGEPROOF_TOKEN", text)
    outputs.append(cli("actor", "add", "dave", "--home", home))
    outputs.append(cli("actor", "add", "erin", "--as", "bob", "--home", home))  # refused
    monkeypatch.delenv("CHANGEPROOF_TOKEN")
    export = tmp_path / "ledger.jsonl"
    outputs.append(cli("ledger", "export", "--out", export, "--home", home))
    for output in ("text", "json"):
        outputs.append(cli("token", "list", "--home", home, "-o", output))
        outputs.append(cli("ledger", "status", "--home", home, "-o", output))
    outputs.append(cli("token", "revoke", text, "--as", "alice", "--home", home))  # leaked
    outputs.append(cli("token", "revoke", ident, "--as", "alice", "--home", home))
    assert [r.code for r in outputs] == [0, 2, 0, 0, 0, 0, 0, 0, 2]
    assert "already revoked" in outputs[-1].err
    for result in outputs:
        assert secret not in result.out + result.err

    assert secret not in export.read_text(encoding="utf-8")
    engine = create_engine(instance_url(home))
    try:
        with engine.connect() as conn:
            names = inspect(conn).get_table_names()
            assert "tokens" in names
            for name in names:
                quoted = conn.dialect.identifier_preparer.quote(name)
                for row in conn.execute(sql(f"SELECT * FROM {quoted}")):
                    for value in row:
                        if isinstance(value, bytes | memoryview):
                            value = bytes(value).decode("utf-8", "replace")
                        assert secret not in str(value), name
    finally:
        engine.dispose()
    assert query(home, "SELECT label, actor, revoked_by FROM tokens") == [
        ("deploy bot", "alice", "alice")
    ]


def test_only_the_actor_or_an_admin_manages_its_tokens(home: Path, cli: Cli) -> None:
    _people(cli, home)
    # Until someone holds admin the instance is being set up: anyone may.
    setup = _create(cli, home, "alice", "--as", "carol")
    _json(cli, home, "actor", "grant", "carol", "--role", "admin", "--actor", PLATFORM)

    mine = _create(cli, home, "bob", "--as", "bob@example.com")  # by alias: still bob
    error = _refused(cli, home, "token", "create", "--actor", "alice", "--as", "bob")
    assert "bob cannot create a token for alice: only alice or an admin may" in error
    assert "and bob is not an admin" in error
    assert "hint: ask an admin (carol)" in error
    error = _refused(cli, home, "token", "revoke", setup[4:20], "--as", "bob")
    assert f"bob cannot revoke token {setup[4:20]} of alice: only alice or an admin may" in error
    error = _refused(cli, home, "token", "revoke", mine[4:20], "--as", PLATFORM)
    assert f"{PLATFORM} cannot revoke token {mine[4:20]} of bob" in error

    # An admin, for a person: refused, else an admin could act as anyone.
    error = _refused(cli, home, "token", "create", "--actor", "alice", "--as", "carol")
    assert "carol cannot create a token for alice: alice is a person" in error
    _create(cli, home, "alice", "--as", "alice")
    _create(cli, home, "carol", "--as", "CAROL")  # an admin, for itself
    assert cli("token", "revoke", mine[4:20], "--as", "carol", "--home", home).code == 0
    assert cli("token", "revoke", setup[4:20], "--as", "alice", "--home", home).code == 0
    listed = json.loads(cli("token", "list", "--home", home, "-o", "json").out)
    assert [(t["actor"], t["state"]) for t in listed] == [
        ("alice", "revoked"),
        ("bob", "revoked"),
        ("alice", "active"),
        ("carol", "active"),
    ]
    bobs = json.loads(cli("token", "list", "--actor", "bob", "--home", home, "-o", "json").out)
    assert [t["id"] for t in bobs] == [mine[4:20]]
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--expires", "90"], "--expires '90': expected a duration (90d, 12h, 2w) or a date"),
        (["--expires", "1y"], "--expires '1y': expected a duration"),
        (["--expires", "0d"], "--expires '0d': a duration must be at least 1"),
        (["--expires", "2020-01-01"], "--expires '2020-01-01': 2020-01-01T00:00:00.000000Z is"),
        (["--expires", "2027-02-30"], "--expires '2027-02-30': day is out of range"),
        (["--expires", "2027-01-31T18:00"], "give the time's offset (Z or +HH:MM)"),
        (["--expires", "99999w"], "--expires '99999w': more than 3653 days from now"),
        (["--name", "line\nbreak"], "--name must be 1-200 characters without control"),
        (["--name", "x" * 201], "--name must be 1-200 characters"),
        (["--scope", "write"], "--scope: 'write' is not a valid Scope"),
        (["--scope", "read", "--scope", "sudo"], "the scopes are read, record, approve"),
    ],
)
def test_bad_token_options_are_refused_naming_the_option(
    home: Path, cli: Cli, args: list[str], words: str
) -> None:
    _people(cli, home)
    error = _refused(cli, home, "token", "create", "--actor", "alice", *args)
    assert words in error
    assert query(home, "SELECT count(*) FROM tokens") == [(0,)]


def test_unknown_actors_and_tokens_are_refused(home: Path, cli: Cli) -> None:
    _people(cli, home)
    error = _refused(cli, home, "token", "create", "--actor", "nobody")
    assert "no actor nobody (--actor names the token's actor by name)" in error
    error = _refused(cli, home, "token", "create", "--actor", "alice@example.com")
    assert "no actor alice@example.com" in error
    error = _refused(cli, home, "token", "list", "--actor", "nobody")
    assert "no actor nobody" in error
    error = _refused(cli, home, "token", "revoke", "0123456789abcdef")
    assert "no token 0123456789abcdef" in error
    error = _refused(cli, home, "token", "revoke", "not-an-id")
    assert "TOKEN_ID 'not-an-id' is not a token id: expected 16 lower-case hex digits" in error
    long = "cpt_0123456789abcdef_" + "g" * 64  # may be a mistyped secret: not quoted
    error = _refused(cli, home, "token", "revoke", long)
    assert "TOKEN_ID is not a token id" in error
    assert "g" * 64 not in error
    missing = cli("token", "create", "--home", home)
    assert missing.code == 2
    assert "--actor" in missing.err
    assert query(home, "SELECT count(*) FROM tokens") == [(0,)]


def test_a_pipeline_token_records_and_reads_but_never_approves(home: Path, cli: Cli) -> None:
    _people(cli, home)
    _json(cli, home, "actor", "add", "ci-bot", "--pipeline", "--actor", PLATFORM)
    created = _json(cli, home, "token", "create", "--actor", "ci-bot", "--as", PLATFORM)
    assert created["scopes"] == ["read", "record"]
    for scope in ("approve", "govern", "admin"):
        error = _refused(
            cli,
            home,
            "token",
            "create",
            "--actor",
            "ci-bot",
            "--scope",
            "read",
            "--scope",
            scope,
            "--as",
            PLATFORM,
        )
        assert f"ci-bot is a pipeline identity: its tokens may hold read, record, not {scope}" in (
            error
        )
    narrow = _json(
        cli, home, "token", "create", "--actor", "alice", "--scope", "read", "--as", "alice"
    )
    assert narrow["scopes"] == ["read"]
    listed = json.loads(cli("token", "list", "--home", home, "-o", "json").out)
    assert [t["scopes"] for t in listed] == [["read", "record"], ["read"]]


def test_a_token_recorded_before_scopes_acts_with_every_scope_its_kind_allows(
    home: Path, cli: Cli
) -> None:
    """An entry without `scopes` (written before they existed) still authenticates: a
    person's token with every scope, an auditor's with read alone."""
    _people(cli, home)
    text = _create(cli, home, "alice", "--as", "alice")
    with open_instance(home, FixedClock()) as instance:
        recorded = instance.tokens.list("alice")[0].record
        legacy = replace(recorded.token, scopes=MISSING)
        assert "scopes" not in legacy.to_data()
        assert scopes_of(legacy, pipeline=False) == frozenset(Scope)
        assert scopes_of(legacy, pipeline=True) == {Scope.READ, Scope.RECORD}
        principal = instance.tokens.principal(text)
    assert (principal.actor, principal.scopes) == ("alice", frozenset(Scope))
    assert (
        cli("actor", "grant", "alice", "--role", "auditor", "--as", PLATFORM, "--home", home).code
        == 0
    )
    with open_instance(home, FixedClock()) as instance:
        assert instance.tokens.principal(text).scopes == {Scope.READ}


def test_rebuild_reproduces_the_tokens_table(home: Path, cli: Cli) -> None:
    _people(cli, home, admin="carol")
    first = _create(cli, home, "alice", "--as", "alice", "--name", "one")
    _create(cli, home, "bob", "--as", "bob", "--expires", "2w")
    assert cli("token", "revoke", first[4:20], "--as", "alice", "--home", home).code == 0
    live = sorted(query(home, "SELECT * FROM tokens"), key=repr)
    assert len(live) == 2
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0
    assert cli("ledger", "rebuild", "--home", home).code == 0
    assert sorted(query(home, "SELECT * FROM tokens"), key=repr) == live


def test_a_colliding_id_is_drawn_again(home: Path, cli: Cli) -> None:
    """The service draws its randomness through an injected function: replay one draw."""
    _people(cli, home)
    ids = iter(bytes([n]) * 8 for n in (1, 1, 3, 1, 1, 3))
    clock = FixedClock()

    def draw(size: int) -> bytes:
        return next(ids) if size == 8 else b"\x02" * size

    with open_instance(home, clock) as instance:
        signer = load_signer(instance.config)
        service = TokenService(
            instance.db,
            lambda: UnitOfWork(instance.db, signer, clock),
            clock,
            entry_checks(signer.verifier, signer.name),
            random_bytes=draw,
        )
        first = service.create("alice", by=PLATFORM)
        second = service.create("bob", by=PLATFORM)  # the same id first: drawn again
        assert (first.record.id, second.record.id) == ("01" * 8, "03" * 8)
        assert service.authenticate(first.text) == "alice"
        assert service.authenticate(second.text) == "bob"
        before = _size(home)
        with pytest.raises(ConflictError, match="could not draw an unused token id"):
            service.create("carol", by=PLATFORM)  # three draws, all taken
        assert _size(home) == before
