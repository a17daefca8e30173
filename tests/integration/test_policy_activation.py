"""The instance's active policy: `policy activate` records old and new digest in the ledger,
`gate` falls back to it, `policy status` shows it, and the projection rebuilds from the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, query
from tests.integration.scenario import ADA, Scenario

ONLY_TICKETS = """
version: 1
tickets: jira:PAY
environments:
  production:
    controls:
      - ticket-reference
"""

WITH_TESTS = ONLY_TICKETS + "      - tests-passed\n"


@pytest.fixture
def scenario(home: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Scenario:
    """A release with a ticket and no tests, gated from a folder with no changeproof.yaml."""
    s = Scenario(home, tmp_path, cli)
    s.repo.commit("PAY-1 add refunds", {"refunds.py": "x = 1\n"}, author=ADA)
    s.release("1.0")
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return s


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def activate(s: Scenario, policy: Path) -> dict[str, object]:
    result = s.cli(
        "policy", "activate", policy, "--home", s.home, "--actor", "olivia", "-o", "json"
    )
    assert result.code == 0, result.err
    doc: dict[str, object] = json.loads(result.out)
    return doc


def gate(s: Scenario, *extra: str | Path) -> tuple[int, dict[str, object]]:
    result = s.cli("gate", "--release", "payments/1.0", "--env", "production",
                   "--home", s.home, "-o", "json", *extra)  # fmt: skip
    assert result.code in (0, 1), result.err
    doc: dict[str, object] = json.loads(result.out)
    return result.code, doc


def status(s: Scenario) -> dict[str, object]:
    result = s.cli("policy", "status", "--home", s.home, "-o", "json")
    assert result.code == 0, result.err
    doc: dict[str, object] = json.loads(result.out)
    return doc


def event(s: Scenario, seq: object) -> dict[str, object]:
    ((body,),) = query(s.home, f"SELECT body FROM ledger_events WHERE seq = {int(str(seq))}")
    assert isinstance(body, bytes | memoryview)  # memoryview on PostgreSQL
    raw = bytes(body)
    doc: dict[str, object] = json.loads(raw)
    return doc


def test_gate_without_a_policy_file_uses_the_activated_policy(
    scenario: Scenario, tmp_path: Path
) -> None:
    s = scenario
    before = status(s)
    assert (before["active"], before["activations"], before["pending"]) == (None, 0, [])
    missing = s.cli("gate", "--release", "payments/1.0", "--env", "production", "--home", s.home)
    assert missing.code == 2
    assert "no active policy" in missing.err
    assert "changeproof policy activate" in missing.err

    lax = write(tmp_path, "lax.yaml", ONLY_TICKETS)
    done = activate(s, lax)
    assert done["recorded"] is True
    assert done["previous_digest"] is None
    code, doc = gate(s)
    assert code == 0, doc
    assert doc["policy_digest"] == done["digest"]
    replay = s.cli("decision", "replay", str(doc["decision_seq"]), "--home", s.home)
    assert replay.code == 0, replay.out + replay.err

    active = status(s)["active"]
    assert isinstance(active, dict)
    assert active["digest"] == done["digest"]
    assert active["seq"] == done["seq"]
    assert active["actor"] == "olivia"
    assert active["source"] == str(lax)
    text = s.cli("policy", "status", "--home", s.home)
    assert f"Active policy sha256:{done['digest']}" in text.out
    assert f"activated at entry {done['seq']}" in text.out
    assert "by olivia" in text.out


def test_a_second_activation_records_the_old_and_new_digest(
    scenario: Scenario, tmp_path: Path, cli: Cli
) -> None:
    s = scenario
    first = activate(s, write(tmp_path, "lax.yaml", ONLY_TICKETS))
    second = activate(s, write(tmp_path, "strict.yaml", WITH_TESTS))
    assert second["recorded"] is True
    assert second["previous_digest"] == first["digest"]
    assert second["digest"] != first["digest"]
    entry = event(s, second["seq"])
    assert entry["type"] == "policy.activated"
    data = entry["data"]
    assert isinstance(data, dict)
    assert (data["digest"], data["previous_digest"]) == (second["digest"], first["digest"])
    assert data["policy"]["environments"]["production"]["controls"][1]["id"] == "tests-passed"

    code, doc = gate(s)  # now under the stricter policy: no test results, blocked
    assert code == 1
    assert doc["policy_digest"] == second["digest"]
    assert status(s)["activations"] == 2

    again = activate(s, tmp_path / "strict.yaml")
    assert again["recorded"] is False
    assert again["seq"] is None
    assert status(s)["activations"] == 2

    back = activate(s, tmp_path / "lax.yaml")
    assert (back["digest"], back["previous_digest"]) == (first["digest"], second["digest"])
    assert gate(s)[0] == 0

    check = cli("ledger", "rebuild", "--check", "--home", s.home)
    assert check.code == 0, check.out + check.err
    assert cli("ledger", "verify", "--home", s.home).code == 0


def test_a_policy_file_other_than_the_active_one_is_only_a_dry_run(
    scenario: Scenario, tmp_path: Path
) -> None:
    """`gate --policy lax.yaml` or a ./changeproof.yaml used to replace the active policy, and
    a deployment under that decision was recorded as authorized. Now it is evaluated and
    shown, recorded nowhere, and authorizes nothing."""
    s = scenario
    strict = activate(s, write(tmp_path, "strict.yaml", WITH_TESTS))
    code, doc = gate(s)
    assert code == 1
    assert doc["dry_run"] is False
    assert isinstance(doc["decision_seq"], int)
    size = s.cli("ledger", "status", "--home", s.home, "-o", "json").out

    here = write(Path.cwd(), "changeproof.yaml", ONLY_TICKETS)
    code, doc = gate(s)
    assert code == 0, doc  # what the lax policy would decide, exit code as usual
    assert doc["dry_run"] is True
    assert doc["decision_seq"] is None
    assert doc["active_policy_digest"] == strict["digest"]
    text = s.cli("gate", "--release", "payments/1.0", "--env", "production", "--home", s.home)
    assert text.code == 0
    assert "DRY RUN" in text.out
    assert "authorizes no deployment" in text.out
    here.unlink()

    lax = write(tmp_path, "lax.yaml", ONLY_TICKETS)
    code, doc = gate(s, "--policy", lax)
    assert (code, doc["dry_run"], doc["decision_seq"]) == (0, True, None)
    assert s.cli("ledger", "status", "--home", s.home, "-o", "json").out == size

    attested = s.cli("gate", "--release", "payments/1.0", "--env", "production", "--home",
                     s.home, "--policy", lax, "--attestation", tmp_path / "vsa.json")  # fmt: skip
    assert attested.code == 2
    assert "dry run" in attested.err
    assert not (tmp_path / "vsa.json").exists()

    # A deployment after the dry run is recorded, flagged: no decision allowed it.
    artifact = "a" * 64
    deployed = s.cli("deploy", "record", "--release", "payments/1.0", "--env", "production",
                     "--artifact", artifact, "--status", "succeeded", "--home", s.home,
                     "-o", "json", "--actor", "ada")  # fmt: skip
    assert deployed.code == 1, deployed.err
    record = json.loads(deployed.out)
    assert record["authorized"] is False
    assert record["policy_active"] is None

    # The file with the active policy's own digest is the active policy: recorded.
    code, doc = gate(s, "--policy", tmp_path / "strict.yaml")
    assert (code, doc["dry_run"]) == (1, False)
    assert isinstance(doc["decision_seq"], int)


def test_a_bad_policy_is_not_activated(scenario: Scenario, tmp_path: Path) -> None:
    s = scenario
    bad = write(tmp_path, "bad.yaml", "version: 1\nenvironments: {production: {controls: [x]}}\n")
    result = s.cli("policy", "activate", bad, "--home", s.home)
    assert result.code == 2
    assert f"{bad}:2:" in result.err
    after = status(s)
    assert (after["active"], after["activations"], after["pending"]) == (None, 0, [])
