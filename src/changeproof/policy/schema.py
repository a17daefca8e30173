"""The policy file's JSON Schema (draft 2020-12), generated from the model and the registry.

Never written by hand: the Policy model gives the shape, and each registered control gives
its own entry (its id, summary and parameter model), so an editor validating
changeproof.yaml knows every control and its parameters. `changeproof policy schema`
prints it; docs/schemas/policy.schema.json is a copy a test keeps in step.

A control entry takes three forms, all in the schema:

    - tests-passed                      # the id alone, when no parameter is required
    - tests-passed: {min_tests: 10}     # the id as a key, its parameters as the value
    - {id: tests-passed, params: {min_tests: 10}}
"""

from __future__ import annotations

import copy
import json
from typing import Final

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaValue, models_json_schema

from changeproof.policy.builtin import registered_controls
from changeproof.policy.model import ControlRef, Policy
from changeproof.policy.registry import ControlSpec

__all__ = ["CONTEXT_PARAMS", "policy_json_schema", "policy_schema_text"]

DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
# Parameters the gate fills in from the policy itself (see meaning.context_params):
# a control needing them may be listed without them.
CONTEXT_PARAMS: Final = frozenset({"role", "windows"})
_MODEL_PREFIX: Final = "changeproof__policy__model__"


def policy_json_schema() -> JsonSchemaValue:
    """The JSON Schema of a policy file, with one entry per registered control."""
    controls = sorted(registered_controls().values(), key=lambda spec: spec.id)
    models: list[type[BaseModel]] = [Policy, *{spec.params: None for spec in controls}]
    refs, generated = models_json_schema([(m, "validation") for m in models])
    defs: dict[str, JsonSchemaValue] = generated.get("$defs", {})
    params_defs = {
        spec.params: _def_name(refs[(spec.params, "validation")]["$ref"]) for spec in controls
    }
    control_refs = []
    for spec in controls:
        name = f"control.{spec.id}"
        defs[name] = _control(spec, defs[params_defs[spec.params]])
        control_refs.append({"$ref": f"#/$defs/{name}"})
    for unused in {*params_defs.values(), ControlRef.__name__}:
        defs.pop(unused, None)
    defs["Control"] = (
        {
            "description": "One control the environment requires: a registered control's id, "
            "optionally with its parameters.",
            "oneOf": control_refs,
        }
        if control_refs
        else {"description": "No controls are registered.", "not": {}}
    )
    defs["Environment"]["properties"]["controls"]["items"] = {"$ref": "#/$defs/Control"}
    root = defs.pop(_def_name(refs[(Policy, "validation")]["$ref"]))
    renamed = {name: _short_name(name) for name in defs}
    if len(set(renamed.values())) < len(renamed):  # short names would collide: keep pydantic's
        renamed = {name: name for name in defs}
    root, defs = (
        _renamed(root, renamed),
        {renamed[n]: _renamed(d, renamed) for n, d in defs.items()},
    )
    return {
        "$schema": DIALECT,
        "title": "changeproof policy",
        "description": "A changeproof policy file (changeproof.yaml): ticket patterns, "
        "high-risk paths and their experts, standard changes, freeze windows, the controls "
        "each environment requires, and custom rules.",
        **{k: v for k, v in root.items() if k not in ("title", "description")},
        "$defs": dict(sorted(defs.items())),
    }


def policy_schema_text() -> str:
    """The schema as `changeproof policy schema` prints it and the docs keep it."""
    return json.dumps(policy_json_schema(), indent=2, ensure_ascii=False) + "\n"


def _def_name(ref: str) -> str:
    return ref.removeprefix("#/$defs/")


def _short_name(name: str) -> str:
    """pydantic's collision names (`changeproof__policy__model__FreezeWindow`) made readable."""
    if "__" not in name:
        return name
    if name.startswith(_MODEL_PREFIX):
        return name.removeprefix(_MODEL_PREFIX)
    return ".".join(name.split("__")[-2:])  # e.g. freeze.FreezeWindow, a control's own model


def _renamed(value: JsonSchemaValue, names: dict[str, str]) -> JsonSchemaValue:
    def walk(node: object) -> object:
        if isinstance(node, dict):
            return {
                k: "#/$defs/" + names.get(_def_name(v), _def_name(v))
                if k == "$ref" and isinstance(v, str)
                else walk(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    result = walk(value)
    assert isinstance(result, dict)
    return result


def _control(spec: ControlSpec, params: JsonSchemaValue) -> JsonSchemaValue:
    params = copy.deepcopy(params)
    params.pop("title", None)
    required = [p for p in params.get("required", ()) if p not in CONTEXT_PARAMS]
    if required:
        params["required"] = required
    else:
        params.pop("required", None)
    description = spec.summary[:1].upper() + spec.summary[1:] + "."
    if spec.safety:
        description += " A safety control: an urgent change may never bypass it."
    forms: list[JsonSchemaValue] = []
    if not required:
        forms.append({"const": spec.id})
    forms.append(
        {
            "type": "object",
            "properties": {spec.id: params if required else {"anyOf": [params, {"type": "null"}]}},
            "required": [spec.id],
            "additionalProperties": False,
        }
    )
    forms.append(
        {
            "type": "object",
            "properties": {"id": {"const": spec.id}, "params": params},
            "required": ["id", "params"] if required else ["id"],
            "additionalProperties": False,
        }
    )
    return {"title": spec.id, "description": description, "oneOf": forms}
