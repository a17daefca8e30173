"""Aliases added after the fact (`actor alias add`, `actor sync`) and actor kinds, on both
backends: recorded as entries, read as of a ledger position, used by gates decided later."""

from __future__ import annotations

from pathlib import Path

from changeproof.bootstrap import open_instance
from changeproof.domain.actors import ActorAdded, ActorKind
from changeproof.domain.canonical import JsonValue
from changeproof.store.actors import directory
from tests.conftest import Cli, ints, tamper
from tests.integration.scenario import Changes, Scenario, failing
from tests.integration.test_actors import ADMIN, _events, _listed, _ok, _refused, _size, _write

NOREPLY = "Ada <12345+ada-gh@users.noreply.github.com>"


def _ada(cli: Cli, home: Path) -> None:
    _ok(cli, home, "add", "ada", "--email", "ada@corp.test", "--actor", ADMIN)


def test_an_alias_added_later_is_an_entry_and_the_directory_as_of_before_leaves_it_out(
    home: Path, cli: Cli
) -> None:
    _ada(cli, home)
    before = _size(home)
    doc = _ok(cli, home, "alias", "add", " ADA ", "--github", "Ada-GH", "--email",
              "ada@laptop.test", "--actor", ADMIN)  # fmt: skip
    assert doc["changes"] == [
        {
            "seq": before,
            "event": "actor.alias.added",
            "name": "ada",
            "kind": None,
            "value": "email ada@laptop.test, github ada-gh",
        }
    ]
    assert _events(home, before) == [
        (
            "actor.alias.added",
            ADMIN,
            {"name": "ada", "emails": ["ada@laptop.test"], "github": "ada-gh", "gitlab": None},
        )
    ]
    listed = _listed(cli, home)["ada"]
    assert listed["emails"] == ["ada@corp.test", "ada@laptop.test"]
    assert listed["github"] == "ada-gh"
    assert listed["seq"] == before - 1  # still the actor.added entry
    with open_instance(home) as instance, instance.db.read() as conn:
        then = directory(conn, before).actors["ada"]
        assert then.github is None
        assert then.emails == {"ada@corp.test"}
        assert directory(conn, before + 1).actors["ada"].github == "ada-gh"
        assert directory(conn, before).by_email("ada@laptop.test") is None
        assert directory(conn).by_email("ada+x@laptop.test") is not None
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0
    assert cli("ledger", "rebuild", "--home", home).code == 0
    assert _listed(cli, home)["ada"] == listed


def test_aliases_are_refused_when_held_changed_someone_elses_or_by_a_non_admin(
    home: Path, cli: Cli
) -> None:
    _ada(cli, home)
    _ok(cli, home, "add", "bob", "--email", "bob@corp.test", "--github", "bob-gh",
        "--actor", ADMIN)  # fmt: skip
    assert "ada already has email ada@corp.test" in _refused(
        cli, home, "alias", "add", "ada", "--email", "ADA@corp.test", "--actor", ADMIN
    )
    assert "email bob@corp.test is already bob's; it cannot be ada's too" in _refused(
        cli, home, "alias", "add", "ada", "--email", "bob@corp.test", "--actor", ADMIN
    )
    error = _refused(cli, home, "alias", "add", "ada", "--email", "bob+x@corp.test",
                     "--actor", ADMIN)  # fmt: skip
    assert "ada's email bob+x@corp.test is bob's email bob@corp.test to the identity" in error
    error = _refused(cli, home, "alias", "add", "ada", "--email", "b\u043eb@corp.test",
                     "--actor", ADMIN)  # fmt: skip
    assert "ada's email b\u043eb@corp.test is bob's email bob@corp.test to the identity" in error
    error = _refused(cli, home, "alias", "add", "ada", "--github", "B0B-GH", "--actor", ADMIN)
    assert "ada's github b0b-gh is bob's github bob-gh to the identity engine" in error
    assert "no actor zed" in _refused(
        cli, home, "alias", "add", "zed", "--email", "z@corp.test", "--actor", ADMIN
    )
    assert "give at least one of --email, --github and --gitlab" in _refused(
        cli, home, "alias", "add", "ada", "--actor", ADMIN
    )
    _ok(cli, home, "alias", "add", "ada", "--github", "ada-gh", "--actor", ADMIN)
    assert "ada's GitHub login is ada-gh; it cannot also be ada-2" in _refused(
        cli, home, "alias", "add", "ada", "--github", "ada-2", "--actor", ADMIN
    )
    _ok(cli, home, "add", ADMIN, "--actor", "root")
    _ok(cli, home, "grant", ADMIN, "--role", "admin", "--actor", "root")
    error = _refused(cli, home, "alias", "add", "ada", "--email", "a@x.test", "--actor", "bob")
    assert "bob cannot add aliases to ada: only an admin may" in error
    _ok(cli, home, "alias", "add", "ada", "--email", "a@x.test", "--actor", ADMIN)


def test_sync_adds_listed_aliases_and_still_refuses_removals(
    home: Path, cli: Cli, tmp_path: Path
) -> None:
    _ada(cli, home)
    more = _write(tmp_path / "more.yaml", "actors:\n  - name: ada\n"
                  "    emails: [ada@corp.test, ada@home.test]\n    github: ada-gh\n")  # fmt: skip
    before = _size(home)
    doc = _ok(cli, home, "sync", more, "--actor", ADMIN)
    assert [c["event"] for c in doc["changes"]] == ["actor.alias.added"]  # type: ignore[attr-defined]  # JSON
    assert _events(home, before)[0][2] == {
        "name": "ada", "emails": ["ada@home.test"], "github": "ada-gh", "gitlab": None,
    }  # fmt: skip
    assert _ok(cli, home, "sync", more, "--actor", ADMIN)["changes"] == []  # idempotent
    fewer = _write(tmp_path / "fewer.yaml", "actors:\n  - name: ada\n"
                   "    emails: [ada@corp.test]\n    github: ada-gh\n")  # fmt: skip
    error = _refused(cli, home, "sync", fewer, "--actor", ADMIN)
    assert "leaves out ada's email ada@home.test, but recorded aliases cannot be removed" in error


def test_a_pipeline_identity_is_recorded_with_its_kind_and_old_entries_are_persons(
    home: Path, cli: Cli, tmp_path: Path
) -> None:
    before = _size(home)
    doc = _ok(cli, home, "add", "ci-bot", "--pipeline", "--actor", ADMIN)
    assert doc["actor"]["kind"] == "pipeline"  # type: ignore[index]
    assert _events(home, before)[0][2]["kind"] == "pipeline"
    _ada(cli, home)
    assert "kind" not in _events(home, before + 1)[0][2]  # a person's entry is as it was
    assert _listed(cli, home)["ada"]["kind"] == "person"
    old: dict[str, JsonValue] = {
        "name": "old",
        "emails": [],
        "github": None,
        "gitlab": None,
        "roles": [],
        "groups": [],
    }
    assert ActorAdded.from_data(old).actor().kind is ActorKind.PERSON
    people = _write(tmp_path / "p.yaml", "actors:\n  - name: ci-2\n    kind: pipeline\n")
    _ok(cli, home, "sync", people, "--actor", ADMIN)
    assert _listed(cli, home)["ci-2"]["kind"] == "pipeline"
    flipped = _write(tmp_path / "q.yaml", "actors:\n  - name: ci-2\n")
    assert "an actor's kind cannot be changed" in _refused(cli, home, "sync", flipped,
                                                           "--actor", ADMIN)  # fmt: skip
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0


def test_a_gate_decided_after_an_alias_uses_it(home: Path, tmp_path: Path, cli: Cli) -> None:
    s = Scenario(home, tmp_path, cli)
    s.run_ok("actor", "add", "adal", "--email", "ada@corp.test", "--actor", "admin")
    s.repo.commit("PAY-1 work", {"a.py": "1"}, author=NOREPLY)
    release = s.release("1")
    code, doc = s.gate(release, "production", "--deployer", "adal")
    assert code == 1
    reason = failing(doc)["deployer-not-author"]
    assert "deployer adal cannot be told apart from the writer of 1 commit" in reason
    assert "(`changeproof actor alias add adal --github …`)" in reason
    s.run_ok("actor", "alias", "add", "adal", "--github", "ada-gh", "--actor", "admin")
    code, doc = s.gate(release, "production", "--deployer", "adal")
    assert code == 1
    assert failing(doc)["deployer-not-author"].startswith(
        "deployer adal wrote 1 commit of this release"
    )


def test_an_instance_from_before_aliases_and_kinds_upgrades_and_rebuilds_the_same(
    home: Path, cli: Cli
) -> None:
    _ada(cli, home)
    _ok(cli, home, "grant", "ada", "--role", "approver", "--actor", ADMIN)
    listed = _listed(cli, home)
    # The schema as revision 0009 left it: no alias seq, no actor kind (nor token scopes, nor
    # the server's idempotency keys and webhook deliveries).
    tamper(
        home,
        "DROP TABLE idempotency_keys",
        "DROP TABLE hook_deliveries",
        "DROP INDEX ix_actor_aliases_seq",
        "ALTER TABLE actor_aliases DROP COLUMN seq",
        "ALTER TABLE actors DROP COLUMN kind",
        "ALTER TABLE tokens DROP COLUMN scopes",
        "UPDATE alembic_version SET version_num = '0009'",
    )
    assert "init --upgrade" in cli("actor", "list", "--home", home).err
    assert cli("init", "--upgrade", "--home", home).code == 0
    assert _listed(cli, home) == listed
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0


def test_an_alias_row_edited_or_planted_behind_the_ledger_is_an_integrity_failure(
    home: Path, tmp_path: Path, cli: Cli
) -> None:
    """An alias row moved off the actor who wrote the release (or a row claiming an entry
    that added no such alias) would let a writer approve or deploy their own commit."""
    s = Changes(home, tmp_path, cli)
    release, _ = s.ready("60")  # written by ada <ada@example.com>
    s.run_ok("actor", "alias", "add", "ada", "--email", "ada@home.test", "--actor", "admin")
    change = s.open(release)
    tamper(home, "UPDATE actor_aliases SET value = 'ada-moved@example.com' "
                 "WHERE value = 'ada@example.com'")  # fmt: skip
    result = s.cli("change", "approve", change, "--as", "alan", "--home", home)
    assert result.code == 4, result.err
    assert "table actors row for entry" in result.err
    tamper(home, "UPDATE actor_aliases SET value = 'ada@example.com' "
                 "WHERE value = 'ada-moved@example.com'")  # fmt: skip
    planted = ints(home, "SELECT MAX(seq) FROM actor_aliases")[0]
    tamper(home, "INSERT INTO actor_aliases (kind, value, name, seq) "
                 f"VALUES ('email', 'pat@other.test', 'ada', {planted})")  # fmt: skip
    result = s.cli("change", "approve", change, "--as", "alan", "--home", home)
    assert result.code == 4, result.err
    assert f"table actor_aliases row for entry {planted}" in result.err
    assert _listed(cli, home)["alan"]["grants"]  # nothing else changed
