"""An RFC as a ServiceNow change_request record: field by field, codes, dates and cuts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from changeproof.domain.errors import InputError
from changeproof.reports.servicenow import (
    MAPPED_FIELDS,
    SHORT_DESCRIPTION_MAX,
    TEXT_FIELD_MAX,
    change_request_record,
    correlation_query,
    servicenow_time,
)
from tests.unit.reports.ticket_samples import rfc


def test_the_record_of_a_full_rfc() -> None:
    record = change_request_record(rfc())
    assert set(record) == set(MAPPED_FIELDS)
    assert record["short_description"] == "CHG-57: Deploy payments/1.4.0 to production"
    assert record["type"] == "normal"
    assert (record["risk"], record["impact"]) == ("2", "1")
    assert record["start_date"] == "2026-03-02 21:00:00"  # 22:00 at +01:00
    assert record["end_date"] == "2026-03-02 23:30:00"
    assert (record["correlation_id"], record["correlation_display"]) == ("CHG-57", "changeproof")
    assert record["justification"] == (
        "WHY\n\n- PAY-12 <https://jira.example.com/browse/PAY-12> (jira)"
    )
    assert record["implementation_plan"] == (
        "IMPLEMENTATION PLAN\n\n1. deploy the canary\n2. watch the dashboards\n\n"
        "SCHEDULE\n\n- Start: 2026-03-02 21:00 UTC\n- End: 2026-03-02 23:30 UTC"
    )
    assert record["backout_plan"] == "ROLLBACK\n\nhelm rollback payments"
    assert record["test_plan"] == (
        "EVIDENCE\n\n- #4 test-run (junit) sha256:cdcdcdcdcdcd: failures=0, tests=120\n\n"
        "DRY RUN\n\n    3 resources to change"
    )


def test_the_description_says_what_changes_and_where_to_read_it_all() -> None:
    description = change_request_record(rfc())["description"]
    for expected in (
        "changeproof change CHG-57: https://changeproof.example.com/changes/CHG-57",
        "sha256:" + "12" * 32,
        "- Release: payments/1.4.0",
        "- Environment: production",
        "- 0123456789ab Round *half* to even in [ledger] (ana@example.com)",
        "2 changed paths, 1 of them high-risk",
        "- src/ledger.py (payments)",
        "- migrations/0007_index.sql",
        "- payments.tar.gz sha256:" + "ab" * 32,
        "Level: high",
        "- 1 schema migration file(s) change",
        "- #9 blocked as normal; failed: change-approval (no approval yet)",
    ):
        assert expected in description


@pytest.mark.parametrize(
    ("classification", "servicenow_type"),
    [("standard", "standard"), ("normal", "normal"), ("urgent", "emergency")],
)
def test_classification_sets_the_type(classification: str, servicenow_type: str) -> None:
    assert change_request_record(rfc(classification=classification))["type"] == servicenow_type


@pytest.mark.parametrize(
    ("level", "risk", "impact"), [("high", "2", "1"), ("medium", "3", "2"), ("low", "4", "3")]
)
def test_risk_level_sets_risk_and_impact_codes(level: str, risk: str, impact: str) -> None:
    record = change_request_record(rfc(risk={"level": level, "reasons": []}))
    assert (record["risk"], record["impact"]) == (risk, impact)


def test_what_the_rfc_does_not_say_is_left_to_the_instance() -> None:
    record = change_request_record(rfc(risk=None, schedule=None))
    assert not {"risk", "impact", "start_date", "end_date"} & set(record)
    assert change_request_record(rfc(schedule={"start": "2026-03-02T22:00:00Z"}))["start_date"] == (
        "2026-03-02 22:00:00"
    )


def test_an_urgent_change_gives_its_reason_as_justification() -> None:
    record = change_request_record(
        rfc(classification="urgent", urgent=True, urgent_reason="card payments are down")
    )
    assert record["type"] == "emergency"
    assert "Urgent change; reason given:\n\ncard payments are down" in record["justification"]


def test_missing_texts_are_said_to_be_missing() -> None:
    record = change_request_record({"id": "CHG-1", "title": "t", "classification": "normal"})
    assert "No implementation plan was given." in record["implementation_plan"]
    assert "No rollback plan was given." in record["backout_plan"]
    assert "No evidence is attached." in record["test_plan"]
    assert "No ticket is referenced by this change." in record["justification"]


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 3, 2, 22, 0, 5, 999, tzinfo=UTC), "2026-03-02 22:00:05"),
        (datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), "2025-12-31 23:30:00"),
        (datetime(987, 6, 5, 4, 3, 2, tzinfo=UTC), "0987-06-05 04:03:02"),
    ],
)
def test_servicenow_time_is_utc_with_four_digit_years(moment: datetime, text: str) -> None:
    assert servicenow_time(moment) == text


def test_the_short_description_is_cut_to_its_column() -> None:
    record = change_request_record(rfc(title="x" * 500))
    assert len(record["short_description"]) == SHORT_DESCRIPTION_MAX
    assert record["short_description"].endswith("x…")


def test_long_fields_are_cut_at_whole_blocks_and_say_where_the_rest_is() -> None:
    evidence = [
        {
            "seq": i,
            "kind": "scan",
            "format": "sarif",
            "sha256": "ab" * 32,
            "summary": {"n": "z" * 150},
        }
        for i in range(25)
    ]
    record = change_request_record(rfc(evidence=evidence, dry_run_output="d" * 3000))
    test_plan = record["test_plan"]
    assert len(test_plan) <= TEXT_FIELD_MAX
    assert test_plan.endswith(
        "[Cut to fit ServiceNow's 4,000 characters. The whole change request: "
        "https://changeproof.example.com/changes/CHG-57]"
    )
    # As many pieces of evidence as fit are kept; the dry run, which does not, is left out.
    assert "- #0 scan (sarif)" in test_plan
    assert "- #24 scan" not in test_plan
    assert "DRY RUN" not in test_plan


def test_long_lists_say_how_many_more_there_are() -> None:
    commits = [{"sha": f"{i:040x}", "subject": f"commit {i}"} for i in range(40)]
    record = change_request_record(rfc(what={"commits": commits}))
    assert "40 commits" in record["description"]
    assert "- … and 15 more commits in the RFC" in record["description"]
    assert "commit 24" in record["description"]
    assert "commit 25" not in record["description"]


def test_correlation_query() -> None:
    assert correlation_query("CHG-57") == "correlation_display=changeproof^correlation_id=CHG-57"
    assert correlation_query("CHG-57", source="cp-eu") == (
        "correlation_display=cp-eu^correlation_id=CHG-57"
    )


@pytest.mark.parametrize("source", ["", "a^b", "a=b", "with space", "x" * 33])
def test_a_source_that_would_change_the_query_is_refused(source: str) -> None:
    with pytest.raises(InputError, match="cannot label a remote ticket"):
        change_request_record(rfc(), source=source)


def test_a_change_id_that_would_change_the_query_is_refused() -> None:
    document: dict[str, Any] = rfc(id="CHG-1^active=true")
    with pytest.raises(InputError, match="cannot name a remote ticket"):
        change_request_record(document)
    with pytest.raises(InputError):
        correlation_query("CHG-1^active=true")
