"""Activating a policy is a change a second person approves: the proposer cannot, nor anyone
the proposer made an actor or an admin; a single-admin instance may choose one-person
activation, recorded and shown; a stale proposal cannot undo a newer activation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, tamper
from tests.integration.scenario import ADA, Scenario
from tests.integration.test_policy_activation import ONLY_TICKETS, WITH_TESTS, gate, write


@pytest.fixture
def scenario(home: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Scenario:
    """Two admins: root (the instance's first) and olivia, whom root made an admin."""
    s = Scenario(home, tmp_path, cli)
    s.run_ok("actor", "add", "root", "--email", "root@example.com", "--role", "admin",
             "--actor", "setup")  # fmt: skip
    s.run_ok("actor", "add", "olivia", "--email", "olivia@example.com", "--role", "admin",
             "--actor", "root")  # fmt: skip
    s.repo.commit("PAY-1 add refunds", {"refunds.py": "x = 1\n"}, author=ADA)
    s.release("1.0")
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return s


def run(s: Scenario, *args: str | Path) -> tuple[int, dict[str, object], str]:
    result = s.cli(*args, "--home", s.home, "-o", "json")
    doc: dict[str, object] = json.loads(result.out) if result.out.strip() else {}
    return result.code, doc, result.err


def status(s: Scenario) -> dict[str, object]:
    code, doc, err = run(s, "policy", "status")
    assert code == 0, err
    return doc


def test_a_proposal_is_active_only_once_a_second_admin_approves_it(
    scenario: Scenario, tmp_path: Path
) -> None:
    s = scenario
    policy = write(tmp_path, "lax.yaml", ONLY_TICKETS)
    code, proposed, err = run(s, "policy", "activate", policy, "--actor", "olivia")
    assert code == 0, err
    assert proposed["active"] is False
    assert proposed["proposal"] == f"POL-{proposed['seq']}"
    state = status(s)
    assert state["active"] is None
    governance = state["governance"]
    assert isinstance(governance, dict)
    assert governance["mode"] == "two-person"
    pending = state["pending"]
    assert isinstance(pending, list)
    assert [(p["id"], p["proposed_by"]) for p in pending] == [(proposed["proposal"], "olivia")]

    # Nothing counts yet: the gate has no active policy.
    missing = s.cli("gate", "--release", "payments/1.0", "--env", "production", "--home", s.home)
    assert missing.code == 2
    assert "no active policy" in missing.err

    # The proposer cannot approve, by name, another case or an email alias.
    for me in ("olivia", " OLIVIA ", "olivia@example.com"):
        code, _, err = run(s, "policy", "approve", str(proposed["proposal"]), "--actor", me)
        assert code == 2
        assert "they proposed it" in err, err
    # Someone without the approver role cannot either.
    code, _, err = run(s, "policy", "approve", str(proposed["proposal"]), "--actor", "carol")
    assert code == 2
    assert "needs role admin" in err
    # Approving another digest than the one proposed is refused.
    code, _, err = run(s, "policy", "approve", str(proposed["proposal"]), "--actor", "root",
                       "--digest", "0" * 64)  # fmt: skip
    assert code == 2
    assert "differs from the one you read" in err
    assert status(s)["active"] is None

    code, approved, err = run(s, "policy", "approve", str(proposed["proposal"]), "--actor",
                              "root", "--digest", str(proposed["digest"]))  # fmt: skip
    assert code == 0, err
    assert approved["mode"] == "two-person"
    active = status(s)["active"]
    assert isinstance(active, dict)
    assert (active["digest"], active["actor"]) == (proposed["digest"], "root")
    assert status(s)["pending"] == []
    code, doc = gate(s)
    assert code == 0
    assert doc["dry_run"] is False

    check = s.cli("ledger", "rebuild", "--check", "--home", s.home)
    assert check.code == 0, check.out + check.err


def test_an_approver_the_proposer_made_an_admin_does_not_count(
    scenario: Scenario, tmp_path: Path
) -> None:
    """The sock-puppet: root made olivia an admin, so olivia cannot be root's second person."""
    s = scenario
    code, proposed, err = run(s, "policy", "activate", write(tmp_path, "p.yaml", ONLY_TICKETS),
                              "--actor", "root")  # fmt: skip
    assert code == 0, err
    code, _, err = run(s, "policy", "approve", str(proposed["proposal"]), "--actor", "olivia")
    assert code == 2
    assert "root made them an actor" in err
    # Nor does an alt that root made and root granted admin.
    s.run_ok("actor", "add", "root-alt", "--email", "alt@example.com", "--actor", "root")
    s.run_ok("actor", "grant", "root-alt", "--role", "admin", "--actor", "olivia")
    code, _, err = run(s, "policy", "approve", str(proposed["proposal"]), "--actor", "root-alt")
    assert code == 2
    assert "not independent of the proposer" in err
    assert status(s)["active"] is None


def test_a_stale_proposal_cannot_undo_a_newer_activation(
    scenario: Scenario, tmp_path: Path
) -> None:
    s = scenario
    lax = write(tmp_path, "lax.yaml", ONLY_TICKETS)
    strict = write(tmp_path, "strict.yaml", WITH_TESTS)
    _, first, _ = run(s, "policy", "activate", lax, "--actor", "olivia")
    _, second, _ = run(s, "policy", "activate", strict, "--actor", "olivia")
    assert first["proposal"] != second["proposal"]
    code, _, err = run(s, "policy", "approve", str(second["proposal"]), "--actor", "root")
    assert code == 0, err
    code, _, err = run(s, "policy", "approve", str(first["proposal"]), "--actor", "root")
    assert code == 2
    assert "would undo that activation" in err
    active = status(s)["active"]
    assert isinstance(active, dict)
    assert active["digest"] == second["digest"]


def test_a_proposal_can_be_rejected_or_withdrawn(scenario: Scenario, tmp_path: Path) -> None:
    s = scenario
    _, proposed, _ = run(s, "policy", "activate", write(tmp_path, "p.yaml", ONLY_TICKETS),
                         "--actor", "olivia")  # fmt: skip
    code, _, err = run(s, "policy", "reject", str(proposed["proposal"]), "--reason", "no",
                       "--actor", "carol")  # fmt: skip
    assert code == 2
    assert "only its proposer or an actor holding role admin" in err
    code, rejected, err = run(s, "policy", "reject", str(proposed["proposal"]), "--reason",
                              "too lax", "--actor", "olivia")  # fmt: skip
    assert code == 0, err
    assert (rejected["state"], rejected["reason"]) == ("rejected", "too lax")
    code, _, err = run(s, "policy", "approve", str(proposed["proposal"]), "--actor", "root")
    assert code == 2
    assert "was rejected already" in err


def test_a_single_admin_may_choose_one_person_activation_and_it_is_shown(
    home: Path, tmp_path: Path, cli: Cli
) -> None:
    s = Scenario(home, tmp_path, cli)
    s.run_ok("actor", "add", "root", "--email", "root@example.com", "--role", "admin",
             "--actor", "setup")  # fmt: skip
    policy = write(tmp_path, "p.yaml", ONLY_TICKETS)
    _, proposed, _ = run(s, "policy", "activate", policy, "--actor", "root")
    assert proposed["active"] is False  # two-person unless configured

    code, _, err = run(s, "policy", "governance", "--one-person", "--actor", "carol")
    assert code == 2
    assert "not an admin" in err
    code, rules, err = run(s, "policy", "governance", "--one-person", "--actor", "root")
    assert code == 0, err
    assert rules["mode"] == "one-person"
    assert isinstance(rules["set_at_seq"], int)
    text = s.cli("policy", "status", "--home", s.home)
    assert "one-person: root, the only admin, activates alone" in text.out

    _, done, _ = run(s, "policy", "activate", write(tmp_path, "q.yaml", WITH_TESTS),
                     "--actor", "root")  # fmt: skip
    assert (done["active"], done["mode"]) == (True, "one-person")

    # A second admin ends it: the setting stays recorded, but no longer applies.
    s.run_ok("actor", "add", "olivia", "--email", "olivia@example.com", "--role", "admin",
             "--actor", "root")  # fmt: skip
    governance = status(s)["governance"]
    assert isinstance(governance, dict)
    assert (governance["mode"], governance["one_person"]) == ("two-person", True)
    _, later, _ = run(s, "policy", "activate", policy, "--actor", "root")
    assert later["active"] is False
    code, _, err = run(s, "policy", "governance", "--one-person", "--actor", "root")
    assert code == 2
    assert "single admin" in err


def test_a_proposal_carries_its_simulation_for_the_approver(
    scenario: Scenario, tmp_path: Path
) -> None:
    s = scenario
    lax = write(tmp_path, "lax.yaml", ONLY_TICKETS)
    _, first, _ = run(s, "policy", "activate", lax, "--actor", "olivia")
    run(s, "policy", "approve", str(first["proposal"]), "--actor", "root")
    assert gate(s)[0] == 0
    strict = write(tmp_path, "strict.yaml", WITH_TESTS)
    code, _, err = run(s, "policy", "activate", strict, "--simulate", "--actor", "olivia")
    assert code == 0, err
    pending = status(s)["pending"]
    assert isinstance(pending, list)
    assert len(pending) == 1
    simulation = pending[0]["simulation"]
    assert simulation["examined"] == 1
    assert simulation["changed_count"] == 1
    (changed,) = simulation["changed"]
    assert (changed["old"]["allowed"], changed["new"]["allowed"]) == (True, False)


def test_admins_hidden_to_activate_alone_are_found_by_the_audit(
    scenario: Scenario, tmp_path: Path
) -> None:
    """A database administrator who deletes the admin grants puts the instance back into
    setup, where a policy is active at once. The rows are gone, so nothing names an entry
    to check; the audit rebuilds the directory from the ledger and names the activation."""
    s = scenario
    tamper(s.home, "DELETE FROM actor_grants WHERE value = 'admin'")
    code, done, err = run(s, "policy", "activate", write(tmp_path, "p.yaml", ONLY_TICKETS),
                          "--actor", "olivia")  # fmt: skip
    assert (code, done["mode"]) == (0, "setup"), err
    code, report, _ = run(s, "ledger", "audit")
    assert code == 4
    findings = report["findings"]
    assert isinstance(findings, list)
    assert [(f["seq"], f["kind"]) for f in findings] == [(done["seq"], "activation")]
    assert "activated by olivia alone (setup)" in findings[0]["message"]
    assert "two-person" in findings[0]["message"]


def test_honest_activations_pass_the_audit(scenario: Scenario, tmp_path: Path) -> None:
    s = scenario
    _, proposed, _ = run(s, "policy", "activate", write(tmp_path, "p.yaml", ONLY_TICKETS),
                         "--actor", "olivia")  # fmt: skip
    run(s, "policy", "approve", str(proposed["proposal"]), "--actor", "root")
    code, report, _ = run(s, "ledger", "audit")
    assert code == 0, report
    assert report["activations"] == 1
