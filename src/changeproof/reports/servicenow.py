"""A change request (RFC) as a ServiceNow `change_request` record for the Table API.

POST /api/now/table/change_request creates the record and PATCH
/api/now/table/change_request/{sys_id} updates it, both with the body `change_request_record`
builds (field names are the table's column names, every value a string):

    short_description    "<id>: <title>", one line, cut at 160 characters (the column's size)
    description          the change: release, environment, classification, risk; commits,
                         paths, migrations, artifacts; the gate's decisions
    justification        why: the tickets it references; the urgent reason when urgent
    implementation_plan  the plan and the schedule
    backout_plan         the rollback
    test_plan            the evidence (tests, scans, reviews) and the dry run's output
    type                 standard | normal | emergency, from our standard | normal | urgent
    risk                 "2" high, "3" moderate, "4" low (choice values of the base system)
    impact               "1" high, "2" medium, "3" low, from the same risk level
    start_date/end_date  the schedule as "YYYY-MM-DD HH:MM:SS" in UTC: with
                         sysparm_input_display_value=false (the default, and what the client
                         sends) the Table API stores date-times as given, in UTC (KB0534905)
    correlation_id       the change id, and correlation_display the source ("changeproof"):
                         the pair a retry searches for (`correlation_query`) before creating,
                         so a create whose response was lost is found instead of duplicated

Text fields are cut at 4,000 characters, the base system's size for them, at a whole block
and with a note saying so, rather than letting the instance cut them mid-word. Risk, impact
and dates are left out when the RFC has none, so the instance's defaults and risk
calculator apply. The record's `state` is never sent: the change model moves it.
Pure: `changeproof.services.ticketing` sends what this builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from changeproof.domain.decisions import Classification
from changeproof.reports.ticket_content import (
    ChangeDocument,
    RiskLevel,
    check_change_id,
    check_source,
    read_change,
)
from changeproof.reports.ticket_outline import (
    Bullets,
    Heading,
    Lines,
    Paragraph,
    Part,
    Run,
    Section,
    cut_notice,
    fit,
    sections,
)

__all__ = [
    "IMPACT_CODE",
    "MAPPED_FIELDS",
    "RISK_CODE",
    "SHORT_DESCRIPTION_MAX",
    "TABLE",
    "TEXT_FIELD_MAX",
    "TYPE_BY_CLASSIFICATION",
    "change_request_record",
    "correlation_query",
    "plain_text",
    "servicenow_time",
]

TABLE: Final = "change_request"
SHORT_DESCRIPTION_MAX: Final = 160
TEXT_FIELD_MAX: Final = 4000
TYPE_BY_CLASSIFICATION: Final = {
    Classification.STANDARD: "standard",
    Classification.NORMAL: "normal",
    Classification.URGENT: "emergency",
}
MAPPED_FIELDS: Final = (
    "short_description",
    "description",
    "justification",
    "implementation_plan",
    "backout_plan",
    "test_plan",
    "type",
    "risk",
    "impact",
    "start_date",
    "end_date",
    "correlation_id",
    "correlation_display",
)
RISK_CODE: Final = {RiskLevel.HIGH: "2", RiskLevel.MEDIUM: "3", RiskLevel.LOW: "4"}
IMPACT_CODE: Final = {RiskLevel.HIGH: "1", RiskLevel.MEDIUM: "2", RiskLevel.LOW: "3"}


def servicenow_time(moment: datetime) -> str:
    """ServiceNow's date-time text, "YYYY-MM-DD HH:MM:SS", in UTC (seconds truncated)."""
    utc = moment.astimezone(UTC)
    # Not strftime: glibc writes year 987 as "987", and the instance wants four digits.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    )


def correlation_query(change_id: str, *, source: str = "changeproof") -> str:
    """The encoded query (sysparm_query) matching the record exported for `change_id`.

    Both values are checked to hold no `^` or `=`, which would change the query's meaning.
    """
    check_change_id(change_id)
    check_source(source)
    return f"correlation_display={source}^correlation_id={change_id}"


def _inline(runs: Sequence[Run]) -> str:
    return "".join(f"{r.text} <{r.href}>" if r.href and r.href != r.text else r.text for r in runs)


def _part(part: Part) -> str:
    if isinstance(part, Heading):
        return part.text.upper()
    if isinstance(part, Paragraph):
        return _inline(part.runs)
    if isinstance(part, Bullets):
        return "\n".join("- " + _inline(item) for item in part.items)
    if isinstance(part, Lines):
        return "\n".join(part.lines)
    return "\n".join("    " + line for line in part.text.splitlines())


def plain_text(chosen: Sequence[Section], cut: Paragraph, *, budget: int = TEXT_FIELD_MAX) -> str:
    """Sections as plain text (ServiceNow shows text fields as typed), at most `budget` long;
    see `ticket_outline.fit` for how it is cut."""
    # Parts are joined by a blank line: count two characters after each, and two more of room
    # for the last one, which has none.
    kept = fit(chosen, lambda p: len(_part(p)) + 2, budget + 2, cut)
    return "\n\n".join(_part(p) for p in kept)


def _short_description(doc: ChangeDocument) -> str:
    text = f"{doc.id}: {doc.title}"
    if len(text) <= SHORT_DESCRIPTION_MAX:
        return text
    return text[: SHORT_DESCRIPTION_MAX - 1] + "…"


def change_request_record(document: object, *, source: str = "changeproof") -> dict[str, str]:
    """The change_request field values for the RFC `document`; InputError when it is malformed.

    `source` names this changeproof instance in correlation_display: give each instance that
    exports to the same ServiceNow its own, so their change ids cannot collide.
    """
    check_source(source)
    doc = read_change(document)
    named = sections(doc)

    cut = cut_notice(doc, f"ServiceNow's {TEXT_FIELD_MAX:,} characters")

    def text(*names: str) -> str:
        return plain_text([named[n] for n in names if n in named], cut)

    record = {
        "short_description": _short_description(doc),
        "description": text("change", "what", "risk", "gate"),
        "justification": text("why"),
        "implementation_plan": text("plan", "schedule"),
        "backout_plan": text("rollback"),
        "test_plan": text("evidence", "dry_run"),
        "type": TYPE_BY_CLASSIFICATION[doc.classification],
        "correlation_id": doc.id,
        "correlation_display": source,
    }
    if doc.risk is not None:
        record["risk"] = RISK_CODE[doc.risk]
        record["impact"] = IMPACT_CODE[doc.risk]
    if doc.start is not None:
        record["start_date"] = servicenow_time(doc.start)
    if doc.end is not None:
        record["end_date"] = servicenow_time(doc.end)
    return record
