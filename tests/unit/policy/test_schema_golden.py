"""The published policy schema is generated from the registry and kept in step with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from changeproof.domain.decisions import ControlResult, ControlStatus
from changeproof.policy.builtin import registered_controls
from changeproof.policy.facts import Facts
from changeproof.policy.registry import REGISTRY, ControlSpec, Params
from changeproof.policy.schema import DIALECT, policy_json_schema, policy_schema_text
from changeproof.policy.templates import TEMPLATES

GOLDEN = Path(__file__).resolve().parents[3] / "docs" / "schemas" / "policy.schema.json"


class Role(Params):
    role: str


REGENERATE = ".venv/bin/changeproof policy schema --out docs/schemas/policy.schema.json"

BUILTIN_IDS = {"ticket-reference", "independent-review", "tests-passed", "scan-clean"}
needs_builtin_controls = pytest.mark.skipif(
    not set(registered_controls()) >= BUILTIN_IDS,
    reason="the built-in controls (package changeproof.policy.controls) are not there yet",
)


@needs_builtin_controls
def test_the_published_schema_is_the_generated_one() -> None:
    assert GOLDEN.read_text(encoding="utf-8") == policy_schema_text(), (
        f"{GOLDEN.name} is out of date with the policy model or the control registry; "
        f"regenerate it with `{REGENERATE}` and review the difference"
    )


def _never(facts: Facts, params: object) -> ControlResult:
    return ControlResult("t", ControlStatus.FAIL, "a test control")


def test_every_registered_control_has_an_entry_with_its_summary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = ControlSpec("t-role", "the deployer holds the role", Role, _never, True)
    monkeypatch.setitem(REGISTRY, spec.id, spec)
    schema = policy_json_schema()
    entry = schema["$defs"]["control.t-role"]
    assert entry["description"] == (
        "The deployer holds the role. A safety control: an urgent change may never bypass it."
    )
    # `role` comes from the environment's deployer_role, so the id alone is allowed too.
    assert entry["oneOf"][0] == {"const": "t-role"}
    assert entry["oneOf"][1]["properties"]["t-role"]["anyOf"][0]["properties"]["role"]
    assert schema["$schema"] == DIALECT
    entries = schema["$defs"]["Control"]["oneOf"]
    controls = registered_controls()
    assert [e["$ref"].removeprefix("#/$defs/control.") for e in entries] == sorted(controls)
    for control_id, registered in controls.items():
        entry = schema["$defs"][f"control.{control_id}"]
        assert entry["title"] == control_id
        assert registered.summary[1:] in entry["description"]


def _validator() -> object:
    jsonschema = pytest.importorskip("jsonschema")
    schema = policy_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@needs_builtin_controls
@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_the_templates_fit_the_schema(name: str) -> None:
    validator = _validator()
    document = json.loads(json.dumps(yaml.safe_load(TEMPLATES[name]), default=str))
    errors = [e.message for e in validator.iter_errors(document)]  # type: ignore[attr-defined]
    assert not errors


@needs_builtin_controls
@pytest.mark.parametrize(
    "controls",
    [
        ["no-such-control"],
        [{"independent-review": {"min_approvals": "two"}}],
        [{"id": "tests-passed", "params": {"extra": 1}}],
        [7],
    ],
)
def test_the_schema_refuses_what_the_loader_refuses(controls: list[object]) -> None:
    validator = _validator()
    document = {"version": 1, "environments": {"production": {"controls": controls}}}
    assert list(validator.iter_errors(document))  # type: ignore[attr-defined]
