"""Reading an RFC for a ticket: what is taken, what is refused (and how it is said), and a
fuzz test that no document shape escapes as anything but InputError in either mapping."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changeproof.domain.decisions import Classification
from changeproof.domain.errors import InputError
from changeproof.reports.jira import DESCRIPTION_BUDGET, SUMMARY_MAX, issue_create_body
from changeproof.reports.servicenow import (
    SHORT_DESCRIPTION_MAX,
    TEXT_FIELD_MAX,
    change_request_record,
)
from changeproof.reports.ticket_content import (
    CommitLine,
    DecisionLine,
    EvidenceLine,
    PathLine,
    RiskLevel,
    TicketLine,
    read_change,
)
from tests.unit.reports.ticket_samples import adf_problems, rfc


def test_reads_every_key_it_takes() -> None:
    doc = read_change(rfc())
    assert doc.id == "CHG-57"
    assert doc.classification is Classification.NORMAL
    assert doc.urgent is False
    assert doc.risk is RiskLevel.HIGH
    assert doc.risk_reasons == ("1 schema migration file(s) change",)
    assert doc.tickets == (TicketLine("PAY-12", "jira", "https://jira.example.com/browse/PAY-12"),)
    assert doc.commits == (
        CommitLine(
            "0123456789abcdef0123456789abcdef01234567",
            "Round *half* to even in [ledger]",
            "ana@example.com",
        ),
    )
    assert doc.paths == (PathLine("src/ledger.py", ("payments",)), PathLine("README.md", ()))
    assert doc.migrations == ("migrations/0007_index.sql",)
    assert doc.artifacts == (("payments.tar.gz", "ab" * 32),)
    # Only the summary's scalars are shown; the list of suites is not.
    assert doc.evidence == (
        EvidenceLine(4, "test-run", "junit", "cd" * 32, (("failures", "0"), ("tests", "120"))),
    )
    assert doc.decisions == (
        DecisionLine(9, False, "normal", ("change-approval (no approval yet)",)),
    )
    assert doc.start == datetime(2026, 3, 2, 21, 0, tzinfo=UTC)
    assert doc.end == datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
    assert doc.url == "https://changeproof.example.com/changes/CHG-57"


def test_only_id_title_and_classification_are_required() -> None:
    doc = read_change({"id": "CHG-1", "title": "t", "classification": "standard"})
    assert (doc.id, doc.title, doc.classification) == ("CHG-1", "t", Classification.STANDARD)
    assert doc.risk is None
    assert (doc.tickets, doc.commits, doc.evidence) == ((), (), ())
    assert (doc.start, doc.end, doc.url) == (None, None, None)


def test_null_means_not_given() -> None:
    nulls = dict.fromkeys(("risk", "why", "what", "evidence", "gate", "schedule", "plan"))
    doc = read_change(rfc(**nulls))
    assert doc.risk is None
    assert doc.commits == ()
    assert doc.plan is None
    assert doc.start is None


def test_an_urgent_classification_is_urgent_whatever_the_flag_says() -> None:
    assert read_change(rfc(classification="urgent", urgent=False)).urgent is True
    assert read_change(rfc(urgent=True)).urgent is True


def test_failed_controls_may_be_plain_ids() -> None:
    decision = {"seq": 3, "allowed": False, "failed": ["tests-passed", "ticket-reference"]}
    doc = read_change(rfc(gate={"decisions": [decision]}))
    assert doc.decisions[0].failed == ("tests-passed", "ticket-reference")


def test_text_a_remote_may_refuse_to_store_is_replaced() -> None:
    doc = read_change(rfc(title="a\x00b\ud800c", plan="line\x07one"))
    assert doc.title == "a\ufffdb\ufffdc"
    assert doc.plan == "line\ufffdone"


def test_a_title_is_one_line() -> None:
    assert read_change(rfc(title="  Deploy\n payments\t now ")).title == "Deploy payments now"


def _set(path: str, value: Any) -> dict[str, Any]:
    document = rfc()
    *parents, last = path.split(".")
    target: Any = document
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (["not", "an", "object"], "an RFC document must be a JSON object"),
        ({k: v for k, v in rfc().items() if k != "id"}, "/id is missing"),
        (rfc(id="CHG 57"), "change id 'CHG 57' cannot name a remote ticket"),
        (rfc(id="-57"), "cannot name a remote ticket"),
        (rfc(id="C" * 65), "cannot name a remote ticket"),
        (rfc(title="   "), "/title is empty"),
        (rfc(title=7), "/title must be a string, not a number"),
        ({k: v for k, v in rfc().items() if k != "classification"}, "/classification is missing"),
        (rfc(classification="emergency"), "/classification is 'emergency'; it must be one of"),
        (rfc(urgent="yes"), "/urgent must be true or false, not a string"),
        (rfc(risk=[]), "/risk must be an object, not an array"),
        (_set("risk.level", "extreme"), "/risk/level is 'extreme'; it must be one of low"),
        (_set("risk.reasons", "many"), "/risk/reasons must be an array, not a string"),
        (_set("why.tickets.0", None), "/why/tickets/0 must be an object, not null"),
        (_set("what.commits.0.sha", 12), "/what/commits/0/sha must be a string, not a number"),
        (_set("what.paths.0.high_risk", [True]), "/what/paths/0/high_risk/0 must be a string"),
        (_set("evidence.0.seq", "4"), "/evidence/0/seq must be an integer, not a string"),
        (_set("evidence.0.summary", 3), "/evidence/0/summary must be an object"),
        (_set("gate.decisions.0.allowed", None), "/gate/decisions/0/allowed must be true or"),
        (_set("gate.decisions.0.failed.0", {"reason": "x"}), "/gate/decisions/0/failed/0/id is"),
        (_set("schedule.start", "tomorrow"), "/schedule/start is 'tomorrow', not an ISO 8601"),
        (_set("schedule.start", "2026-03-02T22:00:00"), "which has no time zone"),
        (_set("schedule.end", "2026-03-02T20:00:00Z"), "/schedule/end is before /schedule/start"),
        (_set("schedule.start", "0001-01-01T00:00:00+01:00"), "outside the years a ticket can"),
    ],
)
def test_malformed_documents_are_refused_with_the_key_named(document: Any, message: str) -> None:
    with pytest.raises(InputError) as caught:
        read_change(document)
    assert message in caught.value.message


def test_the_reader_does_not_change_the_document() -> None:
    document = rfc()
    before = copy.deepcopy(document)
    read_change(document)
    change_request_record(document)
    issue_create_body(document, project="PAY")
    assert document == before


# --- fuzz: any shape of the keys read -> a body or InputError ---------------------------------

_TEXT = st.text(
    st.characters(codec=None, exclude_categories=()),  # lone surrogates and controls included
    max_size=40,
)
_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


def _maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A key's value: mostly well-shaped, sometimes null, sometimes any JSON at all."""
    # Not one_of(good, good, ...): it would weigh each distinct strategy the same.
    return st.integers(0, 9).flatmap(
        lambda n: good if n < 8 else st.none() if n == 8 else _ANY_JSON
    )


def _items(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """An array's entries: well-shaped but for one in twenty, which may be anything."""
    entry = st.integers(0, 19).flatmap(lambda n: _ANY_JSON if n == 19 else good)
    return st.lists(entry, max_size=30)


_IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,70}", fullmatch=True)
_MOMENT = st.datetimes(timezones=st.sampled_from([UTC, UTC, UTC, None])).map(
    lambda d: d.isoformat()
)


def _object(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {k: _maybe(v) for k, v in required.items()},
        optional={k: _maybe(v) for k, v in optional.items()},
    )


_TICKET = _object({"key": _TEXT}, {"system": _TEXT, "url": _TEXT})
_COMMIT = _object({"sha": _TEXT}, {"subject": _TEXT, "author": _TEXT})
_PATH = _object({"path": _TEXT}, {"high_risk": _items(_TEXT)})
_ARTIFACT = _object({"name": _TEXT}, {"sha256": _TEXT})
_EVIDENCE = _object(
    {"kind": _TEXT},
    {
        "seq": st.integers(),
        "format": _TEXT,
        "sha256": _TEXT,
        "summary": st.dictionaries(_TEXT, _ANY_JSON, max_size=5),
    },
)
_FAILED = _TEXT | _object({"id": _TEXT}, {"reason": _TEXT})
_DECISION = _object(
    {"allowed": st.booleans()},
    {"seq": st.integers(), "classification": _TEXT, "failed": _items(_FAILED)},
)
_DOCUMENTS = _object(
    {
        "id": _IDS,
        "title": _TEXT.map(lambda s: "T" + s) | _TEXT,
        "classification": st.sampled_from(["standard", "normal", "urgent", "normal", "other"]),
    },
    {
        "release": _TEXT,
        "environment": _TEXT,
        "urgent": st.booleans(),
        "urgent_reason": _TEXT,
        "risk": _object(
            {}, {"level": st.sampled_from(["low", "medium", "high"]), "reasons": _items(_TEXT)}
        ),
        "why": _object({}, {"tickets": _items(_TICKET)}),
        "what": _object(
            {},
            {
                "commits": _items(_COMMIT),
                "paths": _items(_PATH),
                "migrations": _items(_TEXT),
                "artifacts": _items(_ARTIFACT),
            },
        ),
        "evidence": _items(_EVIDENCE),
        "gate": _object({}, {"decisions": _items(_DECISION)}),
        "plan": st.text(max_size=5000),
        "rollback": _TEXT,
        "dry_run_output": st.text(max_size=5000),
        "schedule": _object({}, {"start": _MOMENT, "end": _MOMENT}),
        "digest": _TEXT,
        "url": _TEXT | st.just("https://changeproof.example.com/c/1"),
    },
)


def _check_servicenow(record: dict[str, str]) -> None:
    assert all(isinstance(v, str) for v in record.values())
    assert len(record["short_description"]) <= SHORT_DESCRIPTION_MAX
    assert "\n" not in record["short_description"]
    for name in ("description", "justification", "implementation_plan", "backout_plan"):
        assert len(record[name]) <= TEXT_FIELD_MAX
    assert len(record["test_plan"]) <= TEXT_FIELD_MAX
    json.dumps(record, ensure_ascii=False).encode("utf-8")  # no lone surrogate reaches the wire


def _check_jira(body: dict[str, Any], version: int) -> None:
    fields = body["fields"]
    assert len(fields["summary"]) <= SUMMARY_MAX
    assert "\n" not in fields["summary"]
    assert all(" " not in label for label in fields["labels"])
    description = fields["description"]
    if version == 2:
        assert isinstance(description, str)
        assert len(description) <= DESCRIPTION_BUDGET
    else:
        assert adf_problems(description) == []
        size = len(json.dumps(description, ensure_ascii=False, separators=(",", ":")))
        assert size <= DESCRIPTION_BUDGET + 100  # the doc's own wrapper is not budgeted
    json.dumps(body, ensure_ascii=False).encode("utf-8")


_B = TypeVar("_B")


def _body_or_input_error(build: Callable[[], _B]) -> _B | None:
    try:
        return build()
    except InputError as e:
        if not e.message:  # a clear error says something
            raise AssertionError("an InputError without a message") from e
        return None


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_DOCUMENTS | _ANY_JSON)
def test_any_document_yields_a_body_or_input_error(document: Any) -> None:
    record = _body_or_input_error(lambda: change_request_record(document))
    if record is not None:
        _check_servicenow(record)
    for version in (2, 3):
        body = _body_or_input_error(
            lambda: issue_create_body(document, project="PAY", api_version=version)  # noqa: B023
        )
        if body is not None:
            _check_jira(body, version)
