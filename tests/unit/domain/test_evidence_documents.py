"""Evidence as every reader version recorded it decodes through today's types, byte for byte.

tests/fixtures/evidence-shapes.json holds one evidence.recorded body per shape any earlier
reader wrote (made by tools/evidence_shapes.py from each commit's own readers): test runs
without suite names, reviews without a base or a webhook-signature check, GitHub's and
GitLab's own keys, links, SLSA v0.2 and v1 envelopes and the rest. Each must decode, encode
back to the same canonical JSON, and validate against the published schema.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # no stubs installed
from pydantic import MISSING

from changeproof.domain.canonical import canonical_json
from changeproof.domain.errors import InputError
from changeproof.domain.events import ActorId, Event, decode_body
from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.domain.evidence_documents import (
    EVIDENCE_DOCUMENTS,
    EvidenceRecorded,
    ProvenanceDetail,
    ReviewDetail,
    ReviewSummary,
    TestRunSummary,
    decode_documents,
)
from changeproof.domain.payloads import event_schema

ROOT: Final = Path(__file__).resolve().parents[3]
SHAPES: Final = json.loads(
    (ROOT / "tests" / "fixtures" / "evidence-shapes.json").read_text(encoding="utf-8")
)


def _id(shape: dict[str, Any]) -> str:
    return f"{shape['data']['kind']}-{shape['first_written_by']}-{shape['input']}"


def _body(kind: str) -> dict[str, Any]:
    """A fixture body of `kind`, to spoil."""
    data = next(s["data"] for s in SHAPES if s["data"]["kind"] == kind)
    copy: dict[str, Any] = json.loads(json.dumps(data))
    return copy


def test_the_fixture_holds_every_kind_a_reader_records_and_the_shapes_history_made() -> None:
    assert {s["data"]["kind"] for s in SHAPES} == {k.value for k in EVIDENCE_DOCUMENTS}
    summaries = [s["data"]["summary"] for s in SHAPES]
    tests = [s for s in summaries if "dialect" in s]
    assert any("suite_names" not in s for s in tests)
    assert any("suite_names" in s for s in tests)
    reviews = [s for s in summaries if "reviewer" in s]
    assert any("webhook_signature" not in s for s in reviews)
    assert any("base_sha" not in s for s in reviews)
    assert any("base_sha" in s for s in reviews)
    details = [s["data"]["detail"] for s in SHAPES]
    assert any(d.get("system_action", "") is None for d in details)  # GitLab acted, no action
    envelopes = [e for d in details for e in d.get("envelopes", ())]
    assert any(e.get("entry_point", "") is None for e in envelopes)  # SLSA v0.2
    assert any("return_value" in e for e in envelopes)  # a link


@pytest.mark.parametrize("shape", SHAPES, ids=_id)
def test_an_old_body_decodes_and_encodes_back_to_the_same_bytes(shape: dict[str, Any]) -> None:
    data = shape["data"]
    payload = EvidenceRecorded.from_data(data, where="fixture")
    summary_type, detail_type = EVIDENCE_DOCUMENTS[EvidenceKind(data["kind"])]
    assert type(payload.summary) is summary_type
    assert type(payload.detail) is detail_type
    assert canonical_json(payload.to_data()) == canonical_json(data)
    assert payload.to_data() == data


@pytest.mark.parametrize("shape", SHAPES, ids=_id)
def test_an_old_body_validates_against_the_published_schema(shape: dict[str, Any]) -> None:
    schema = json.loads(
        (ROOT / "docs" / "schemas" / "events" / "evidence.recorded.schema.json").read_text()
    )
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(shape["data"])]
    assert errors == []


def test_an_entry_records_and_decodes_through_its_payload() -> None:
    data = _body("review")
    payload = EvidenceRecorded.from_data(data)
    when = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    body = Event.of(payload, ActorId("ada"), when).encode().body(7)
    assert decode_body(body, seq=7).as_(EvidenceRecorded) == payload


def test_the_kind_chooses_the_types_and_a_summary_of_another_kind_is_refused() -> None:
    data = _body("scan")
    data["summary"] = _body("test-run")["summary"]
    with pytest.raises(InputError, match=r"^entry 3: EvidenceRecorded field 'summary/"):
        EvidenceRecorded.from_data(data, where="entry 3")
    schema = event_schema("evidence.recorded")
    assert list(Draft202012Validator(schema).iter_errors(data))


def test_a_wrong_field_is_named_with_its_path() -> None:
    data = _body("test-run")
    data["summary"]["tests"] = "3"
    with pytest.raises(InputError, match=r"field 'summary/tests': Input should be a valid integer"):
        EvidenceRecorded.from_data(data, where="ledger entry 9")
    data = _body("test-run")
    data["detail"]["surprise"] = 1
    with pytest.raises(InputError, match=r"field 'detail/surprise': Unexpected"):
        EvidenceRecorded.from_data(data)


def test_a_kind_no_reader_records_is_refused() -> None:
    data = {**_body("scan"), "kind": "check"}
    with pytest.raises(InputError, match="no reader records check evidence"):
        EvidenceRecorded.from_data(data)


def test_absent_and_null_are_two_values_where_history_wrote_both() -> None:
    link = next(s for s in SHAPES if s["input"].endswith(".link"))["data"]
    assert "return_value" in link["summary"]
    detail = EvidenceRecorded.from_data(link).detail
    assert isinstance(detail, ProvenanceDetail)
    envelope = detail.envelopes[0]
    assert envelope.entry_point is MISSING  # a link has none: its key stays out
    assert "entry_point" not in envelope.to_data()
    assert envelope.stdout_last_line is not MISSING


def test_documents_of_another_kind_are_refused_when_built() -> None:
    summary, detail = decode_documents(
        EvidenceKind.REVIEW, _body("review")["summary"], _body("review")["detail"]
    )
    assert isinstance(summary, ReviewSummary)
    assert isinstance(detail, ReviewDetail)
    run = decode_documents(
        EvidenceKind.TEST_RUN, _body("test-run")["summary"], _body("test-run")["detail"]
    )
    with pytest.raises(TypeError, match="review evidence has a ReviewSummary"):
        Reading(EvidenceKind.REVIEW, "generic/review", run[0], detail)
    with pytest.raises(TypeError, match="test-run evidence has a TestRunSummary"):
        dataclasses.replace(EvidenceRecorded.from_data(_body("test-run")), summary=summary)
    assert isinstance(run[0], TestRunSummary)
