"""First steps and typos (issue 10, section 7): an unknown environment is refused with the
closest names before anything is recorded, the first admin comes with `init`, a change the
policy asks no approval of says so, and the list commands an operator reaches for exist."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import httpx
import pytest

from changeproof.bootstrap import open_instance
from changeproof.services import instance
from tests.conftest import Cli, CliResult
from tests.integration.scenario import Scenario, compliant

POLICY_ENVS = """
version: 1
environments:
  pci-production:
    controls: [ticket-reference]
  staging:
    controls: [ticket-reference]
"""


@pytest.fixture
def scenario(home: Path, tmp_path: Path, cli: Cli) -> Scenario:
    return Scenario(home, tmp_path, cli)


def _status(s: Scenario) -> str:
    return s.run_ok("ledger", "status", "--output", "json")


def _activate(s: Scenario, text: str) -> None:
    s.policy.write_text(text)
    s.run_ok("policy", "activate", s.policy, "--actor", "admin")


@pytest.mark.parametrize("with_file", [True, False])
def test_a_gate_for_an_unknown_environment_is_refused_with_the_closest_names(
    scenario: Scenario, with_file: bool
) -> None:
    release = compliant(scenario)
    _activate(scenario, POLICY_ENVS)
    before = _status(scenario)
    extra = ["--policy", scenario.policy] if with_file else []
    result = scenario.cli("gate", "--release", release, "--env", "pci-prod",
                          "--home", scenario.home, *extra)  # fmt: skip
    assert result.code == 2, result.out + result.err
    assert "no environment 'pci-prod'" in result.err
    assert "did you mean 'pci-production'?" in result.err
    assert "BLOCKED" not in result.out
    assert _status(scenario) == before


def test_a_gate_with_a_policy_file_compares_with_that_file(scenario: Scenario) -> None:
    """The file given is the policy in force for that gate, not the active one."""
    release = compliant(scenario)
    _activate(scenario, POLICY_ENVS)
    other = scenario.tmp / "other.yaml"
    other.write_text(POLICY_ENVS.replace("pci-production", "qa"))
    result = scenario.cli("gate", "--release", release, "--env", "pci-production",
                          "--policy", other, "--home", scenario.home)  # fmt: skip
    assert result.code == 2
    assert f"({other})" in result.err
    assert "no environment 'pci-production'" in result.err


def test_change_open_and_deploy_record_for_an_unknown_environment_record_nothing(
    scenario: Scenario,
) -> None:
    release = compliant(scenario)
    _activate(scenario, POLICY_ENVS)
    before = _status(scenario)
    for args in (
        ["change", "open", "--release", release, "--env", "stagin", "--actor", "ada"],
        ["deploy", "record", "--release", release, "--env", "pci-prod", "--artifact",
         "a" * 64, "--status", "succeeded", "--as", "pat"],
    ):  # fmt: skip
        result = scenario.cli(*args, "--home", scenario.home)
        assert result.code == 2, result.out + result.err
        assert "the instance's active policy has no environment" in result.err
        assert "did you mean" in result.err
        assert "its environments: pci-production, staging" in result.err
    assert _status(scenario) == before


def test_without_any_policy_deploy_record_keeps_recording(scenario: Scenario) -> None:
    """With no policy there is nothing to compare a name with: the deployment is recorded
    (and flagged unauthorized), as before."""
    release = compliant(scenario)
    result = scenario.cli("deploy", "record", "--release", release, "--env", "anywhere",
                          "--artifact", "a" * 64, "--status", "succeeded", "--as", "pat",
                          "--home", scenario.home, "--output", "json")  # fmt: skip
    assert result.code == 1, result.err
    assert json.loads(result.out)["authorized"] is False


def _init(cli: Cli, where: Path, database_url: str | None, *extra: str) -> CliResult:
    args: list[str | Path] = ["init", "--home", where, "--origin", "test.example/ledger", *extra]
    if database_url is not None:
        args += ["--database-url", database_url]
    return cli(*args)


def test_init_makes_the_first_admin_who_then_adds_the_others(
    tmp_path: Path, database_url: str | None, cli: Cli
) -> None:
    where = tmp_path / "instance"
    result = _init(cli, where, database_url, "--actor", "root", "--admin", "alice",
                   "--email", "alice@example.com", "--output", "json")  # fmt: skip
    assert result.code == 0, result.err
    assert json.loads(result.out)["admin"] == "alice"
    people = json.loads(cli("actor", "list", "--home", where, "--output", "json").out)
    alice = next(p for p in people if p["name"] == "alice")
    assert alice["roles"] == ["admin"]
    assert alice["emails"] == ["alice@example.com"]
    # The instance has left setup: only the admin grants roles now.
    refused = cli("actor", "add", "bob", "--role", "approver", "--actor", "mallory",
                  "--home", where)  # fmt: skip
    assert refused.code == 2
    assert "only an admin may" in refused.err
    added = cli("actor", "add", "bob", "--role", "approver", "--actor", "alice", "--home", where)
    assert added.code == 0, added.err


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--admin", "al ice"], "actor name 'al ice' is not"),
        (["--admin", "alice", "--email", "not-an-email"], "not-an-email"),
        (["--admin", "root"], "root cannot grant role admin to root"),
        (["--email", "alice@example.com"], "--email goes with --admin NAME"),
    ],
)
def test_init_with_a_bad_first_admin_makes_no_instance(
    tmp_path: Path, cli: Cli, extra: list[str], words: str
) -> None:
    where = tmp_path / "instance"
    result = _init(cli, where, None, "--actor", "root", *extra)
    assert result.code == 2, result.out + result.err
    assert words in result.err
    assert not where.exists()


def test_a_change_the_policy_asks_no_approval_of_is_never_called_approved(
    scenario: Scenario,
) -> None:
    release = compliant(scenario)
    _activate(scenario, POLICY_ENVS)
    opened = scenario.cli("change", "open", "--release", release, "--env", "staging",
                          "--actor", "ada", "--home", scenario.home)  # fmt: skip
    assert opened.code == 0, opened.err
    assert "staging: no-approval-required" in opened.out
    assert "approved" not in opened.out
    shown = json.loads(scenario.run_ok("change", "show", "CHG-" + _last_change(scenario),
                                       "--format", "json"))  # fmt: skip
    assert shown["state"] == "no-approval-required"
    assert shown["approval_status"] is None
    listed = json.loads(scenario.run_ok("change", "list", "--output", "json"))
    assert [c["state"] for c in listed] == ["no-approval-required"]


def _last_change(s: Scenario) -> str:
    listed = json.loads(s.run_ok("change", "list", "--output", "json"))
    return str(listed[-1]["id"]).removeprefix("CHG-")


def test_approving_another_digest_names_the_current_one_and_claims_no_refresh(
    scenario: Scenario,
) -> None:
    release = compliant(scenario)
    scenario.run_ok("actor", "add", "alan", "--role", "approver", "--actor", "admin")
    opened = json.loads(scenario.run_ok("change", "open", "--release", release, "--env",
                                        "production", "--actor", "ada", "-o", "json"))  # fmt: skip
    before = _status(scenario)
    result = scenario.cli("change", "approve", opened["id"], "--as", "alan", "--digest",
                          "f" * 64, "--home", scenario.home)  # fmt: skip
    assert result.code == 2
    assert f"current RFC digest is {opened['digest']}, not {'f' * 64}" in result.err
    assert "differs from the one the approver read" in result.err
    assert "refreshed" not in result.err
    assert _status(scenario) == before


def test_release_list_decision_list_and_deploy_list_until(scenario: Scenario) -> None:
    release = compliant(scenario)
    scenario.run_ok("release", "create", "--service", "ledgerd", "--name", "7",
                    "--repo", scenario.repo.path, "--to", "main")  # fmt: skip
    _activate(scenario, POLICY_ENVS)

    listed = json.loads(scenario.run_ok("release", "list", "--output", "json"))
    assert [r["release"] for r in listed] == [release, "ledgerd/7"]
    assert listed[0]["commit_count"] == 2
    only = json.loads(scenario.run_ok("release", "list", "--service", "ledgerd", "-o", "json"))
    assert [r["release"] for r in only] == ["ledgerd/7"]
    assert "ledgerd/7" in scenario.run_ok("release", "list")

    allowed, _ = _gate(scenario, release, "staging")
    _activate(scenario, POLICY_ENVS.replace("[ticket-reference]", "[tests-passed]", 1))
    blocked, _ = _gate(scenario, "ledgerd/7", "pci-production")
    decisions = json.loads(scenario.run_ok("decision", "list", "-o", "json"))
    assert [(d["seq"], d["allowed"]) for d in decisions] == [(allowed, True), (blocked, False)]
    assert decisions[0]["environment"] == "staging"
    for flags, seqs in (
        (["--allowed"], [allowed]),
        (["--blocked"], [blocked]),
        (["--release", "ledgerd/7"], [blocked]),
        (["--env", "staging"], [allowed]),
        (["--env", "staging", "--blocked"], []),
    ):
        found = json.loads(scenario.run_ok("decision", "list", *flags, "-o", "json"))
        assert [d["seq"] for d in found] == seqs, flags
    text = scenario.run_ok("decision", "list")
    assert "BLOCKED" in text
    assert "allowed" in text

    deployed = scenario.cli("deploy", "record", "--release", release, "--env", "staging",
                            "--artifact", "a" * 64, "--status", "succeeded", "--as", "pat",
                            "--home", scenario.home)  # fmt: skip
    assert deployed.code == 1, deployed.err  # recorded, flagged: no decision names the artifact
    for until, count in (("2000-01-01", 0), ("2999-01-01", 1), ("2999-01-01T00:00:00Z", 1)):
        found = json.loads(scenario.run_ok("deploy", "list", "--until", until, "-o", "json"))
        assert len(found) == count, until
    bad = scenario.cli("deploy", "list", "--until", "tomorrow", "--home", scenario.home)
    assert bad.code == 2
    assert "--until 'tomorrow' is not a date or time" in bad.err
    backwards = scenario.cli("deploy", "list", "--since", "2026-12-02", "--until", "2026-12-01",
                             "--home", scenario.home)  # fmt: skip
    assert backwards.code == 2
    assert "--until must be later than --since" in backwards.err


def _gate(s: Scenario, release: str, env: str, *extra: str | Path) -> tuple[int, bool]:
    result = s.cli("gate", "--release", release, "--env", env, "--home", s.home,
                   "--output", "json", *extra)  # fmt: skip
    assert result.code in (0, 1), result.err
    doc = json.loads(result.out)
    return int(doc["decision_seq"]), bool(doc["allowed"])


def test_init_makes_the_folder_0700_and_the_config_0600_whatever_the_umask(
    tmp_path: Path, database_url: str | None, cli: Cli
) -> None:
    where = tmp_path / "instance"
    old = os.umask(0)
    try:
        result = _init(cli, where, database_url, "--actor", "root")
    finally:
        os.umask(old)
    assert result.code == 0, result.err
    assert stat.S_IMODE(where.stat().st_mode) == 0o700
    assert stat.S_IMODE((where / "config.toml").stat().st_mode) == 0o600
    assert stat.S_IMODE((where / "signing-key.pem").stat().st_mode) == 0o600


SECRET = "s3cr3t-pa55word"  # noqa: S105 - a test password, for trust auth


def test_a_database_password_comes_from_a_variable_or_a_file_and_is_never_shown(
    tmp_path: Path, database_url: str | None, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = tmp_path / "instance"
    monkeypatch.setenv("CP_TEST_DB_PASSWORD", SECRET)
    if database_url is None:  # SQLite has no password to read
        result = _init(cli, where, None, "--database-password-env", "CP_TEST_DB_PASSWORD")
        assert result.code == 2
        assert "only read for a PostgreSQL database_url" in result.err
        assert not where.exists()
        return
    result = _init(cli, where, database_url, "--database-password-env", "CP_TEST_DB_PASSWORD",
                   "--output", "json")  # fmt: skip
    assert result.code == 0, result.err
    config_text = (where / "config.toml").read_text()
    assert 'database_password_env = "CP_TEST_DB_PASSWORD"' in config_text
    assert SECRET not in config_text + result.out + result.err
    # The password reaches the connection, in memory only.
    assert instance.database_url(instance.load_config(where)).password == SECRET
    status = cli("ledger", "status", "--home", where)
    assert status.code == 0, status.err
    assert SECRET not in status.out + status.err

    monkeypatch.delenv("CP_TEST_DB_PASSWORD")
    missing = cli("ledger", "status", "--home", where)
    assert missing.code == 2
    assert "the database password variable CP_TEST_DB_PASSWORD is not set or empty" in missing.err

    secret_file = tmp_path / "db-password"
    secret_file.write_text(SECRET + "\n")
    (where / "config.toml").write_text(
        config_text.replace(
            'database_password_env = "CP_TEST_DB_PASSWORD"',
            f'database_password_file = "{secret_file}"',
        )
    )
    assert instance.database_url(instance.load_config(where)).password == SECRET
    assert cli("ledger", "status", "--home", where).code == 0
    secret_file.write_text("")
    empty = cli("ledger", "status", "--home", where)
    assert empty.code == 2
    assert f"the database password file {secret_file} is empty" in empty.err

    # A password in the URL as well as elsewhere is ambiguous: refused, and not quoted.
    with_password = database_url.replace("postgres@", f"postgres:{SECRET}@")
    other = tmp_path / "other"
    monkeypatch.setenv("CP_TEST_DB_PASSWORD", SECRET)
    twice = _init(cli, other, with_password, "--database-password-env", "CP_TEST_DB_PASSWORD")
    assert twice.code == 2
    assert "give it one way" in twice.err
    assert SECRET not in twice.out + twice.err


def _export_description(s: Scenario, rfc_base_url: str | None) -> tuple[str, str]:
    """Open a change, export it to a ServiceNow answering as its Table API documents, and
    return the description sent and the change's digest."""
    release = compliant(s)
    _activate(s, POLICY_ENVS)
    opened = json.loads(s.run_ok("change", "open", "--release", release, "--env", "staging",
                                 "--actor", "ada", "-o", "json"))  # fmt: skip
    extra = "" if rfc_base_url is None else f'\n[changes]\nrfc_base_url = "{rfc_base_url}"\n'
    with (s.home / "config.toml").open("a", encoding="utf-8") as config:
        config.write('\n[servicenow]\nbase_url = "https://example.service-now.com"\n'
                     f'token_env = "SERVICENOW_TOKEN"\n{extra}')  # fmt: skip
    sent: list[dict[str, str]] = []

    def servicenow(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"result": []})
        sent.append(json.loads(request.content))
        return httpx.Response(201, json={"result": {"sys_id": "a" * 32, "number": "CHG0030001"}})

    with open_instance(s.home) as opened_instance:
        opened_instance.change_exports.export(
            opened["id"],
            "servicenow",
            by="ada",
            environ={"SERVICENOW_TOKEN": "t0ken-value"},
            transport=httpx.MockTransport(servicenow),
            sleep=lambda _: None,
        )
    assert len(sent) == 1
    return sent[0]["description"], str(opened["digest"])


def test_an_exported_ticket_links_to_the_rfc_where_a_base_url_is_configured(
    scenario: Scenario,
) -> None:
    description, _ = _export_description(scenario, "https://changeproof.example.com/changes/")
    assert "https://changeproof.example.com/changes/CHG-" in description


def test_without_a_base_url_the_ticket_names_the_change_and_its_digest(
    scenario: Scenario,
) -> None:
    description, digest = _export_description(scenario, None)
    assert "changeproof change CHG-" in description
    assert f"sha256:{digest}" in description
    assert "https://" not in description.split("\n", 1)[0]
