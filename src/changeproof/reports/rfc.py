"""A change's RFC for people: Markdown and HTML rendered from the same sections, so both
always state the same facts as the JSON they come from."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from changeproof.domain.canonical import JsonValue
from changeproof.domain.text import show_controls

__all__ = ["Section", "html_document", "markdown", "sections"]


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    text: str | None = None  # free text (plan, rollback, dry-run output), shown as given


def _s(value: JsonValue) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_s(v) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_s(v)}" for k, v in sorted(value.items()))
    return str(value)


def _dicts(value: JsonValue) -> list[Mapping[str, JsonValue]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _get(doc: Mapping[str, JsonValue], key: str) -> Mapping[str, JsonValue]:
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def sections(doc: Mapping[str, JsonValue]) -> list[Section]:
    """The RFC's facts, section by section, in the order a change authority reads them."""
    what, risk, gate, why = (_get(doc, k) for k in ("what", "risk", "gate", "why"))
    review = _get(doc, "review")
    summary = [
        ("Change", _s(doc.get("id"))),
        ("Release", _s(doc.get("release"))),
        ("Environment", _s(doc.get("environment"))),
        ("Classification", _s(doc.get("classification"))),
        ("Urgent", _s(doc.get("urgent"))),
        ("Urgent reason", _s(doc.get("urgent_reason"))),
        ("State", _s(doc.get("state"))),
        ("Risk", _s(risk.get("level"))),
        ("Requested by", _s(doc.get("requested_by"))),
        ("Requested at", _s(doc.get("requested_at"))),
        ("Digest", _s(doc.get("digest"))),
    ]
    if review:
        summary += [
            ("Review due", _s(review.get("due"))),
            ("Review overdue", _s(review.get("overdue"))),
            ("Review outcome", _s(review.get("outcome"))),
        ]
    schedule = _get(doc, "schedule")
    found = [
        Section("Summary", ("field", "value"), tuple(summary)),
        Section("Risk", ("reason",), tuple((_s(r),) for r in _list(risk.get("reasons")))),
        Section(
            "Why: tickets",
            ("ticket", "system", "link", "commits"),
            tuple(
                (_s(t.get("key")), _s(t.get("system")), _s(t.get("url")), _s(t.get("commits")))
                for t in _dicts(why.get("tickets"))
            ),
        ),
        Section(
            "Commits with no ticket",
            ("commit",),
            tuple((_s(c),) for c in _list(why.get("untracked_commits"))),
        ),
        Section(
            "What: commits",
            ("commit", "author", "subject", "tickets"),
            tuple(
                (_s(c.get("sha")), _s(c.get("author")), _s(c.get("subject")), _s(c.get("tickets")))
                for c in _dicts(what.get("commits"))
            ),
        ),
        Section(
            "What: changed paths",
            ("path", "added", "deleted", "high risk", "migration"),
            tuple(
                (
                    _s(p.get("path")),
                    _s(p.get("added")),
                    _s(p.get("deleted")),
                    _s(p.get("high_risk")),
                    _s(p.get("migration")),
                )
                for p in _dicts(what.get("paths"))
            ),
        ),
        Section(
            "What: artifacts",
            ("name", "sha256", "size", "entry"),
            tuple(
                (_s(a.get("name")), _s(a.get("sha256")), _s(a.get("size")), _s(a.get("seq")))
                for a in _dicts(what.get("artifacts"))
            ),
        ),
        Section(
            "Evidence",
            ("entry", "kind", "format", "sha256", "summary"),
            tuple(
                (
                    _s(e.get("seq")),
                    _s(e.get("kind")),
                    _s(e.get("format")),
                    _s(e.get("sha256")),
                    _s(e.get("summary")),
                )
                for e in _dicts(doc.get("evidence"))
            ),
        ),
        Section(
            "Gate decisions",
            ("entry", "allowed", "classification", "failed controls"),
            tuple(
                (
                    _s(d.get("seq")),
                    _s(d.get("allowed")),
                    _s(d.get("classification")),
                    "; ".join(
                        f"{_s(f.get('id'))}: {_s(f.get('reason'))}" for f in _dicts(d.get("failed"))
                    )
                    or "—",
                )
                for d in _dicts(gate.get("decisions"))
            ),
        ),
        Section(
            "Approvals",
            ("entry", "actor", "verdict", "digest", "counts", "comment"),
            tuple(
                (
                    _s(a.get("seq")),
                    _s(a.get("actor")),
                    _s(a.get("verdict")),
                    _s(a.get("digest")),
                    _s(a.get("counts")),
                    _s(a.get("comment")),
                )
                for a in _dicts(doc.get("approvals"))
            ),
        ),
        Section(
            "Schedule",
            ("start", "end"),
            ((_s(schedule.get("start")), _s(schedule.get("end"))),) if schedule else (),
        ),
    ]
    for title, key in (
        ("Plan", "plan"),
        ("Rollback", "rollback"),
        ("Dry-run output", "dry_run_output"),
    ):
        value = doc.get(key)
        found.append(Section(title, (), (), value if isinstance(value, str) else None))
    return found


def _failures(decision: Mapping[str, JsonValue]) -> str:
    failed = _dicts(decision.get("failed"))
    return "; ".join(f"{_s(f.get('id'))}: {_s(f.get('reason'))}" for f in failed) or "—"


def _list(value: JsonValue) -> list[JsonValue]:
    return value if isinstance(value, list) else []


# Markdown renders inline HTML and turns brackets, stars, underscores, tildes and backticks
# into links, images, emphasis and code: in text from outside (an artifact named
# `<img onerror=…>`, a subject holding `[see](https://evil.example)`) each is escaped with a
# backslash and `&` written `&amp;` (no entity can be spelled), so it reads as typed.
# `(`, `!` and `#` need nothing: they mean something only after `]`, before `[`, or first
# on a line, and a cell is never first on its line.
_MD_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|~])")


def _md_cell(text: str) -> str:
    """Outside text as inline Markdown that renders exactly as typed, on one line."""
    escaped = _MD_SPECIAL.sub(r"\\\1", show_controls(text)).replace("&", "&amp;")
    return escaped.replace("\r", " ").replace("\n", " ")


def _fence(text: str) -> str:
    """A code fence longer than any run of backticks in `text`, so nothing closes it early."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    return "`" * max(3, longest + 1)


def markdown(doc: Mapping[str, JsonValue]) -> str:
    lines = [f"# {_md_cell(_s(doc.get('id')))}: {_md_cell(_s(doc.get('title')))}", ""]
    for section in sections(doc):
        lines += [f"## {section.title}", ""]
        if section.header:
            lines += _md_table(section.header, section.rows)
        elif section.text is not None:
            text = show_controls(section.text)
            fence = _fence(text)
            lines += [fence, text, fence]
        else:
            lines.append("None given.")
        lines.append("")
    return "\n".join(lines)


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    if not rows:
        return ["None."]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_md_cell(cell) for cell in row) + " |" for row in rows]
    return out


def _html(text: str) -> str:
    return html.escape(show_controls(text))


def html_document(doc: Mapping[str, JsonValue]) -> str:
    e = _html
    title = f"{_s(doc.get('id'))}: {_s(doc.get('title'))}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}"
        "pre{background:#f6f6f6;padding:1em;overflow:auto}</style>",
        f"</head><body><h1>{e(title)}</h1>",
    ]
    for section in sections(doc):
        parts.append(f"<h2>{e(section.title)}</h2>")
        if section.header:
            if not section.rows:
                parts.append("<p>None.</p>")
                continue
            parts.append("<table><thead><tr>")
            parts += [f"<th>{e(h)}</th>" for h in section.header]
            parts.append("</tr></thead><tbody>")
            for row in section.rows:
                parts.append("<tr>" + "".join(f"<td>{e(cell)}</td>" for cell in row) + "</tr>")
            parts.append("</tbody></table>")
        elif section.text is not None:
            parts.append(f"<pre>{e(section.text)}</pre>")
        else:
            parts.append("<p>None given.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
