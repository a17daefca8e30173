"""The published event schemas are the code's, and every recorded body meets its own.

docs/schemas/events holds one JSON Schema per event type, written by tools/event_schemas.py
from the payload types. The committed ledger fixture holds every event type as the previous
code wrote it; its bodies must validate against today's schemas, read by a JSON Schema
validator that knows nothing of the payload types.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs installed

from changeproof.domain.payloads import event_schema, event_types

ROOT = Path(__file__).resolve().parents[3]
SCHEMAS = ROOT / "docs" / "schemas" / "events"
ENTRIES = ROOT / "tests" / "fixtures" / "ledger-v1" / "golden" / "entries.json"


def _bodies() -> list[dict[str, object]]:
    entries = json.loads(ENTRIES.read_text(encoding="utf-8"))
    return [json.loads(entry["body"]) for entry in entries]


def _validator(event_type: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{event_type}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@pytest.mark.parametrize("event_type", list(event_types()))
def test_the_published_schema_is_the_one_the_code_generates(event_type: str) -> None:
    committed = json.loads((SCHEMAS / f"{event_type}.schema.json").read_text(encoding="utf-8"))
    assert committed == event_schema(event_type), "run tools/event_schemas.py and commit"


def test_no_schema_is_published_for_a_type_no_code_records() -> None:
    published = {path.name.removesuffix(".schema.json") for path in SCHEMAS.glob("*.json")}
    assert published == set(event_types())


def test_every_event_type_recorded_has_a_payload_type_and_a_schema() -> None:
    recorded = {str(body["type"]) for body in _bodies()}
    assert recorded <= set(event_types()), sorted(recorded - set(event_types()))


@pytest.mark.parametrize("body", _bodies(), ids=lambda b: f"{b['seq']}-{b['type']}")
def test_every_recorded_body_validates_against_its_schema(body: dict[str, object]) -> None:
    event_type = str(body["type"])
    if event_type not in event_types():
        pytest.fail(f"{event_type} has no payload type")
    errors = sorted(_validator(event_type).iter_errors(body["data"]), key=str)
    assert errors == [], [e.message for e in errors]


def test_a_body_that_breaks_its_schema_is_caught() -> None:
    body = next(b for b in _bodies() if b["type"] == "deployment.checked")
    data = dict(body["data"])  # type: ignore[call-overload]
    data["status"] = "maybe"
    data["surprise"] = 1
    messages = [e.message for e in _validator("deployment.checked").iter_errors(data)]
    assert any("'maybe' is not one of" in m for m in messages)
    assert any("surprise" in m for m in messages)
