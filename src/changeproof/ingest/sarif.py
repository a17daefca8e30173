"""SARIF 2.1.0 scan results (bandit, semgrep, CodeQL, Trivy, ZAP, ...) as one `Scan`.

Every run of the log is read: its tool, its results with their *effective* level (SARIF 2.1.0
§3.27.10: a result without `level` takes one from its kind, its rule's configuration or the
default), which results are suppressed, where each points, and the commits the run says it
scanned. Suppressed results are counted apart and never in `by_level` or `by_rule`, which are
what a policy threshold looks at.

Only version 2.1.0 is accepted: 2.0.0 and the 2.2 drafts differ in the very properties read
here. A document that is not shaped like SARIF is refused with the JSON pointer of the first
thing wrong, never read half-way.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from changeproof.domain.canonical import JsonValue
from changeproof.domain.evidence import EvidenceKind, Finding, Reading, Scan
from changeproof.ingest.errors import ReadError
from changeproof.ingest.jsondoc import load_json, pointer

__all__ = ["LEVELS", "MAX_FINDINGS", "SARIF_VERSION", "parse_scan", "read_scan"]

SARIF_VERSION: Final = "2.1.0"
LEVELS: Final = ("error", "warning", "note", "none")
MAX_FINDINGS: Final = 5_000
"""Findings kept, unsuppressed first; `truncated` says when some were left out."""

_KINDS: Final = frozenset({"pass", "open", "informational", "notApplicable", "review", "fail"})
_STATUSES: Final = frozenset({"accepted", "underReview", "rejected"})
_MAX_MESSAGE_CHARS: Final = 2_000
_MAX_RULE_DEPTH: Final = 8  # hierarchical ruleId components tried, longest first
_MAX_SAFE_INT: Final = 2**53 - 1
_VERSION_NUMBER: Final = re.compile(r"(\d{1,6})(?:\.(\d{1,6}))?(?:\.(\d{1,6}))?")
_ARGUMENT: Final = re.compile(r"\{\{|\}\}|\{(\d{1,4})\}")

Path: TypeAlias = tuple[str | int, ...]
Obj: TypeAlias = Mapping[str, object]


def read_scan(data: bytes, source: str) -> Reading:
    """Read one SARIF 2.1.0 log into a scan reading."""
    log = _read(data, source)
    scan = log.scan
    summary: dict[str, JsonValue] = {
        "sarif_version": scan.sarif_version,
        "tool": ", ".join(dict.fromkeys(scan.tools)),
        "tools": list(scan.tools),
        "runs": len(scan.tools),
        "results": scan.results,
        "by_level": dict(scan.by_level),
        "suppressed": scan.suppressed,
        "by_rule": dict(scan.by_rule),
        "truncated": scan.truncated,
    }
    detail: dict[str, JsonValue] = {
        "runs": [run.to_data() for run in log.runs],
        "findings": [
            {
                "run": run_index,
                "tool": finding.tool,
                "rule": finding.rule_id,
                "level": finding.level,
                "file": finding.file,
                "line": finding.line,
                "message": finding.message,
                "suppressed": finding.suppressed,
            }
            for run_index, finding in log.kept
        ],
        "truncated": scan.truncated,
    }
    return Reading(
        kind=EvidenceKind.SCAN,
        format=f"sarif/{scan.sarif_version}",
        summary=summary,
        detail=detail,
        commits=scan.commits,
        notes=tuple(log.notes),
    )


def parse_scan(data: bytes, source: str) -> Scan:
    """The `Scan` a SARIF 2.1.0 log describes (findings capped at `MAX_FINDINGS`)."""
    return _read(data, source).scan


@dataclass(frozen=True, slots=True)
class _Run:
    tool: str
    name: str
    version: str | None
    results: int
    suppressed: int
    by_level: dict[str, int]
    by_rule: dict[str, int]
    commits: tuple[str, ...]

    def to_data(self) -> dict[str, JsonValue]:
        return {
            "tool": self.name,
            "version": self.version,
            "results": self.results,
            "suppressed": self.suppressed,
            "by_level": dict(self.by_level),
            "by_rule": dict(self.by_rule),
            "commits": list(self.commits),
        }


@dataclass(frozen=True, slots=True)
class _Log:
    scan: Scan
    runs: list[_Run]
    kept: list[tuple[int, Finding]]
    notes: list[str]


class _Doc:
    """Typed access to the parsed JSON; every wrong shape is a ReadError at its pointer."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: Path, problem: str, *, hint: str | None = None) -> ReadError:
        return ReadError(self.source, problem, pointer=pointer(*path) if path else "", hint=hint)

    def obj(self, value: object, path: Path) -> Obj:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a JSON object, found {_kind(value)}")
        return value

    def opt_obj(self, parent: Obj, key: str, path: Path) -> Obj | None:
        value = parent.get(key)
        return None if value is None else self.obj(value, (*path, key))

    def opt_list(self, parent: Obj, key: str, path: Path) -> list[object]:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail((*path, key), f"expected a JSON array, found {_kind(value)}")
        return value

    def opt_str(self, parent: Obj, key: str, path: Path) -> str | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail((*path, key), f"expected a string, found {_kind(value)}")
        return _clean(value)

    def opt_int(self, parent: Obj, key: str, path: Path, *, least: int) -> int | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail((*path, key), f"expected an integer, found {_kind(value)}")
        if not least <= value <= _MAX_SAFE_INT:
            raise self.fail((*path, key), f"{value} is out of range (at least {least})")
        return value

    def opt_level(self, parent: Obj, key: str, path: Path) -> str | None:
        value = parent.get(key)
        if value is not None and (not isinstance(value, str) or value not in LEVELS):
            raise self.fail((*path, key), f"not a SARIF level ({', '.join(LEVELS)})")
        return None if value is None else str(value)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _clean(text: str) -> str:
    """JSON may carry lone surrogates ("\\ud800"); they have no UTF-8 form, so replace them."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def _read(data: bytes, source: str) -> _Log:
    doc = _Doc(source)
    top = doc.obj(load_json(data, source), ())
    _check_version(doc, top)
    notes: list[str] = []
    if "runs" not in top:
        raise doc.fail(("runs",), "missing: a SARIF log has a runs array")
    if top["runs"] is None:
        notes.append("runs is null: the tool could not determine its runs; no results")
    runs: list[_Run] = []
    findings: list[tuple[int, Finding]] = []
    for index, run in enumerate(doc.opt_list(top, "runs", ())):
        _RunReader(doc, doc.obj(run, ("runs", index)), index, notes).read(runs, findings)
    by_level: Counter[str] = Counter(dict.fromkeys(LEVELS, 0))
    by_rule: Counter[str] = Counter()
    for run_summary in runs:
        by_level.update(run_summary.by_level)
        by_rule.update(run_summary.by_rule)
    ordered = sorted(findings, key=lambda pair: pair[1].suppressed)  # stable: file order kept
    kept = ordered[:MAX_FINDINGS]
    commits = tuple(dict.fromkeys(c for run_summary in runs for c in run_summary.commits))
    scan = Scan(
        tools=tuple(r.tool for r in runs),
        sarif_version=SARIF_VERSION,
        results=sum(r.results for r in runs),
        by_level=dict(by_level),
        suppressed=sum(r.suppressed for r in runs),
        by_rule=dict(by_rule),
        findings=tuple(finding for _, finding in kept),
        truncated=len(ordered) > MAX_FINDINGS,
        commits=commits,
    )
    return _Log(scan, runs, kept, notes)


def _check_version(doc: _Doc, top: Obj) -> None:
    version = top.get("version")
    schema = top.get("$schema")
    if version is None and isinstance(schema, str) and "json-schema.org" in schema:
        raise doc.fail(("version",), "this is a JSON Schema document, not a SARIF log")
    if version is None:
        raise doc.fail(
            ("version",),
            "no SARIF version: not a SARIF log, or not one this reader knows",
            hint=f'a SARIF {SARIF_VERSION} log starts {{"version": "{SARIF_VERSION}", "runs": …',
        )
    if not isinstance(version, str):
        raise doc.fail(("version",), f"expected a version string, found {_kind(version)}")
    if version == SARIF_VERSION:
        return
    shown = _clean(version[:40])
    match = _VERSION_NUMBER.fullmatch(version)
    if match is None:
        raise doc.fail(("version",), f"SARIF version {shown!r} is not one this reader knows")
    number = tuple(int(part or 0) for part in match.groups())
    if number < (2, 1, 0):
        raise doc.fail(
            ("version",),
            f"SARIF {shown} is older than {SARIF_VERSION}; only {SARIF_VERSION} is read",
            hint="upgrade the log with the SARIF SDK: "
            "`sarif transform --sarif-output-version Current`, or a newer tool version",
        )
    raise doc.fail(
        ("version",),
        f"SARIF {shown} is newer than {SARIF_VERSION} (a draft or later standard); "
        f"only {SARIF_VERSION} is read",
        hint=f"have the tool write SARIF {SARIF_VERSION}",
    )


@dataclass(frozen=True, slots=True)
class _Rule:
    component: int  # -1 for the driver, else the extension's index
    index: int
    id: str | None
    body: Obj
    path: Path


class _RunReader:
    def __init__(self, doc: _Doc, run: Obj, index: int, notes: list[str]) -> None:
        self.doc = doc
        self.run = run
        self.index = index
        self.notes = notes
        self.path: Path = ("runs", index)
        tool = doc.obj(run.get("tool"), (*self.path, "tool"))
        driver_path: Path = (*self.path, "tool", "driver")
        self.driver = doc.obj(tool.get("driver"), driver_path)
        name = doc.opt_str(self.driver, "name", driver_path)
        if not name:
            raise doc.fail((*driver_path, "name"), "missing: every SARIF tool has a name")
        self.name = name
        self.version = doc.opt_str(self.driver, "version", driver_path) or doc.opt_str(
            self.driver, "semanticVersion", driver_path
        )
        self.tool = f"{name} {self.version}" if self.version else name
        self.components: list[tuple[Obj, Path]] = [(self.driver, driver_path)]
        for i, extension in enumerate(doc.opt_list(tool, "extensions", (*self.path, "tool"))):
            ext_path: Path = (*self.path, "tool", "extensions", i)
            self.components.append((doc.obj(extension, ext_path), ext_path))
        self.rules: list[list[_Rule]] = []  # per component: the driver, then each extension
        self.ids: list[dict[str, _Rule]] = []  # the same, by rule id (first one wins)
        self.rules_by_id: dict[str, _Rule] = {}  # every component's, the driver's first
        for component, (body, comp_path) in enumerate(self.components, start=-1):
            table: list[_Rule] = []
            ids: dict[str, _Rule] = {}
            for i, rule in enumerate(doc.opt_list(body, "rules", comp_path)):
                rule_path: Path = (*comp_path, "rules", i)
                rule_body = doc.obj(rule, rule_path)
                rule_id = doc.opt_str(rule_body, "id", rule_path)
                entry = _Rule(component, i, rule_id, rule_body, rule_path)
                table.append(entry)
                if rule_id is not None:
                    ids.setdefault(rule_id, entry)
                    self.rules_by_id.setdefault(rule_id, entry)
            self.rules.append(table)
            self.ids.append(ids)

    def read(self, runs: list[_Run], findings: list[tuple[int, Finding]]) -> None:
        doc = self.doc
        if self.run.get("results") is None:
            self.notes.append(f"run {self.index} ({self.tool}) has no results array")
        results = doc.opt_list(self.run, "results", self.path)
        by_level: Counter[str] = Counter(dict.fromkeys(LEVELS, 0))
        by_rule: Counter[str] = Counter()
        suppressed = 0
        for i, result in enumerate(results):
            finding = self._finding(doc.obj(result, (*self.path, "results", i)), i)
            findings.append((self.index, finding))
            if finding.suppressed:
                suppressed += 1
                continue
            by_level[finding.level] += 1
            if finding.rule_id is not None:
                by_rule[finding.rule_id] += 1
        commits: list[str] = []
        vcp_path: Path = (*self.path, "versionControlProvenance")
        for i, details in enumerate(doc.opt_list(self.run, "versionControlProvenance", self.path)):
            revision = doc.opt_str(doc.obj(details, (*vcp_path, i)), "revisionId", (*vcp_path, i))
            if revision:
                commits.append(revision)
        runs.append(
            _Run(
                self.tool,
                self.name,
                self.version,
                len(results),
                suppressed,
                dict(by_level),
                dict(by_rule),
                tuple(dict.fromkeys(commits)),
            )
        )

    def _finding(self, result: Obj, i: int) -> Finding:
        doc = self.doc
        path: Path = (*self.path, "results", i)
        level = doc.opt_level(result, "level", path)
        kind = result.get("kind")
        if kind is not None and (not isinstance(kind, str) or kind not in _KINDS):
            raise doc.fail(
                (*path, "kind"), f"not a SARIF result kind ({', '.join(sorted(_KINDS))})"
            )
        reference = doc.opt_obj(result, "rule", path)
        rule_id = doc.opt_str(result, "ruleId", path)
        rule_index = doc.opt_int(result, "ruleIndex", path, least=-1)
        index_path: Path = (*path, "ruleIndex")
        if reference is not None:
            ref_path: Path = (*path, "rule")
            rule_id = rule_id or doc.opt_str(reference, "id", ref_path)
            if rule_index is None:
                rule_index = doc.opt_int(reference, "index", ref_path, least=-1)
                index_path = (*ref_path, "index")
        rule = self._rule(reference, rule_id, (rule_index, index_path), path)
        if rule_id is None and rule is not None:
            rule_id = rule.id
        if level is None and kind not in (None, "fail"):
            level = "none"
        elif level is None:
            level = self._configured_level(result, rule, path)
        return Finding(
            tool=self.tool,
            rule_id=rule_id,
            level=level,
            message=self._message(result, rule, path),
            file=self._file(result, path),
            line=self._line(result, path),
            suppressed=self._suppressed(result, path),
        )

    def _rule(
        self,
        reference: Obj | None,
        rule_id: str | None,
        located_index: tuple[int | None, Path],
        path: Path,
    ) -> _Rule | None:
        """The rule's descriptor (SARIF §3.52.3): by index in its component, else by id."""
        doc = self.doc
        index, index_path = located_index
        component: int | None = None
        if reference is not None:
            component_ref = doc.opt_obj(reference, "toolComponent", (*path, "rule"))
            if component_ref is not None:
                component = self._component(component_ref, (*path, "rule", "toolComponent"))
        if index is not None and index >= 0:
            table = self.rules[(component if component is not None else -1) + 1]
            if index >= len(table):
                where = "tool.driver" if component in (None, -1) else f"extension {component}"
                raise doc.fail(
                    index_path, f"rule index {index}, but {where} lists {len(table)} rules"
                )
            return table[index]
        if rule_id is None:
            return None
        by_id = self.ids[component + 1] if component is not None else self.rules_by_id
        # A ruleId is hierarchical ("CA5350/md5"): its leading components name the rule.
        wanted = rule_id
        for _ in range(_MAX_RULE_DEPTH):
            found = by_id.get(wanted)
            if found is not None or "/" not in wanted:
                return found
            wanted = wanted.rpartition("/")[0]
        return None

    def _component(self, reference: Obj, path: Path) -> int | None:
        """A toolComponentReference: an extension's index, or -1 for the driver."""
        doc = self.doc
        index = doc.opt_int(reference, "index", path, least=-1)
        if index is not None and index >= 0:
            if index >= len(self.components) - 1:
                raise doc.fail(
                    (*path, "index"),
                    f"extension index {index}, but the tool has {len(self.components) - 1}",
                )
            return index
        name = doc.opt_str(reference, "name", path)
        guid = doc.opt_str(reference, "guid", path)
        for position, (body, _) in enumerate(self.components, start=-1):
            if (name is not None and body.get("name") == name) or (
                guid is not None and body.get("guid") == guid
            ):
                return position
        return None

    def _configured_level(self, result: Obj, rule: _Rule | None, path: Path) -> str:
        """An invocation's override for the rule, else its default configuration, else warning."""
        if rule is None:
            return "warning"
        doc = self.doc
        override = self._override(result, rule, path)
        if override is not None:
            return override
        default = doc.opt_obj(rule.body, "defaultConfiguration", rule.path)
        if default is not None:
            level = doc.opt_level(default, "level", (*rule.path, "defaultConfiguration"))
            if level is not None:
                return level
        return "warning"

    def _override(self, result: Obj, rule: _Rule, path: Path) -> str | None:
        """The level a `ruleConfigurationOverrides` entry of the result's invocation sets."""
        doc = self.doc
        provenance = doc.opt_obj(result, "provenance", path)
        if provenance is None:
            return None
        invocation_index = provenance.get("invocationIndex")
        invocations = self.run.get("invocations")
        if (
            isinstance(invocation_index, bool)
            or not isinstance(invocation_index, int)
            or not isinstance(invocations, list)
            or not 0 <= invocation_index < len(invocations)
        ):
            return None
        inv_path: Path = (*self.path, "invocations", invocation_index)
        invocation = doc.obj(invocations[invocation_index], inv_path)
        for k, item in enumerate(doc.opt_list(invocation, "ruleConfigurationOverrides", inv_path)):
            item_path: Path = (*inv_path, "ruleConfigurationOverrides", k)
            override = doc.obj(item, item_path)
            descriptor = doc.opt_obj(override, "descriptor", item_path)
            configuration = doc.opt_obj(override, "configuration", item_path)
            if descriptor is None or configuration is None:
                continue
            component = rule.component
            component_ref = doc.opt_obj(descriptor, "toolComponent", (*item_path, "descriptor"))
            if component_ref is not None:
                target = self._component(component_ref, (*item_path, "descriptor", "toolComponent"))
                if target != component:
                    continue
            elif component != -1:
                continue
            index = descriptor.get("index")
            if isinstance(index, bool) or not isinstance(index, int | None):
                continue
            if index == rule.index or (
                rule.id is not None and index is None and descriptor.get("id") == rule.id
            ):
                return doc.opt_level(configuration, "level", (*item_path, "configuration"))
        return None

    def _message(self, result: Obj, rule: _Rule | None, path: Path) -> str:
        """message.text, else the rule's messageStrings[message.id], arguments filled in."""
        doc = self.doc
        message = doc.opt_obj(result, "message", path)
        if message is None:
            return ""
        message_path: Path = (*path, "message")
        text = doc.opt_str(message, "text", message_path)
        if text is None:
            message_id = doc.opt_str(message, "id", message_path)
            if message_id is not None:
                text = self._message_string(message_id, rule)
        if text is None:
            return ""
        arguments = [
            _clean(a) if isinstance(a, str) else ""
            for a in doc.opt_list(message, "arguments", message_path)
        ]
        if arguments:
            text = _fill(text, arguments)
        if len(text) > _MAX_MESSAGE_CHARS:
            return text[: _MAX_MESSAGE_CHARS - 1] + "…"
        return text

    def _message_string(self, message_id: str, rule: _Rule | None) -> str | None:
        """SARIF §3.11.7: the rule's messageStrings, then its component's globalMessageStrings."""
        doc = self.doc
        places: list[tuple[Obj, str, Path]] = []
        if rule is not None:
            places.append((rule.body, "messageStrings", rule.path))
            body, comp_path = self.components[rule.component + 1]
            places.append((body, "globalMessageStrings", comp_path))
        else:
            places.append((self.driver, "globalMessageStrings", (*self.path, "tool", "driver")))
        for body, key, place_path in places:
            strings = doc.opt_obj(body, key, place_path)
            if strings is None or message_id not in strings:
                continue
            entry = doc.obj(strings[message_id], (*place_path, key, message_id))
            text = doc.opt_str(entry, "text", (*place_path, key, message_id))
            if text is not None:
                return text
        return None

    def _physical(self, result: Obj, path: Path) -> tuple[Obj, Path] | None:
        doc = self.doc
        locations = doc.opt_list(result, "locations", path)
        if not locations:
            return None
        location_path: Path = (*path, "locations", 0)
        location = doc.obj(locations[0], location_path)
        physical = doc.opt_obj(location, "physicalLocation", location_path)
        if physical is None:
            return None
        return physical, (*location_path, "physicalLocation")

    def _file(self, result: Obj, path: Path) -> str | None:
        doc = self.doc
        found = self._physical(result, path)
        if found is None:
            return None
        physical, physical_path = found
        artifact = doc.opt_obj(physical, "artifactLocation", physical_path)
        if artifact is None:
            return None
        artifact_path: Path = (*physical_path, "artifactLocation")
        uri = doc.opt_str(artifact, "uri", artifact_path)
        if uri is not None:
            return uri
        index = doc.opt_int(artifact, "index", artifact_path, least=-1)
        artifacts = doc.opt_list(self.run, "artifacts", self.path)
        if index is None or not 0 <= index < len(artifacts):
            return None
        entry_path: Path = (*self.path, "artifacts", index)
        entry = doc.obj(artifacts[index], entry_path)
        location = doc.opt_obj(entry, "location", entry_path)
        if location is None:
            return None
        return doc.opt_str(location, "uri", (*entry_path, "location"))

    def _line(self, result: Obj, path: Path) -> int | None:
        doc = self.doc
        found = self._physical(result, path)
        if found is None:
            return None
        physical, physical_path = found
        region = doc.opt_obj(physical, "region", physical_path)
        if region is None:
            return None
        return doc.opt_int(region, "startLine", (*physical_path, "region"), least=1)

    def _suppressed(self, result: Obj, path: Path) -> bool:
        """Suppressed: a non-empty `suppressions` array whose entries are not all rejected."""
        doc = self.doc
        statuses: list[str | None] = []
        for k, entry in enumerate(doc.opt_list(result, "suppressions", path)):
            entry_path: Path = (*path, "suppressions", k)
            status = doc.opt_str(doc.obj(entry, entry_path), "status", entry_path)
            if status is not None and status not in _STATUSES:
                raise doc.fail(
                    (*entry_path, "status"),
                    f"not a SARIF suppression status ({', '.join(sorted(_STATUSES))})",
                )
            statuses.append(status)
        return bool(statuses) and not all(status == "rejected" for status in statuses)


def _fill(text: str, arguments: Sequence[str]) -> str:
    """SARIF §3.11.5 placeholders: "{0}" is arguments[0]; "{{" and "}}" are literal braces."""

    def replace(match: re.Match[str]) -> str:
        piece = match.group(0)
        if piece == "{{":
            return "{"
        if piece == "}}":
            return "}"
        position = int(match.group(1))
        return arguments[position] if position < len(arguments) else piece

    return _ARGUMENT.sub(replace, text)
