"""`changeproof policy …` as a user runs it: exit codes, the words and lines they read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from changeproof.policy.builtin import registered_controls
from changeproof.policy.schema import policy_schema_text
from changeproof.policy.templates import template
from tests.conftest import Cli

pytestmark = pytest.mark.skipif(
    not {"ticket-reference", "deployer-role"} <= set(registered_controls()),
    reason="the built-in controls (package changeproof.policy.controls) are not there yet",
)

PCI_PRODUCTION = [
    "ticket-reference",
    "independent-review",
    "tests-passed",
    "scan-clean",
    "expert-review",
    "artifact-integrity",
    "deployer-role",
    "deployer-not-author",
]


@pytest.fixture
def pci(tmp_path: Path, cli: Cli) -> Path:
    policy = tmp_path / "changeproof.yaml"
    result = cli("policy", "init", "--template", "pci", "--out", policy)
    assert result.code == 0, result.err
    assert str(policy) in result.out
    return policy


def test_init_then_validate_passes(pci: Path, cli: Cli) -> None:
    result = cli("policy", "validate", "--policy", pci)
    assert result.code == 0, result.err
    assert result.out.startswith(f"OK: {pci} is a valid policy")
    digest = json.loads(cli("policy", "validate", "--policy", pci, "-o", "json").out)["digest"]
    assert f"digest sha256:{digest}" in result.out


def test_init_refuses_to_overwrite_and_prints_without_out(pci: Path, cli: Cli) -> None:
    before = pci.read_bytes()
    again = cli("policy", "init", "--template", "pci", "--out", pci)
    assert again.code == 2
    assert "already exists" in again.err
    assert pci.read_bytes() == before
    printed = cli("policy", "init")
    assert printed.code == 0
    assert printed.out == template("pci") == before.decode()
    assert cli("policy", "init", "--template", "nope").code == 2


def test_validate_finds_the_policy_in_the_working_folder(
    pci: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(pci.parent)
    assert cli("policy", "validate").code == 0
    pci.unlink()
    missing = cli("policy", "validate")
    assert missing.code == 2
    assert "no policy file changeproof.yaml" in missing.err


def test_a_bad_policy_exits_2_naming_file_line_and_key(tmp_path: Path, cli: Cli) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\n"
        "environments:\n"
        "  production:\n"
        "    controls:\n"
        "      - ticket-reference\n"
        "      - independent-review: {min_approvals: two}\n"
        "      - four-eyes\n",
        encoding="utf-8",
    )
    result = cli("policy", "validate", "--policy", bad)
    assert result.code == 2
    lines = result.err.splitlines()
    assert lines[0].startswith(
        f"error: {bad}:6: environments.production.controls[1].independent-review.min_approvals: "
    )
    assert lines[1].startswith(f"error: {bad}:7: environments.production.controls[2]: ")
    assert "unknown control 'four-eyes'" in lines[1]
    assert lines[2].startswith("hint: ")
    document = json.loads(cli("policy", "validate", "--policy", bad, "-o", "json").out)
    assert document["ok"] is False
    assert [(e["line"], e["key"]) for e in document["errors"]] == [
        (6, "environments.production.controls[1].independent-review.min_approvals"),
        (7, "environments.production.controls[2]"),
    ]
    explained = cli("policy", "explain", "--env", "production", "--policy", bad)
    assert explained.code == 2
    assert f"{bad}:6:" in explained.err


def test_a_yaml_bomb_exits_2(tmp_path: Path, cli: Cli) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text('a: &a ["lol", "lol"]\nb: [*a, *a]\n', encoding="utf-8")
    result = cli("policy", "validate", "--policy", bomb)
    assert result.code == 2
    assert f"error: {bomb}:1: a: anchors" in result.err


def test_explain_lists_the_controls_of_an_environment(pci: Path, cli: Cli) -> None:
    result = cli("policy", "explain", "--env", "pci-production", "--policy", pci, "-o", "json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    ids = [c["id"] for c in document["controls"]]
    assert [i for i in ids if i in PCI_PRODUCTION] == PCI_PRODUCTION
    role = next(c for c in document["controls"] if c["id"] == "deployer-role")
    assert role["params"] == {"role": "production-pusher"}
    assert role["safety"] is True
    assert document["deployer_role"] == "production-pusher"
    assert {a["experts"] for a in document["high_risk"]} == {"dba", "payments-owners"}
    text = cli("policy", "explain", "--env", "pci-production", "--policy", pci)
    assert text.code == 0
    assert "Deployer role: production-pusher" in text.out
    assert "  deployer-not-author: " in text.out
    assert "db/migrations/** (experts: dba)" in text.out


def test_explain_an_unknown_environment_exits_2(pci: Path, cli: Cli) -> None:
    result = cli("policy", "explain", "--env", "qa", "--policy", pci)
    assert result.code == 2
    assert "no environment 'qa'" in result.err


def test_schema_prints_or_writes_the_generated_schema(tmp_path: Path, cli: Cli) -> None:
    printed = cli("policy", "schema")
    assert printed.code == 0
    assert printed.out == policy_schema_text()
    target = tmp_path / "policy.schema.json"
    assert cli("policy", "schema", "--out", target).code == 0
    assert target.read_text(encoding="utf-8") == printed.out
