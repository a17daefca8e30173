"""The CLI as a server's client (`CHANGEPROOF_URL`/`--server` and `CHANGEPROOF_TOKEN`),
against a real uvicorn on a loopback port, both backends: the same output and exit codes
as the embedded CLI, the token's actor always the acting one, nothing opened locally, and
exit 3 when the server cannot be reached."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import pytest

from tests.conftest import Cli, CliResult, ints
from tests.integration.api_scenario import Callers, add_callers, client
from tests.integration.scenario import ENV, Changes, Scenario


def _size(home: Path) -> int:
    return ints(home, "SELECT tree_size FROM ledger_head")[0]


@pytest.fixture
def gated(home: Path, tmp_path: Path, cli: Cli) -> tuple[Callers, str]:
    scenario = Scenario(home, tmp_path, cli)
    scenario.repo.commit("PAY-1 refunds", {"app.py": "print(1)\n"})
    release = scenario.release()
    scenario.activate()  # at once, while the instance has no admin
    return add_callers(cli, home), release


def _remote(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, url: str, token: str | None, *args: str
) -> CliResult:
    with monkeypatch.context() as env:
        env.setenv("CHANGEPROOF_URL", url)
        if token is None:
            env.delenv("CHANGEPROOF_TOKEN", raising=False)
        else:
            env.setenv("CHANGEPROOF_TOKEN", token)
        env.delenv("CHANGEPROOF_HOME", raising=False)
        return cli(*args)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: nothing listens there


def test_the_gate_through_a_server_says_and_exits_what_the_embedded_gate_does(
    home: Path, cli: Cli, gated: tuple[Callers, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    callers, release = gated
    token = callers.tokens["pipeline"]
    args = ("gate", "--release", release, "--env", "production")
    with monkeypatch.context() as env:
        env.setenv("CHANGEPROOF_TOKEN", token)
        local_text = cli(*args, "--home", home)
        local_json = cli(*args, "--home", home, "-o", "json")
    with client(home) as api:
        url = str(api.base_url)
        remote_text = _remote(cli, monkeypatch, url, token, *args)
        remote_json = _remote(cli, monkeypatch, url, token, *args, "-o", "json")

    assert local_text.code == remote_text.code == 1  # blocked: no review, no tests
    assert remote_text.err == ""

    def without_seq(text: str) -> str:
        return text.rsplit("decision recorded as entry", 1)[0]

    assert without_seq(remote_text.out) == without_seq(local_text.out)
    assert "BLOCKED" in remote_text.out
    local, remote = json.loads(local_json.out), json.loads(remote_json.out)
    # Two decisions later (the text call's and its own), as of two more entries.
    assert remote["decision_seq"] == local["decision_seq"] + 2
    assert remote["as_of_seq"] == local["as_of_seq"] + 2
    for moved in ("decision_seq", "as_of_seq"):
        del local[moved], remote[moved]
    assert remote == local
    assert remote["deployer"] is None


def test_ledger_status_through_a_server_names_the_server_not_its_database(
    home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    callers = add_callers(cli, home)
    local = json.loads(cli("ledger", "status", "--home", home, "-o", "json").out)
    with client(home) as api:
        url = str(api.base_url)
        done = _remote(
            cli, monkeypatch, url, callers.tokens["auditor"], "ledger", "status", "-o", "json"
        )
        text = _remote(cli, monkeypatch, url, callers.tokens["auditor"], "ledger", "status")
        flag = cli("--server", url, "ledger", "status", "-o", "json")
    assert done.code == 0, done.err
    remote = json.loads(done.out)
    assert remote.pop("server") == url.rstrip("/")
    assert "database" not in remote
    del local["database"]
    assert remote == local
    assert f"server           {url.rstrip('/')}" in text.out
    assert flag.code == 2  # --server with no token
    assert "set CHANGEPROOF_TOKEN" in flag.err


def test_the_server_acts_as_the_token_and_refuses_any_other_claim(
    home: Path, cli: Cli, gated: tuple[Callers, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    callers, release = gated
    before = _size(home)
    with client(home) as api:
        url = str(api.base_url)
        claimed = _remote(
            cli, monkeypatch, url, callers.tokens["pipeline"],
            "gate", "--release", release, "--env", "production", "--actor", "ana",
        )  # fmt: skip
        own = _remote(
            cli, monkeypatch, url, callers.tokens["pipeline"],
            "gate", "--release", release, "--env", "production", "--as", "ci", "-o", "json",
        )  # fmt: skip
        auditor = _remote(
            cli, monkeypatch, url, callers.tokens["auditor"],
            "gate", "--release", release, "--env", "production",
        )  # fmt: skip
    assert claimed.code == 2
    assert "the server acts as the actor of CHANGEPROOF_TOKEN, 'ci', never as anyone else" in (
        claimed.err
    )
    assert own.code == 1, own.err
    assert auditor.code == 2  # read only: the scope refuses before any service runs
    assert "scope" in auditor.err
    assert _size(home) == before + 1


def test_a_command_without_a_server_form_opens_nothing_locally(
    home: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    callers = add_callers(cli, home)
    before = _size(home)
    with client(home) as api:
        done = _remote(
            cli, monkeypatch, str(api.base_url), callers.tokens["admin"],
            "actor", "add", "mallory", "--home", str(home),
        )  # fmt: skip
    assert done.code == 2
    assert "does not run against a server yet" in done.err
    assert _size(home) == before


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("http://127.0.0.1:{port}", 3, "cannot reach the changeproof server at"),
        ("http://changeproof.example.com", 2, "a token is sent over https only"),
        ("ftp://127.0.0.1", 2, "expected https://HOST[:PORT]"),
    ],
)
def test_a_server_that_cannot_be_reached_or_trusted_is_an_error(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, url: str, code: int, words: str
) -> None:
    target = url.format(port=_closed_port())
    done = _remote(cli, monkeypatch, target, "cpt_x", "ledger", "status")
    assert done.code == code, done.err
    assert words in done.err
    assert "cpt_x" not in done.err


def test_a_release_from_a_repository_the_server_reads_is_the_one_the_cli_records(
    home: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = Scenario(home, tmp_path, cli)
    scenario.repo.commit("PAY-1 refunds", {"app.py": "print(1)\n"})
    scenario.repo.commit("no ticket here", {"app.py": "print(2)\n"})
    callers = add_callers(cli, home)
    config = home / "config.toml"
    config.write_text(config.read_text() + f'\n[repositories]\npayments = "{scenario.repo.path}"\n')
    token = callers.tokens["pipeline"]
    create = ("release", "create", "--service", "payments", "--name", "2.0", "--to", "main")
    with client(home) as api:
        url = str(api.base_url)
        made = _remote(cli, monkeypatch, url, token, *create, "--repo", "payments")
        again = _remote(cli, monkeypatch, url, token, *create, "--repo", "payments", "-o", "json")
        path = _remote(cli, monkeypatch, url, token, *create, "--repo", str(scenario.repo.path))
        shown = _remote(cli, monkeypatch, url, token, "release", "show", "payments/2.0")
        missing = _remote(cli, monkeypatch, url, token, "release", "show", "payments/9.9")
    local = cli("release", "show", "payments/2.0", "--home", home)

    assert made.code == 0, made.err
    assert made.out.startswith("Created payments/2.0: 2 commits, (root)..")
    assert "Commits with no ticket: 1" in made.out
    assert shown.out == local.out
    assert made.out.removeprefix("Created") == local.out.removeprefix("Release")
    doc = json.loads(again.out)
    assert (doc["created"], doc["created_by"], len(doc["commits"])) == (False, "ci", 2)
    assert path.code == 2
    assert "is not one of the instance's repositories (payments)" in path.err
    assert "--repo" in path.err
    assert missing.code == 2
    assert "no release payments/9.9" in missing.err


@pytest.mark.parametrize(
    "table",
    [
        '[repositories.payments]\npath = "/srv/git/payments.git"',
        '[repositories]\n"../up" = "/srv/git/x"',
        "[repositories]\npayments = 7",
        '[repositories]\npayments = ""',
    ],
)
def test_a_repository_table_that_is_wrong_names_itself(home: Path, cli: Cli, table: str) -> None:
    config = home / "config.toml"
    config.write_text(config.read_text() + "\n" + table + "\n")
    done = cli("release", "list", "--home", home)
    assert done.code == 2
    assert f"{config}: [repositories]" in done.err


def test_a_normal_change_is_opened_approved_gated_and_deployed_through_a_server(
    home: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    changes = Changes(home, tmp_path, cli)
    release, digest = changes.ready()
    callers = add_callers(cli, home)
    tokens = {who: _person_token(cli, home, who) for who in ("alan", "barbara", "pat")}
    ci = callers.tokens["pipeline"]
    before = _size(home)
    with client(home) as api:
        url = str(api.base_url)

        def remote(token: str, *args: str) -> CliResult:
            return _remote(cli, monkeypatch, url, token, *args)

        opened = remote(ci, "change", "open", "--release", release, "--env", ENV)
        change = opened.out.split()[1]
        markdown = remote(ci, "change", "show", change)
        html = remote(ci, "change", "show", change, "--format", "html")
        local_markdown = cli("change", "show", change, "--home", home)
        local_html = cli("change", "show", change, "--format", "html", "--home", home)
        first = remote(tokens["alan"], "change", "approve", change, "--comment", "read it")
        again = remote(tokens["alan"], "change", "approve", change)
        self_approval = remote(ci, "change", "approve", change)
        second = remote(tokens["barbara"], "change", "approve", change, "-o", "json")
        gate = remote(ci, "gate", "--release", release, "--env", ENV, "--deployer", "pat",
                      "--artifact", digest)  # fmt: skip
        deployed = remote(tokens["pat"], "deploy", "record", "--release", release, "--env", ENV,
                          "--artifact", digest, "--status", "succeeded")  # fmt: skip
        deployment = deployed.out.split(":")[0]
        checked = remote(tokens["pat"], "deploy", "check", "--deployment", deployment,
                         "--name", "smoke", "--status", "pass")  # fmt: skip
        rogue = remote(tokens["pat"], "deploy", "record", "--release", release, "--env", ENV,
                       "--artifact", "ab" * 32, "--status", "succeeded")  # fmt: skip

    assert opened.code == 0, opened.err
    headline = f"Opened {change}\n  {release} to {ENV}: pending-approval, digest "
    assert opened.out.startswith(headline)
    assert markdown.out == local_markdown.out
    assert html.out == local_html.out
    assert html.out.startswith("<!DOCTYPE html>")
    assert first.code == 0, first.err
    assert first.out.startswith(f"Approved {change} (digest ")
    assert "approved by: alan" in first.out
    assert again.out.startswith(f"Already approved {change}")
    assert self_approval.code == 2  # a pipeline token has no approve scope
    assert json.loads(second.out)["state"] == "approved"
    assert gate.code == 0, gate.out
    assert "ALLOWED" in gate.out
    assert deployed.code == 0, deployed.err
    assert f"pat deployed {release} ({digest}) to {ENV}: succeeded" in deployed.out
    assert checked.code == 0
    assert "check smoke: pass" in checked.out
    assert rogue.code == 1
    assert "UNAUTHORIZED (recorded all the same)" in rogue.err
    # opened, 2 approvals, a decision, 2 deployments and a check: nothing twice, nothing else
    assert _size(home) == before + 7


def _person_token(cli: Cli, home: Path, who: str) -> str:
    done = cli("token", "create", "--actor", who, "--as", who, "--home", home, "-o", "json")
    assert done.code == 0, done.err
    return str(json.loads(done.out)["token"])


def test_an_auditor_takes_the_checkpoint_and_the_entries_through_a_server(
    home: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    callers = add_callers(cli, home)
    token = callers.tokens["auditor"]
    kept = tmp_path / "checkpoint.txt"
    with client(home) as api:
        url = str(api.base_url)
        note = _remote(cli, monkeypatch, url, token, "ledger", "checkpoint", "--out", str(kept))
        entries = _remote(cli, monkeypatch, url, token, "ledger", "entries", "--start", "1")
        beyond = _remote(cli, monkeypatch, url, token, "ledger", "entries", "--start", "999")
    local = cli("ledger", "entries", "--start", "1", "--home", home)
    newest = cli("ledger", "checkpoint", "--home", home)

    assert note.code == 0, note.err
    assert kept.read_text(encoding="utf-8") == newest.out
    assert entries.code == 0, entries.err
    assert entries.out == local.out
    assert len(entries.out.splitlines()) == _size(home) - 1
    assert beyond.code == 2
    assert "are not in the ledger of" in beyond.err
    consistent = cli("ledger", "consistency", "--old", kept, "--home", home)
    assert consistent.code == 0, consistent.err  # the note kept is the instance's own


# An unclosed client socket is collected during this test (not traced to its maker yet: it
# does not show when the same commands run outside pytest); see the session notes.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_evidence_and_artifacts_go_to_the_server_and_the_files_into_its_vault(
    home: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = Scenario(home, tmp_path, cli)
    scenario.repo.commit("PAY-1 refunds", {"app.py": "print(1)\n"})
    release = scenario.release()
    callers = add_callers(cli, home)
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuite name="pytest" tests="2"><testcase classname="t" name="test_a"/>'
        '<testcase classname="t" name="test_b"/></testsuite>'
    )
    build = tmp_path / "payments.tar.gz"
    build.write_bytes(b"a build\n" * 1000)
    token = callers.tokens["pipeline"]
    with client(home) as api:
        url = str(api.base_url)
        sent = _remote(cli, monkeypatch, url, token, "attest", "test-results", str(junit),
                       "--release", release)  # fmt: skip
        again = _remote(cli, monkeypatch, url, token, "attest", "test-results", str(junit),
                        "--release", release, "-o", "json")  # fmt: skip
        built = _remote(cli, monkeypatch, url, token, "attest", "artifact", str(build),
                        "--release", release, "-o", "json")  # fmt: skip
        loose = _remote(cli, monkeypatch, url, token, "attest", "artifact", str(build))
        digest = json.loads(again.out)["sha256"]
    local = cli("attest", "test-results", junit, "--release", release, "--home", home)

    assert sent.code == 0, sent.err
    assert sent.out.startswith("Recorded test-run evidence ")
    assert f"for {release}: junit.xml (junit/pytest)" in sent.out
    # The same record, its summary as recorded (a record read back lists its keys sorted).
    assert sorted(local.out.replace("Already recorded", "Recorded").splitlines()) == sorted(
        sent.out.splitlines()
    )
    assert json.loads(again.out)["recorded"] is False
    kept = home / "vault" / "sha256" / digest[:2] / digest[2:]
    assert kept.read_bytes() == junit.read_bytes()
    artifact = json.loads(built.out)
    assert artifact["sha256"] == hashlib.sha256(build.read_bytes()).hexdigest()
    assert (artifact["name"], artifact["size"], artifact["release"]) == (
        "payments.tar.gz", 8000, release,
    )  # fmt: skip
    assert loose.code == 2
    assert "a server records artifacts for a release: give --release" in loose.err
