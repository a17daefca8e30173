"""What a ticketing system is told about a change: the part of an RFC document a ticket shows.

Both ticket mappings (`servicenow.py`, `jira.py`) read the RFC through `read_change`, then
render the outline `ticket_outline.sections` builds. The reader takes only these keys of the
RFC's JSON:

    id, title, classification      required
    release, environment, urgent, urgent_reason, risk{level, reasons}, why{tickets},
    what{commits, paths, migrations, artifacts}, evidence, gate{decisions}, plan, rollback,
    dry_run_output, schedule{start, end}, digest, url
                                   optional: absent and null mean "not given"

A key of the wrong type, an unknown classification or risk level, a schedule without a time
zone or ending before it starts raise InputError naming the key's JSON pointer; nothing else
escapes. The change id names the remote record (ServiceNow correlation id, Jira label), so it
must be 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit.

Characters a remote may refuse to store (C0 controls but tab and newline, lone surrogates)
become U+FFFD: a ticket is a rendering of the RFC, which keeps the original.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, TypeVar

from changeproof.domain.decisions import Classification
from changeproof.domain.errors import InputError
from changeproof.domain.rfc import RiskLevel

__all__ = [
    "ChangeDocument",
    "CommitLine",
    "DecisionLine",
    "EvidenceLine",
    "PathLine",
    "RiskLevel",
    "TicketLine",
    "check_change_id",
    "check_source",
    "one_line",
    "read_change",
]

CHANGE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# `source` names this instance in both systems: ServiceNow's correlation_display and the Jira
# labels. Jira labels cannot hold spaces and ServiceNow encoded queries split on `^`, hence so
# narrow a set.
SOURCE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_UNSTORABLE: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|[\ud800-\udfff]")
_WHITESPACE: Final = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class TicketLine:
    key: str
    system: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class CommitLine:
    sha: str
    subject: str
    author: str | None


@dataclass(frozen=True, slots=True)
class PathLine:
    path: str
    high_risk: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    seq: int | None
    kind: str
    format: str | None
    sha256: str | None
    summary: tuple[tuple[str, str], ...]  # the summary's scalar entries, in key order


@dataclass(frozen=True, slots=True)
class DecisionLine:
    seq: int | None
    allowed: bool
    classification: str | None
    failed: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChangeDocument:
    """The part of an RFC a ticket shows, checked and cleaned."""

    id: str
    title: str
    classification: Classification
    urgent: bool  # classification urgent, or the RFC says urgent
    release: str | None = None
    environment: str | None = None
    urgent_reason: str | None = None
    risk: RiskLevel | None = None
    risk_reasons: tuple[str, ...] = ()
    tickets: tuple[TicketLine, ...] = ()
    commits: tuple[CommitLine, ...] = ()
    paths: tuple[PathLine, ...] = ()
    migrations: tuple[str, ...] = ()
    artifacts: tuple[tuple[str, str], ...] = ()  # (name, sha256)
    evidence: tuple[EvidenceLine, ...] = ()
    decisions: tuple[DecisionLine, ...] = ()
    plan: str | None = None
    rollback: str | None = None
    dry_run_output: str | None = None
    start: datetime | None = None  # UTC
    end: datetime | None = None  # UTC
    digest: str | None = None
    url: str | None = None


# --- reading ---------------------------------------------------------------------------------


def check_change_id(value: str) -> str:
    if CHANGE_ID.fullmatch(value) is None:
        raise InputError(
            f"change id {value!r} cannot name a remote ticket",
            hint="a change id is 1-64 letters, digits, '.', '_' or '-', such as CHG-57",
        )
    return value


def check_source(value: str) -> str:
    if SOURCE.fullmatch(value) is None:
        raise InputError(
            f"source {value!r} cannot label a remote ticket",
            hint="a source is 1-32 letters, digits, '.', '_' or '-', such as changeproof",
        )
    return value


def read_change(document: object) -> ChangeDocument:
    """The RFC `document` (parsed JSON) as a ChangeDocument; InputError names what is wrong."""
    if not isinstance(document, Mapping):
        raise InputError(f"an RFC document must be a JSON object, not {_json_type(document)}")
    top: Mapping[str, object] = document
    change_id = _required(top, "id", "")
    title = _required(top, "title", "")
    classification = _choice(top, "classification", "", Classification)
    if classification is None:
        raise InputError("/classification is missing")
    check_change_id(change_id)
    if not title.strip():
        raise InputError("/title is empty")
    urgent = _flag(top, "urgent", "")
    risk = _object(top.get("risk"), "/risk") or {}
    why = _object(top.get("why"), "/why") or {}
    what = _object(top.get("what"), "/what") or {}
    gate = _object(top.get("gate"), "/gate") or {}
    start, end = _schedule(top)
    return ChangeDocument(
        id=change_id,
        title=one_line(title),
        classification=classification,
        urgent=urgent or classification is Classification.URGENT,
        release=_text(top, "release", ""),
        environment=_text(top, "environment", ""),
        urgent_reason=_text(top, "urgent_reason", ""),
        risk=_choice(risk, "level", "/risk", RiskLevel),
        risk_reasons=tuple(
            one_line(r) for r in _items(risk, "reasons", "/risk", lambda v, at: _string(v, at))
        ),
        tickets=_items(why, "tickets", "/why", _ticket),
        commits=_items(what, "commits", "/what", _commit),
        paths=_items(what, "paths", "/what", _path),
        migrations=_items(what, "migrations", "/what", lambda v, at: one_line(_string(v, at))),
        artifacts=_items(what, "artifacts", "/what", _artifact),
        evidence=_items(top, "evidence", "", _evidence),
        decisions=_items(gate, "decisions", "/gate", _decision),
        plan=_text(top, "plan", ""),
        rollback=_text(top, "rollback", ""),
        dry_run_output=_text(top, "dry_run_output", ""),
        start=start,
        end=end,
        digest=_text(top, "digest", ""),
        url=_text(top, "url", ""),
    )


_T = TypeVar("_T")
_E = TypeVar("_E", bound=StrEnum)


def _pointer(parent: str, key: str | int) -> str:
    escaped = str(key).replace("~", "~0").replace("/", "~1")
    return f"{parent}/{escaped}"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def _clean(text: str) -> str:
    return _UNSTORABLE.sub("\ufffd", text)


def one_line(text: str) -> str:
    """`text` on one line: runs of whitespace, newlines included, become one space."""
    return _WHITESPACE.sub(" ", text).strip()


def _object(value: object, at: str) -> Mapping[str, object] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InputError(f"{at or '/'} must be an object, not {_json_type(value)}")
    return value


def _string(value: object, at: str) -> str:
    if not isinstance(value, str):
        raise InputError(f"{at} must be a string, not {_json_type(value)}")
    return _clean(value)


def _text(obj: Mapping[str, object], key: str, at: str) -> str | None:
    value = obj.get(key)
    return None if value is None else _string(value, _pointer(at, key))


def _required(obj: Mapping[str, object], key: str, at: str) -> str:
    text = _text(obj, key, at)
    if text is None:
        raise InputError(f"{_pointer(at, key)} is missing")
    return text


def _flag(obj: Mapping[str, object], key: str, at: str) -> bool:
    value = obj.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InputError(f"{_pointer(at, key)} must be true or false, not {_json_type(value)}")
    return value


def _seq(obj: Mapping[str, object], at: str) -> int | None:
    value = obj.get("seq")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{_pointer(at, 'seq')} must be an integer, not {_json_type(value)}")
    return value


def _choice(obj: Mapping[str, object], key: str, at: str, kind: type[_E]) -> _E | None:
    text = _text(obj, key, at)
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise InputError(f"{_pointer(at, key)} is {text!r}; it must be one of {allowed}") from None


def _items(
    obj: Mapping[str, object], key: str, at: str, read: Callable[[object, str], _T]
) -> tuple[_T, ...]:
    value = obj.get(key)
    where = _pointer(at, key)
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise InputError(f"{where} must be an array, not {_json_type(value)}")
    return tuple(read(item, _pointer(where, i)) for i, item in enumerate(value))


def _required_object(value: object, at: str) -> Mapping[str, object]:
    obj = _object(value, at)
    if obj is None:
        raise InputError(f"{at} must be an object, not null")
    return obj


def _ticket(value: object, at: str) -> TicketLine:
    obj = _required_object(value, at)
    key = _required(obj, "key", at)
    return TicketLine(one_line(key), _text(obj, "system", at), _text(obj, "url", at))


def _commit(value: object, at: str) -> CommitLine:
    obj = _required_object(value, at)
    sha = _required(obj, "sha", at)
    subject = _text(obj, "subject", at) or ""
    author = _text(obj, "author", at)
    return CommitLine(one_line(sha), one_line(subject), one_line(author) if author else None)


def _path(value: object, at: str) -> PathLine:
    obj = _required_object(value, at)
    path = _required(obj, "path", at)
    groups = _items(obj, "high_risk", at, lambda v, where: one_line(_string(v, where)))
    return PathLine(one_line(path), groups)


def _artifact(value: object, at: str) -> tuple[str, str]:
    obj = _required_object(value, at)
    name = _required(obj, "name", at)
    sha256 = _text(obj, "sha256", at) or ""
    return one_line(name), one_line(sha256)


def _evidence(value: object, at: str) -> EvidenceLine:
    obj = _required_object(value, at)
    kind = _required(obj, "kind", at)
    summary = _object(obj.get("summary"), _pointer(at, "summary")) or {}
    scalars = tuple(
        (one_line(_clean(str(k))), one_line(_clean(str(v))))
        for k, v in sorted(summary.items(), key=lambda kv: str(kv[0]))
        if isinstance(v, str | int | float | bool)
    )
    return EvidenceLine(
        seq=_seq(obj, at),
        kind=one_line(kind),
        format=_text(obj, "format", at),
        sha256=_text(obj, "sha256", at),
        summary=scalars,
    )


def _decision(value: object, at: str) -> DecisionLine:
    obj = _required_object(value, at)
    if not isinstance(obj.get("allowed"), bool):
        raise InputError(f"{_pointer(at, 'allowed')} must be true or false")
    return DecisionLine(
        seq=_seq(obj, at),
        allowed=_flag(obj, "allowed", at),
        classification=_text(obj, "classification", at),
        failed=_items(obj, "failed", at, _failed_control),
    )


def _failed_control(value: object, at: str) -> str:
    """A failed control: its id, or an object {id, reason} (what `change open` writes)."""
    if isinstance(value, str):
        return one_line(_clean(value))
    obj = _required_object(value, at)
    control = one_line(_required(obj, "id", at))
    reason = _text(obj, "reason", at)
    return f"{control} ({one_line(reason)})" if reason else control


def _moment(obj: Mapping[str, object], key: str) -> datetime | None:
    where = _pointer("/schedule", key)
    text = _text(obj, key, "/schedule")
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{where} is {text!r}, not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise InputError(
            f"{where} is {text!r}, which has no time zone",
            hint="write it in UTC with a Z, such as 2026-03-02T22:00:00Z",
        )
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 with a positive offset, say
        raise InputError(f"{where} is {text!r}, outside the years a ticket can hold") from None


def _schedule(top: Mapping[str, object]) -> tuple[datetime | None, datetime | None]:
    schedule = _object(top.get("schedule"), "/schedule")
    if schedule is None:
        return None, None
    start, end = _moment(schedule, "start"), _moment(schedule, "end")
    if start is not None and end is not None and end < start:
        raise InputError("/schedule/end is before /schedule/start")
    return start, end
