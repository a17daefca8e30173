"""A change request (RFC) as a Jira issue, for REST API v2 (wiki markup) or v3 (ADF).

POST /rest/api/{2|3}/issue creates the issue with `issue_create_body`:

    fields.project      {"key": <project>}
    fields.issuetype    {"name": <issue type>}: "Task" exists in every project; Jira Service
                        Management projects have "Change"
    fields.summary      "<id>: <title>", one line, cut at 255 characters (Jira's limit)
    fields.description  every section of the RFC a reader needs (the change and its link,
                        why, risk, what, plan, schedule, rollback, evidence, gate decisions,
                        dry run): a wiki-markup string for v2, an Atlassian Document Format
                        document for v3; cut at whole blocks to 30,000 characters (Jira keeps
                        32,767) with a note linking the whole RFC
    fields.labels       [<source>, "<source>-<id>"], e.g. ["changeproof", "changeproof-CHG-57"]:
                        the second finds the issue again (`label_jql`) when a create's
                        response was lost

PUT /rest/api/{2|3}/issue/{id} updates it with `issue_update_body`: summary and description
in `fields`, and the two labels *added* through `update`, so labels people put on the issue
stay. Project and issue type are not sent: Jira moves issues between those, it does not edit
them. Pure: `changeproof.services.ticketing` sends what this builds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Final, Literal, TypeAlias

from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import InputError
from changeproof.reports.ticket_content import (
    ChangeDocument,
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
    "DESCRIPTION_BUDGET",
    "SUMMARY_MAX",
    "ApiVersion",
    "adf_document",
    "check_project_key",
    "issue_create_body",
    "issue_labels",
    "issue_update_body",
    "label_jql",
    "wiki_markup",
    "with_fields",
]

ApiVersion: TypeAlias = Literal[2, 3]
SUMMARY_MAX: Final = 255
DESCRIPTION_BUDGET: Final = 30_000
_PROJECT_KEY: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,254}")
# Wiki markup: a backslash makes the next character literal. Escaping every character that
# opens or closes markup (bold, emphasis, strike, lists, macros, links, tables) keeps commit
# subjects and plans from turning into markup, at the cost of backslashes in the raw text.
_WIKI_SPECIAL: Final = re.compile(r"([\\{}\[\]|*_!^~+\-?#])")
_ORDER: Final = (
    "change",
    "why",
    "risk",
    "what",
    "plan",
    "schedule",
    "rollback",
    "evidence",
    "gate",
    "dry_run",
)


def check_project_key(key: str) -> str:
    if _PROJECT_KEY.fullmatch(key) is None:
        raise InputError(
            f"Jira project key {key!r} is not a project key",
            hint="a project key is letters, digits and '_', starting with a letter: PAY",
        )
    return key


def issue_labels(change_id: str, *, source: str = "changeproof") -> tuple[str, str]:
    """The labels an exported issue carries: all of this source's, and this change's."""
    check_change_id(change_id)
    check_source(source)
    return source, f"{source}-{change_id}"


def label_jql(project: str, change_id: str, *, source: str = "changeproof") -> str:
    """JQL for the issue exported for `change_id` (labels and key are checked to need no
    escaping inside JQL's double quotes)."""
    check_project_key(project)
    label = issue_labels(change_id, source=source)[1]
    return f'project = "{project}" AND labels = "{label}"'


# --- wiki markup (REST v2) -------------------------------------------------------------------


def _escape(text: str) -> str:
    return _WIKI_SPECIAL.sub(r"\\\1", text)


def _wiki_run(run: Run) -> str:
    text = _escape(run.text)
    if run.code:
        text = "{{" + text + "}}"
    if run.href:
        # The URL is not escaped (backslashes would end up in it): the characters that would
        # end the link are percent-encoded instead.
        href = run.href.replace("|", "%7C").replace("]", "%5D").replace("[", "%5B")
        return f"[{text}|{href}]"
    return text


def _wiki_part(part: Part) -> str:
    if isinstance(part, Heading):
        return "h3. " + _escape(part.text)
    if isinstance(part, Paragraph):
        return "".join(_wiki_run(r) for r in part.runs)
    if isinstance(part, Bullets):
        return "\n".join("* " + "".join(_wiki_run(r) for r in item) for item in part.items)
    if isinstance(part, Lines):
        # Jira's wiki renderer keeps a single newline inside a paragraph as a line break.
        return "\n".join(_escape(line) for line in part.lines)
    # Nothing is markup inside {noformat}, but the text must not close the block early.
    return "{noformat}\n" + part.text.replace("{noformat}", "{ noformat}") + "\n{noformat}"


def wiki_markup(
    chosen: Sequence[Section], cut: Paragraph, *, budget: int = DESCRIPTION_BUDGET
) -> str:
    """Sections as Jira wiki markup, at most `budget` characters (see `ticket_outline.fit`)."""
    kept = fit(chosen, lambda p: len(_wiki_part(p)) + 2, budget + 2, cut)
    return "\n\n".join(_wiki_part(p) for p in kept)


# --- Atlassian Document Format (REST v3) -----------------------------------------------------


def _adf_text(run: Run) -> dict[str, JsonValue] | None:
    if not run.text:
        return None  # ADF refuses empty text nodes
    marks: list[JsonValue] = []
    if run.code:
        marks.append({"type": "code"})
    if run.href:
        marks.append({"type": "link", "attrs": {"href": run.href}})
    node: dict[str, JsonValue] = {"type": "text", "text": run.text}
    if marks:
        node["marks"] = marks
    return node


def _adf_paragraph(runs: Sequence[Run]) -> dict[str, JsonValue]:
    content = [node for node in map(_adf_text, runs) if node is not None]
    return {"type": "paragraph", "content": content}


def _adf_node(part: Part) -> dict[str, JsonValue]:
    if isinstance(part, Heading):
        heading: JsonValue = {"type": "text", "text": part.text}
        return {"type": "heading", "attrs": {"level": 3}, "content": [heading]}
    if isinstance(part, Paragraph):
        return _adf_paragraph(part.runs)
    if isinstance(part, Bullets):
        items: list[JsonValue] = [
            {"type": "listItem", "content": [_adf_paragraph(item)]} for item in part.items
        ]
        return {"type": "bulletList", "content": items}
    if isinstance(part, Lines):
        content: list[JsonValue] = []
        for line in part.lines:
            if content:
                content.append({"type": "hardBreak"})
            content.append({"type": "text", "text": line})
        return {"type": "paragraph", "content": content}
    return {"type": "codeBlock", "content": [{"type": "text", "text": part.text}]}


def _adf_size(part: Part) -> int:
    node = _adf_node(part)
    return len(json.dumps(node, ensure_ascii=False, separators=(",", ":"))) + 1  # and a comma


def adf_document(
    chosen: Sequence[Section], cut: Paragraph, *, budget: int = DESCRIPTION_BUDGET
) -> dict[str, JsonValue]:
    """Sections as an ADF document whose content's JSON is at most `budget` characters."""
    kept: list[JsonValue] = [_adf_node(p) for p in fit(chosen, _adf_size, budget, cut)]
    return {"type": "doc", "version": 1, "content": kept}


# --- issue bodies ----------------------------------------------------------------------------


def _summary(doc: ChangeDocument) -> str:
    text = f"{doc.id}: {doc.title}"
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


def _description(doc: ChangeDocument, api_version: ApiVersion) -> JsonValue:
    named = sections(doc)
    chosen = [named[name] for name in _ORDER if name in named]
    cut = cut_notice(doc, "Jira's description limit")
    if api_version == 2:
        return wiki_markup(chosen, cut)
    return adf_document(chosen, cut)


def _check_version(api_version: int) -> ApiVersion:
    if api_version == 2:
        return 2
    if api_version == 3:
        return 3
    raise InputError(f"Jira REST API version {api_version} is not 2 or 3")


def issue_create_body(
    document: object,
    *,
    project: str,
    issue_type: str = "Task",
    api_version: int = 3,
    source: str = "changeproof",
) -> dict[str, JsonValue]:
    """The POST /rest/api/{api_version}/issue body for the RFC `document`.

    InputError when the document is malformed, or the project, version or source cannot be
    used.
    """
    version = _check_version(api_version)
    check_project_key(project)
    if not issue_type.strip():
        raise InputError("a Jira issue type name is empty")
    check_source(source)
    doc = read_change(document)
    fields: dict[str, JsonValue] = {
        "project": {"key": project},
        "issuetype": {"name": issue_type},
        "summary": _summary(doc),
        "description": _description(doc, version),
        "labels": list(issue_labels(doc.id, source=source)),
    }
    return {"fields": fields}


def issue_update_body(
    document: object, *, api_version: int = 3, source: str = "changeproof"
) -> dict[str, JsonValue]:
    """The PUT /rest/api/{api_version}/issue/{id} body for the RFC `document`."""
    version = _check_version(api_version)
    check_source(source)
    doc = read_change(document)
    fields: dict[str, JsonValue] = {
        "summary": _summary(doc),
        "description": _description(doc, version),
    }
    labels: list[JsonValue] = [{"add": label} for label in issue_labels(doc.id, source=source)]
    return {"fields": fields, "update": {"labels": labels}}


def with_fields(
    body: Mapping[str, JsonValue], extra: Mapping[str, JsonValue]
) -> dict[str, JsonValue]:
    """`body` with `extra` fields (components, a custom field the project requires) added to
    its `fields`; ones the mapping sets are refused, so the ticket always says what the RFC
    says."""
    fields = body.get("fields")
    if not isinstance(fields, Mapping):
        raise InputError("a Jira issue body has no fields object")
    taken = sorted(set(extra) & set(fields)) + sorted(set(extra) & {"labels", "project"})
    if taken:
        raise InputError(f"extra Jira fields may not set {', '.join(taken)}")
    return {**body, "fields": {**fields, **extra}}
