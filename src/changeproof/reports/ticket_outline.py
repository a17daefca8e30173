"""The outline of a ticket: sections of paragraphs, bullet lists and preformatted text.

`sections` builds it from a `ChangeDocument`; each mapping renders it in its system's markup
(plain text for ServiceNow, wiki markup or ADF for Jira) and cuts it to the system's size with
`fit`. A ticket is a rendering, not a record: long texts and lists are cut, and the cut is said
in the text with the RFC's URL when there is one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeAlias

from changeproof.reports.ticket_content import ChangeDocument, one_line

__all__ = [
    "MAX_ITEMS",
    "MAX_LINE",
    "MAX_TEXT",
    "Block",
    "Bullets",
    "Heading",
    "Line",
    "Lines",
    "Paragraph",
    "Part",
    "Preformatted",
    "Run",
    "Section",
    "cut_notice",
    "fit",
    "is_web_url",
    "sections",
]

MAX_TEXT: Final = 3000  # a free text (plan, rollback, dry run) in a ticket; the RFC keeps it all
MAX_ITEMS: Final = 25  # entries of one list (commits, paths, ...) before "and N more"
MAX_LINE: Final = 200  # one list entry's text


@dataclass(frozen=True, slots=True)
class Run:
    """Inline text; a link when `href` is set, monospace when `code`."""

    text: str
    href: str | None = None
    code: bool = False


Line: TypeAlias = tuple[Run, ...]


@dataclass(frozen=True, slots=True)
class Paragraph:
    runs: Line


@dataclass(frozen=True, slots=True)
class Bullets:
    items: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Lines:
    """A person's text (a plan, a reason), kept line by line; no line is empty."""

    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Preformatted:
    text: str


Block: TypeAlias = Paragraph | Bullets | Lines | Preformatted


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    blocks: tuple[Block, ...]


def is_web_url(url: str | None) -> bool:
    """Only http(s) URLs become links: a ticket must not carry `javascript:` or `file:` links."""
    return url is not None and re.fullmatch(r"https?://[^\s]+", url) is not None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(sha: str | None, n: int = 12) -> str:
    return (sha or "")[:n]


def _listed(lines: Sequence[Line], noun: str) -> Bullets:
    """At most MAX_ITEMS entries, then one saying how many more the RFC holds."""
    shown = tuple(
        tuple(Run(_clip(r.text, MAX_LINE), r.href, r.code) for r in line) for line in lines
    )
    if len(shown) <= MAX_ITEMS:
        return Bullets(shown)
    more = len(shown) - MAX_ITEMS
    return Bullets((*shown[:MAX_ITEMS], (Run(f"… and {more} more {noun} in the RFC"),)))


def _free_text(text: str) -> tuple[Lines, ...]:
    """A person's text, cut at MAX_TEXT; blank lines dropped, and nothing when it is blank."""
    lines = tuple(line.rstrip() for line in _clip(text.strip(), MAX_TEXT).splitlines())
    kept = tuple(line for line in lines if line.strip())
    return (Lines(kept),) if kept else ()


def _link(text: str, url: str | None) -> Run:
    # Longer URLs are not links anyone types or a tracker keeps whole; show them cut instead.
    linked = url if is_web_url(url) and url is not None and len(url) <= 2000 else None
    return Run(_clip(one_line(text), MAX_LINE), linked)


def _record(doc: ChangeDocument) -> Section:
    runs: list[Run] = [Run(f"changeproof change {doc.id}")]
    if doc.url is not None:
        runs += [Run(": "), _link(doc.url, doc.url)]
    blocks: list[Block] = [Paragraph(tuple(runs))]
    if doc.digest:
        blocks.append(
            Paragraph(
                (
                    Run("Content digest (approvals bind to it): "),
                    Run(f"sha256:{_clip(one_line(doc.digest), 80)}", code=True),
                )
            )
        )
    facts = [
        f"Release: {doc.release or 'not given'}",
        f"Environment: {doc.environment or 'not given'}",
        f"Classification: {doc.classification.value}",
    ]
    blocks.append(_listed([(Run(one_line(f)),) for f in facts], "facts"))
    return Section("Change", tuple(blocks))


def _why(doc: ChangeDocument) -> Section:
    blocks: list[Block] = []
    if doc.tickets:
        lines = [
            (_link(t.key, t.url), *([Run(f" ({t.system})")] if t.system else []))
            for t in doc.tickets
        ]
        blocks.append(_listed(lines, "tickets"))
    else:
        blocks.append(Paragraph((Run("No ticket is referenced by this change."),)))
    if doc.urgent:
        blocks.append(Paragraph((Run("Urgent change; reason given:"),)))
        blocks.extend(_free_text(doc.urgent_reason or "") or [Paragraph((Run("none"),))])
    return Section("Why", tuple(blocks))


def _risk(doc: ChangeDocument) -> Section:
    level = doc.risk.value if doc.risk else "not assessed"
    blocks: list[Block] = [Paragraph((Run(f"Level: {level}"),))]
    if doc.risk_reasons:
        blocks.append(_listed([(Run(r),) for r in doc.risk_reasons], "reasons"))
    return Section("Risk", tuple(blocks))


def _what(doc: ChangeDocument) -> Section:
    blocks: list[Block] = []
    count = len(doc.commits)
    blocks.append(Paragraph((Run(f"{count} commit{'s' if count != 1 else ''}"),)))
    if doc.commits:
        lines = [
            (
                Run(_short(c.sha), code=True),
                Run(" " + (c.subject or "(no subject)") + (f" ({c.author})" if c.author else "")),
            )
            for c in doc.commits
        ]
        blocks.append(_listed(lines, "commits"))
    risky = [p for p in doc.paths if p.high_risk]
    blocks.append(
        Paragraph((Run(f"{len(doc.paths)} changed paths, {len(risky)} of them high-risk"),))
    )
    if risky:
        groups: list[Line] = [
            (Run(p.path, code=True), Run(" (" + ", ".join(p.high_risk) + ")")) for p in risky
        ]
        blocks.append(_listed(groups, "high-risk paths"))
    if doc.migrations:
        blocks.append(Paragraph((Run("Migrations:"),)))
        blocks.append(_listed([(Run(m, code=True),) for m in doc.migrations], "migrations"))
    if doc.artifacts:
        blocks.append(Paragraph((Run("Artifacts:"),)))
        artifacts: list[Line] = [
            (Run(name), *([Run(" "), Run("sha256:" + digest, code=True)] if digest else []))
            for name, digest in doc.artifacts
        ]
        blocks.append(_listed(artifacts, "artifacts"))
    return Section("What", tuple(blocks))


def _plan(doc: ChangeDocument) -> Section:
    blocks: list[Block] = list(_free_text(doc.plan or ""))
    if not blocks:
        blocks.append(Paragraph((Run("No implementation plan was given."),)))
    return Section("Implementation plan", tuple(blocks))


def _schedule_section(doc: ChangeDocument) -> Section:
    def when(moment: datetime | None) -> str:
        return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "not scheduled"

    lines = ((Run(f"Start: {when(doc.start)}"),), (Run(f"End: {when(doc.end)}"),))
    return Section("Schedule", (Bullets(lines),))


def _rollback(doc: ChangeDocument) -> Section:
    blocks: list[Block] = list(_free_text(doc.rollback or ""))
    if not blocks:
        blocks.append(Paragraph((Run("No rollback plan was given."),)))
    return Section("Rollback", tuple(blocks))


def _evidence_section(doc: ChangeDocument) -> Section:
    if not doc.evidence:
        return Section("Evidence", (Paragraph((Run("No evidence is attached."),)),))
    lines: list[Line] = []
    for e in doc.evidence:
        head = (f"#{e.seq} " if e.seq is not None else "") + e.kind
        head += f" ({e.format})" if e.format else ""
        runs = [Run(head)]
        if e.sha256:
            runs += [Run(" "), Run("sha256:" + _short(e.sha256), code=True)]
        if e.summary:
            runs.append(Run(": " + ", ".join(f"{k}={v}" for k, v in e.summary)))
        lines.append(tuple(runs))
    return Section("Evidence", (_listed(lines, "pieces of evidence"),))


def _gate(doc: ChangeDocument) -> Section:
    if not doc.decisions:
        return Section("Gate decisions", (Paragraph((Run("No gate decision is recorded."),)),))
    lines: list[Line] = []
    for d in doc.decisions:
        text = (f"#{d.seq} " if d.seq is not None else "") + ("allowed" if d.allowed else "blocked")
        text += f" as {d.classification}" if d.classification else ""
        text += "; failed: " + ", ".join(d.failed) if d.failed else ""
        lines.append((Run(text),))
    return Section("Gate decisions", (_listed(lines, "decisions"),))


def _dry_run(doc: ChangeDocument) -> Section | None:
    if not doc.dry_run_output or not doc.dry_run_output.strip():
        return None
    return Section("Dry run", (Preformatted(_clip(doc.dry_run_output.rstrip(), MAX_TEXT)),))


def cut_notice(doc: ChangeDocument, limit: str) -> Paragraph:
    """What a ticket says where its text was cut to fit `limit`, and where to read it all."""
    runs = [Run(f"[Cut to fit {limit}. The whole change request: ")]
    if doc.url:
        runs.append(_link(doc.url, doc.url))
    else:  # no address to link to: name the change, and the digest that identifies its RFC
        runs.append(Run(f"changeproof change {doc.id}"))
        if doc.digest:
            runs.append(Run(f", sha256:{_clip(one_line(doc.digest), 80)}", code=True))
    return Paragraph((*runs, Run("]")))


def sections(doc: ChangeDocument) -> dict[str, Section]:
    """Every section a ticket may show, by name, in the order a reader needs them."""
    named: dict[str, Section | None] = {
        "change": _record(doc),
        "why": _why(doc),
        "risk": _risk(doc),
        "what": _what(doc),
        "plan": _plan(doc),
        "schedule": _schedule_section(doc),
        "rollback": _rollback(doc),
        "evidence": _evidence_section(doc),
        "gate": _gate(doc),
        "dry_run": _dry_run(doc),
    }
    return {name: section for name, section in named.items() if section is not None}


@dataclass(frozen=True, slots=True)
class Heading:
    text: str


Part: TypeAlias = Heading | Block


def fit(
    sections: Sequence[Section], size: Callable[[Part], int], budget: int, cut: Paragraph
) -> list[Part]:
    """The sections as headings and blocks whose rendered sizes add up to at most `budget`.

    When all do not fit, the leading ones that do are kept, then as many leading entries of
    the first list that does not fit, then `cut` (the note saying so, its size reserved).
    Blocks are never cut inside, so no markup is left open; a heading left with nothing under
    it is dropped.
    """
    parts: list[Part] = []
    for section in sections:
        parts.append(Heading(section.heading))
        parts.extend(section.blocks)
    if sum(size(p) for p in parts) <= budget:
        return parts
    room = budget - size(cut)
    kept: list[Part] = []
    for part in parts:
        if size(part) <= room:
            kept.append(part)
            room -= size(part)
            continue
        if isinstance(part, Bullets):
            for n in range(len(part.items) - 1, 0, -1):
                shorter = Bullets(part.items[:n])
                if size(shorter) <= room:
                    kept.append(shorter)
                    break
        break
    while kept and isinstance(kept[-1], Heading):
        kept.pop()
    return [*kept, cut]
