"""Actors through the CLI on both backends: aliases, grants, the self-grant rule, people files,
and the directory read as of a ledger position."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from changeproof.bootstrap import open_instance
from changeproof.store.actors import directory, find_actor
from tests.conftest import Cli, instance_url, ints, query

ADMIN = "security-lead"


def _size(home: Path) -> int:
    return ints(home, "SELECT tree_size FROM ledger_head")[0]


def _ok(cli: Cli, home: Path, *args: str | Path) -> dict[str, object]:
    result = cli("actor", *args, "--home", home, "-o", "json")
    assert result.code == 0, result.err
    doc: dict[str, object] = json.loads(result.out)
    return doc


def _refused(cli: Cli, home: Path, *args: str | Path) -> str:
    """Run an actor command that must fail with exit 2 and record nothing; its error text."""
    before = _size(home)
    result = cli("actor", *args, "--home", home)
    assert result.code == 2, (result.out, result.err)
    assert result.err.startswith("error: "), result.err
    assert _size(home) == before
    return result.err


def _listed(cli: Cli, home: Path) -> dict[str, dict[str, object]]:
    result = cli("actor", "list", "--home", home, "-o", "json")
    assert result.code == 0, result.err
    return {a["name"]: a for a in json.loads(result.out)}


def _events(home: Path, start: int = 0) -> list[tuple[str, str, dict[str, object]]]:
    """(type, actor, data) of every entry from `start`."""
    rows = query(home, f"SELECT body FROM ledger_events WHERE seq >= {start} ORDER BY seq")
    found = []
    for (body,) in rows:
        assert isinstance(body, bytes | memoryview)  # LargeBinary: bytes, or memoryview on psycopg
        doc = json.loads(bytes(body))
        found.append((doc["type"], doc["actor"], doc["data"]))
    return found


def _alice(cli: Cli, home: Path) -> None:
    _ok(
        cli,
        home,
        "add",
        "alice",
        "--email",
        "Alice@Example.com",
        "--github",
        "Alice-GH",
        "--role",
        "developer",
        "--group",
        "dba",
        "--actor",
        ADMIN,
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_add_grant_revoke_and_list_round_trip(home: Path, cli: Cli) -> None:
    start = _size(home)
    added = _ok(
        cli,
        home,
        "add",
        "alice",
        "--email",
        "Alice@Example.com",
        "--email",
        "alice@corp.example",
        "--github",
        "Alice-GH",
        "--role",
        "reviewer",
        "--role",
        "developer",
        "--group",
        "dba",
        "--actor",
        ADMIN,
    )
    actor = added["actor"]
    assert isinstance(actor, dict)
    assert actor["emails"] == ["alice@corp.example", "alice@example.com"]  # lower-cased
    assert actor["github"] == "alice-gh"
    assert actor["gitlab"] is None
    assert actor["roles"] == ["developer", "reviewer"]
    assert actor["groups"] == ["dba"]
    assert actor["added_by"] == ADMIN
    changes = added["changes"]
    assert isinstance(changes, list)
    assert [(c["event"], c["kind"], c["value"]) for c in changes] == [
        ("actor.added", None, None),
        ("actor.role.granted", "role", "developer"),
        ("actor.role.granted", "role", "reviewer"),
        ("actor.group.granted", "group", "dba"),
    ]
    assert [c["seq"] for c in changes] == list(range(start, start + 4))

    granted = _ok(cli, home, "grant", "alice", "--role", "production-pusher", "--actor", ADMIN)
    revoked = _ok(cli, home, "revoke", "alice", "--role", "reviewer", "--actor", "other-admin")
    _ok(cli, home, "revoke", "alice", "--group", "dba", "--actor", ADMIN)
    _ok(cli, home, "grant", "alice", "--group", "payments-owners", "--actor", ADMIN)
    assert granted["changes"] == [
        {
            "seq": start + 4,
            "event": "actor.role.granted",
            "name": "alice",
            "kind": "role",
            "value": "production-pusher",
        }
    ]
    assert isinstance(revoked["actor"], dict)
    assert revoked["actor"]["roles"] == ["developer", "production-pusher"]

    listed = _listed(cli, home)["alice"]
    assert listed["roles"] == ["developer", "production-pusher"]
    assert listed["groups"] == ["payments-owners"]
    assert listed["seq"] == start
    assert listed["grants"] == [
        {"seq": start + 1, "kind": "role", "value": "developer", "granted_by": ADMIN},
        {"seq": start + 4, "kind": "role", "value": "production-pusher", "granted_by": ADMIN},
        {"seq": start + 7, "kind": "group", "value": "payments-owners", "granted_by": ADMIN},
    ]

    events = _events(home, start)
    assert events[0] == (
        "actor.added",
        ADMIN,
        {
            "name": "alice",
            "emails": ["alice@corp.example", "alice@example.com"],
            "github": "alice-gh",
            "gitlab": None,
            "roles": [],
            "groups": [],
        },
    )
    assert events[5] == ("actor.role.revoked", "other-admin", {"name": "alice", "role": "reviewer"})
    assert events[6] == ("actor.group.revoked", ADMIN, {"name": "alice", "group": "dba"})
    # The closed grants keep their history: who granted, which entry revoked.
    assert query(
        home, "SELECT seq, value, revoked_seq FROM actor_grants WHERE revoked_seq IS NOT NULL"
    ) == [(start + 2, "reviewer", start + 5), (start + 3, "dba", start + 6)]

    text = cli("actor", "list", "--home", home)
    assert text.code == 0
    assert "alice" in text.out  # the rest folds to the test's narrow terminal
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0


@pytest.mark.parametrize(
    "acting",
    ["alice", "ALICE", "alice@example.com", "Alice@Example.COM", "alice-gh", "Alice-GH"],
)
def test_nobody_grants_themselves_a_role_by_name_or_alias(
    home: Path, cli: Cli, acting: str
) -> None:
    _alice(cli, home)
    error = _refused(cli, home, "grant", "alice", "--role", "production-pusher", "--actor", acting)
    assert f"{acting} cannot grant role production-pusher to alice" in error
    error = _refused(cli, home, "grant", "alice", "--group", "payments-owners", "--actor", acting)
    assert "cannot grant group payments-owners to alice" in error
    assert "nobody grants a role or group to themselves" in error
    assert "production-pusher" not in _listed(cli, home)["alice"]["roles"]  # type: ignore[operator]


def test_the_acting_identity_resolves_through_environment_and_aliases(
    home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _alice(cli, home)
    monkeypatch.setenv("CHANGEPROOF_ACTOR", "alice@example.com")
    error = _refused(cli, home, "grant", "alice", "--role", "admin")
    assert "alice@example.com is alice's email" in error
    # Revoking one's own role takes nothing from anyone else: allowed.
    assert cli("actor", "revoke", "alice", "--group", "dba", "--home", home).code == 0


def test_nobody_adds_themselves_with_a_role(home: Path, cli: Cli) -> None:
    error = _refused(cli, home, "add", "bob", "--role", "admin", "--actor", "bob")
    assert "bob cannot grant role admin to bob" in error
    error = _refused(
        cli,
        home,
        "add",
        "bob",
        "--email",
        "bob@example.com",
        "--group",
        "dba",
        "--actor",
        "BOB@example.com",
    )
    assert "BOB@example.com is bob's email" in error
    # Without roles or groups, adding oneself grants nothing: allowed.
    assert _ok(cli, home, "add", "bob", "--actor", "bob")["changes"] != []


def test_an_alias_belongs_to_one_actor(home: Path, cli: Cli) -> None:
    _alice(cli, home)
    error = _refused(cli, home, "add", "bob", "--email", "ALICE@example.com", "--actor", ADMIN)
    assert "email alice@example.com is already alice's; it cannot be bob's too" in error
    error = _refused(cli, home, "add", "bob", "--gitlab", "alice-gh", "--actor", ADMIN)
    assert "login alice-gh is already alice's GitHub login" in error
    assert "bob's GitLab login" in error
    error = _refused(cli, home, "add", "bob", "--github", "alice", "--actor", ADMIN)
    assert "login alice is the name of actor alice" in error
    error = _refused(cli, home, "add", "alice-gh", "--actor", ADMIN)
    assert "name alice-gh is already alice's GitHub login" in error
    error = _refused(cli, home, "add", "Alice", "--actor", ADMIN)
    assert "differs from actor alice only in case" in error
    error = _refused(cli, home, "add", "alice", "--actor", ADMIN)
    assert "actor alice already exists" in error
    assert list(_listed(cli, home)) == ["alice"]


def test_held_grants_missing_grants_and_bad_values_are_refused(home: Path, cli: Cli) -> None:
    _alice(cli, home)
    error = _refused(cli, home, "grant", "alice", "--role", "developer", "--actor", ADMIN)
    assert "alice already holds role developer (granted in entry" in error
    error = _refused(cli, home, "revoke", "alice", "--role", "admin", "--actor", ADMIN)
    assert "alice does not hold role admin" in error
    error = _refused(cli, home, "grant", "nobody", "--role", "admin", "--actor", ADMIN)
    assert "no actor nobody" in error
    error = _refused(cli, home, "grant", "alice", "--role", "boss", "--actor", ADMIN)
    assert "'boss' is not a role; roles are developer, reviewer" in error
    error = _refused(cli, home, "grant", "alice", "--group", "Payments", "--actor", ADMIN)
    assert "'Payments' is not a group name" in error
    error = _refused(cli, home, "grant", "alice", "--actor", ADMIN)
    assert "give exactly one of --role and --group" in error
    error = _refused(
        cli, home, "grant", "alice", "--role", "admin", "--group", "dba", "--actor", ADMIN
    )
    assert "give exactly one of --role and --group" in error
    error = _refused(cli, home, "add", "carol@example.com", "--actor", ADMIN)
    assert "actor name 'carol@example.com' is not" in error
    error = _refused(cli, home, "add", "carol", "--email", "not-an-email", "--actor", ADMIN)
    assert "'not-an-email' is not an email address" in error


PEOPLE = """\
actors:
  - name: alice
    emails: [alice@example.com]
    github: alice-gh
    roles: [developer, approver]
  - name: carol
    emails: [carol@example.com]
    gitlab: carol
    roles: [production-pusher]
    groups: [payments-owners]
"""


def test_sync_records_exactly_the_difference_once(home: Path, cli: Cli, tmp_path: Path) -> None:
    _alice(cli, home)  # developer, group dba
    _ok(cli, home, "add", "dave", "--role", "auditor", "--actor", ADMIN)
    people = _write(tmp_path / "people.yaml", PEOPLE)
    start = _size(home)

    synced = _ok(cli, home, "sync", people, "--actor", ADMIN)
    assert synced["changed"] is True
    assert synced["unlisted"] == ["dave"]
    changes = synced["changes"]
    assert isinstance(changes, list)
    assert [(c["event"], c["name"], c["value"]) for c in changes] == [
        ("actor.role.granted", "alice", "approver"),
        ("actor.group.revoked", "alice", "dba"),
        ("actor.added", "carol", None),
        ("actor.role.granted", "carol", "production-pusher"),
        ("actor.group.granted", "carol", "payments-owners"),
    ]
    assert _size(home) == start + 5
    assert {t for t, _, _ in _events(home, start)} >= {"actor.added"}
    assert all(actor == ADMIN for _, actor, _ in _events(home, start))

    listed = _listed(cli, home)
    assert listed["alice"]["roles"] == ["approver", "developer"]
    assert listed["alice"]["groups"] == []
    assert listed["carol"]["emails"] == ["carol@example.com"]
    assert listed["carol"]["gitlab"] == "carol"
    assert listed["dave"]["roles"] == ["auditor"]  # not in the file: left alone

    again = cli("actor", "sync", people, "--actor", ADMIN, "--home", home)
    assert again.code == 0, again.err
    assert "the actors already match; nothing recorded" in again.out
    assert "Not in the file, left as they are: dave" in again.out
    assert _size(home) == start + 5
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0


def test_sync_applies_the_rules_to_the_whole_file(home: Path, cli: Cli, tmp_path: Path) -> None:
    _alice(cli, home)
    # The acting identity is in the file, through an alias, and would gain a role.
    people = _write(tmp_path / "people.yaml", PEOPLE)
    error = _refused(cli, home, "sync", people, "--actor", "alice-gh")
    assert f"{people}:2: actors[0] (alice): alice-gh cannot grant role approver to alice" in error
    error = _refused(cli, home, "sync", people, "--actor", "carol@example.com")
    assert f"{people}:6: actors[1] (carol): carol@example.com cannot grant" in error

    moved = _write(
        tmp_path / "moved.yaml",
        "actors:\n  - name: alice\n    emails: [alice@new.example]\n    github: alice-gh\n",
    )
    error = _refused(cli, home, "sync", moved, "--actor", ADMIN)
    assert (
        f"{moved}:2: actors[0] (alice): the file leaves out alice's email alice@example.com, "
        "but recorded aliases cannot be removed"
    ) in error

    clash = _write(
        tmp_path / "clash.yaml",
        "actors:\n  - name: bob\n    emails: [x@example.com]\n"
        "  - name: eve\n    emails: [X@example.com]\n",
    )
    error = _refused(cli, home, "sync", clash, "--actor", ADMIN)
    assert f"{clash}:4: actors[1] (eve): email x@example.com is already bob's" in error

    twice = _write(tmp_path / "twice.yaml", "actors:\n  - name: bob\n  - name: bob\n")
    error = _refused(cli, home, "sync", twice, "--actor", ADMIN)
    assert (
        f"{twice}:3: actors[1] (bob): bob is declared twice (also actors[0] (bob) on line 2)"
        in (error)
    )

    role = _write(tmp_path / "role.yaml", "actors:\n  - name: bob\n    roles: [pusher]\n")
    error = _refused(cli, home, "sync", role, "--actor", ADMIN)
    assert f"{role}:2: actors[0] (bob): 'pusher' is not a role" in error
    assert list(_listed(cli, home)) == ["alice"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "actors:\n  - name: bob\n    role: admin\n",
            ":3: actors[0] (bob): unknown key 'role' (known: name, emails",
        ),
        ("actors:\n  - name: bob\n    name: eve\n", ":3: duplicate key 'name' in actors[0]"),
        ("actors:\n  - {name: bob\n", ":3:1: not valid YAML: expected ',' or '}'"),
        ("{{{ not yaml", ":1:13: not valid YAML"),
        ("just words\n", ":1: the file must be a mapping with an `actors:` list"),
        ("", ": the file is empty"),
        (
            "base: &who {name: bob, roles: [admin]}\nactors: [*who]\n",
            ":1: anchors and aliases (&name, *name) are not allowed",
        ),
        ("actors:\n  - name: 42\n", ":2: actors[0].name: input should be a valid string"),
        ("actors:\n  - emails: [bob@example.com]\n", ":2: actors[0]: missing key 'name'"),
    ],
    ids=[
        "unknown-key",
        "duplicate-key",
        "unclosed",
        "not-yaml",
        "scalar",
        "empty",
        "anchor",
        "wrong-type",
        "missing-name",
    ],
)
def test_bad_people_files_are_refused_naming_the_file(
    home: Path, cli: Cli, tmp_path: Path, text: str, words: str
) -> None:
    path = _write(tmp_path / "people.yaml", text)
    error = _refused(cli, home, "sync", path, "--actor", ADMIN)
    assert f"error: {path}{words}" in error


def test_missing_and_oversized_people_files(home: Path, cli: Cli, tmp_path: Path) -> None:
    error = _refused(cli, home, "sync", tmp_path / "nope.yaml", "--actor", ADMIN)
    assert f"people file {tmp_path / 'nope.yaml'} does not exist" in error
    error = _refused(cli, home, "sync", tmp_path, "--actor", ADMIN)
    assert "is a directory, not a people file" in error
    big = _write(tmp_path / "big.yaml", "actors: []\n" + "#" * (1 << 20))
    error = _refused(cli, home, "sync", big, "--actor", ADMIN)
    assert "larger than the 1,048,576-byte limit" in error


def test_directory_as_of_a_ledger_position(home: Path, cli: Cli) -> None:
    _alice(cli, home)
    added_at = _size(home) - 3  # actor.added, role developer, group dba
    before_grant = _size(home)
    _ok(cli, home, "grant", "alice", "--role", "production-pusher", "--actor", ADMIN)
    before_revoke = _size(home)
    _ok(cli, home, "revoke", "alice", "--group", "dba", "--actor", ADMIN)
    now = _size(home)

    with open_instance(home) as instance, instance.db.read() as conn:
        assert "alice" not in directory(conn, added_at).actors
        at_add = directory(conn, added_at + 1).actors["alice"]
        assert at_add.roles == frozenset()  # granted by the next entries
        assert at_add.emails == frozenset({"alice@example.com"})
        assert at_add.github == "alice-gh"

        then = directory(conn, before_grant).actors["alice"]
        assert then.roles == {"developer"}
        assert then.groups == {"dba"}
        assert directory(conn, before_grant + 1).actors["alice"].roles == {
            "developer",
            "production-pusher",
        }
        assert directory(conn, before_revoke).actors["alice"].groups == {"dba"}
        assert directory(conn, before_revoke + 1).actors["alice"].groups == frozenset()
        assert directory(conn, now) == directory(conn)

        people = directory(conn, before_grant)
        assert people.resolve("ALICE@example.com") == then
        assert people.resolve("alice-gh", "github") == then
        assert people.resolve("alice-gh", "gitlab") is None

        record = find_actor(conn, "alice", before_revoke)
        assert record is not None
        assert [(g.kind, g.value) for g in record.grants] == [
            ("role", "developer"),
            ("group", "dba"),
            ("role", "production-pusher"),
        ]
        assert find_actor(conn, "alice-gh") is None  # names, not aliases


def test_rebuild_reproduces_the_actor_tables(home: Path, cli: Cli, tmp_path: Path) -> None:
    _alice(cli, home)
    _ok(cli, home, "grant", "alice", "--role", "reviewer", "--actor", ADMIN)
    _ok(cli, home, "revoke", "alice", "--role", "reviewer", "--actor", ADMIN)
    _ok(cli, home, "grant", "alice", "--role", "reviewer", "--actor", ADMIN)  # again, new row
    _ok(cli, home, "sync", _write(tmp_path / "people.yaml", PEOPLE), "--actor", ADMIN)
    tables = ("actors", "actor_aliases", "actor_grants")
    live = {t: sorted(query(home, f"SELECT * FROM {t}"), key=repr) for t in tables}
    assert len(live["actor_grants"]) == 7
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0
    assert cli("ledger", "rebuild", "--home", home).code == 0
    assert {t: sorted(query(home, f"SELECT * FROM {t}"), key=repr) for t in tables} == live
    assert cli("ledger", "verify", "--home", home).code == 0


@pytest.mark.postgres
def test_racing_grants_of_the_same_role_record_it_once(
    home: Path, cli: Cli, database_url: str | None
) -> None:
    """The service reads the directory under the ledger's lock, so exactly one racer wins.

    The racers are held at the lock until all four wait there, then let go together. (On
    SQLite, BEGIN IMMEDIATE already serializes whole write transactions.)
    """
    if database_url is None:
        pytest.skip("SQLite serializes whole write transactions at BEGIN IMMEDIATE")
    _alice(cli, home)
    before = _size(home)
    command = [
        sys.executable,
        "-c",
        "from changeproof.cli.main import main; main()",
        *("actor", "grant", "alice", "--role", "approver", "--home", str(home)),
    ]
    engine = create_engine(instance_url(home))
    try:
        with engine.connect() as holder:
            holder.execute(text("SELECT tree_size FROM ledger_head FOR UPDATE"))
            racers = [
                subprocess.Popen(
                    [*command, "--actor", f"admin-{n}"],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for n in range(4)
            ]
            waiting = text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND query LIKE '%ledger_head%'"
            )
            deadline = time.monotonic() + 60
            with engine.connect() as watcher:  # outside the holder's statistics snapshot
                while watcher.execute(waiting).scalar_one() < len(racers):
                    assert time.monotonic() < deadline, "the racers never reached the lock"
                    watcher.rollback()
                    time.sleep(0.02)
            holder.rollback()
    finally:
        engine.dispose()
    outcomes = [(racer.wait(timeout=120), racer.communicate()[1]) for racer in racers]
    assert sorted(code for code, _ in outcomes) == [0, 2, 2, 2], outcomes
    assert all("alice already holds role approver" in err for code, err in outcomes if code)
    assert _size(home) == before + 1
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0


def test_once_an_admin_exists_only_admins_grant_and_revoke(home: Path, cli: Cli) -> None:
    # Setting up: anyone grants, as the tests above do; the first admin included.
    _alice(cli, home)
    _ok(cli, home, "add", "bob", "--email", "bob@example.com", "--actor", ADMIN)
    _ok(cli, home, "grant", "alice", "--role", "admin", "--actor", ADMIN)

    error = _refused(cli, home, "grant", "bob", "--role", "approver", "--actor", ADMIN)
    assert (
        f"{ADMIN} cannot grant role approver to bob: only an admin may, and {ADMIN} is not an admin"
    ) in error
    assert "hint: ask an admin (alice)" in error
    error = _refused(cli, home, "revoke", "alice", "--group", "dba", "--actor", "bob")
    assert "bob cannot revoke group dba from alice: only an admin may" in error
    error = _refused(cli, home, "revoke", "bob", "--role", "developer", "--actor", "bob")
    assert "bob cannot revoke role developer from bob" in error  # before "does not hold"
    error = _refused(cli, home, "add", "carol", "--role", "auditor", "--actor", "bob")
    assert "bob cannot grant role auditor to carol: only an admin may" in error
    # Adding someone grants nothing: anyone may still.
    _ok(cli, home, "add", "carol", "--actor", "bob")

    # An admin grants, named by any of its identities, and still never to itself.
    _ok(cli, home, "grant", "bob", "--role", "approver", "--actor", "Alice@Example.com")
    _ok(cli, home, "grant", "carol", "--role", "admin", "--actor", "alice-gh")
    error = _refused(cli, home, "grant", "alice", "--role", "approver", "--actor", "alice")
    assert "alice cannot grant role approver to alice: they are the same actor" in error
    _ok(cli, home, "revoke", "bob", "--role", "approver", "--actor", "carol")

    # The last admin keeps admin: without one, anyone could grant anything again.
    _ok(cli, home, "revoke", "alice", "--role", "admin", "--actor", "alice")
    error = _refused(cli, home, "revoke", "carol", "--role", "admin", "--actor", "carol")
    assert "revoking admin from carol would leave no admin (carol is the last)" in error
    assert "hint: grant admin to another actor first" in error
    assert _listed(cli, home)["carol"]["roles"] == ["admin"]
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0


def test_sync_under_the_admin_rule(home: Path, cli: Cli, tmp_path: Path) -> None:
    first = _write(
        tmp_path / "first.yaml",
        "actors:\n  - name: root\n    roles: [admin]\n"
        "  - name: alice\n    emails: [alice@example.com]\n    roles: [developer]\n",
    )
    # A file that makes the first admin is judged as a whole by the setup rule.
    assert _ok(cli, home, "sync", first, "--actor", ADMIN)["changed"] is True

    more = _write(
        tmp_path / "more.yaml",
        "actors:\n  - name: root\n    roles: [admin]\n"
        "  - name: alice\n    emails: [alice@example.com]\n    roles: [developer, approver]\n",
    )
    error = _refused(cli, home, "sync", more, "--actor", ADMIN)
    assert f"{more}:4: actors[1] (alice): {ADMIN} cannot grant role approver to alice" in error
    assert _ok(cli, home, "sync", more, "--actor", "root")["changed"] is True

    orphaned = _write(
        tmp_path / "orphaned.yaml",
        "actors:\n  - name: root\n  - name: alice\n    emails: [alice@example.com]\n"
        "    roles: [developer, approver]\n",
    )
    error = _refused(cli, home, "sync", orphaned, "--actor", "root")
    assert f"{orphaned}: revoking admin from root would leave no admin" in error
    assert _listed(cli, home)["root"]["roles"] == ["admin"]
