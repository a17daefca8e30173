"""A change's RFC for people: Markdown and HTML rendered from the same sections, so both
always state the same facts as the JSON they come from."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from changeproof.domain.canonical import JsonValue
from changeproof.domain.events import format_time
from changeproof.domain.rfc import GateSummary, RfcApproval, RfcDocument, RfcEvidence, What, Why
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
    if isinstance(value, list | tuple):
        return ", ".join(_s(v) for v in value) or "—"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_s(v)}" for k, v in sorted(value.items()))
    return str(value)


def sections(doc: RfcDocument) -> list[Section]:
    """The RFC's facts, section by section, in the order a change authority reads them."""
    return [
        _summary(doc),
        Section("Risk", ("reason",), tuple((_s(r),) for r in doc.risk.reasons)),
        *_why(doc.why),
        *_what(doc.what),
        _evidence(doc.evidence),
        _gate(doc.gate),
        _approvals(doc.approvals),
        Section(
            "Schedule",
            ("start", "end"),
            () if doc.schedule is None else ((doc.schedule.start, doc.schedule.end),),
        ),
        Section("Plan", (), (), doc.plan),
        Section("Rollback", (), (), doc.rollback),
        Section("Dry-run output", (), (), doc.dry_run_output),
    ]


def _summary(doc: RfcDocument) -> Section:
    summary = [
        ("Change", doc.id),
        ("Release", doc.release),
        ("Environment", doc.environment),
        ("Classification", doc.classification.value),
        ("Urgent", _s(doc.urgent)),
        ("Urgent reason", _s(doc.urgent_reason)),
        ("State", doc.state),
        ("Risk", doc.risk.level.value),
        ("Requested by", doc.requested_by),
        ("Requested at", format_time(doc.requested_at)),
        ("Digest", doc.digest),
    ]
    if doc.review is not None:
        summary += [
            ("Review due", _s(doc.review.due)),
            ("Review overdue", _s(doc.review.overdue)),
            ("Review outcome", _s(doc.review.outcome)),
        ]
    return Section("Summary", ("field", "value"), tuple(summary))


def _why(why: Why) -> tuple[Section, ...]:
    return (
        Section(
            "Why: tickets",
            ("ticket", "system", "link", "commits"),
            tuple((t.key, t.system, _s(t.url), _s(t.commits)) for t in why.tickets),
        ),
        Section("Commits with no ticket", ("commit",), tuple((c,) for c in why.untracked_commits)),
    )


def _what(what: What) -> tuple[Section, ...]:
    return (
        Section(
            "What: commits",
            ("commit", "author", "subject", "tickets"),
            tuple((c.sha, c.author, c.subject, _s(c.tickets)) for c in what.commits),
        ),
        Section(
            "What: changed paths",
            ("path", "added", "deleted", "high risk", "migration"),
            tuple(
                (p.path, _s(p.added), _s(p.deleted), _s(p.high_risk), _s(p.migration))
                for p in what.paths
            ),
        ),
        Section(
            "What: artifacts",
            ("name", "sha256", "size", "entry"),
            tuple((a.name, a.sha256, str(a.size), str(a.seq)) for a in what.artifacts),
        ),
    )


def _evidence(evidence: Sequence[RfcEvidence]) -> Section:
    return Section(
        "Evidence",
        ("entry", "kind", "format", "sha256", "summary"),
        tuple((str(e.seq), e.kind, e.format, e.sha256, _s(e.summary)) for e in evidence),
    )


def _gate(gate: GateSummary) -> Section:
    return Section(
        "Gate decisions",
        ("entry", "allowed", "classification", "failed controls"),
        tuple(
            (
                str(d.seq),
                _s(d.allowed),
                d.classification.value,
                "; ".join(f"{f.id}: {f.reason}" for f in d.failed) or "—",
            )
            for d in gate.decisions
        ),
    )


def _approvals(approvals: Sequence[RfcApproval]) -> Section:
    return Section(
        "Approvals",
        ("entry", "actor", "verdict", "digest", "counts", "comment"),
        tuple(
            (str(a.seq), a.actor, a.verdict, a.digest, _s(a.counts), _s(a.comment))
            for a in approvals
        ),
    )


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


def markdown(doc: RfcDocument) -> str:
    lines = [f"# {_md_cell(doc.id)}: {_md_cell(doc.title)}", ""]
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


def html_document(doc: RfcDocument) -> str:
    e = _html
    title = f"{doc.id}: {doc.title}"
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
