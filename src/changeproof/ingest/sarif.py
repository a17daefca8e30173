"""SARIF 2.1.0 scan results (bandit, semgrep, CodeQL, Trivy, ZAP, ...) as one `Scan`.

Every run of the log is read: its tool, its results with their *effective* level (SARIF 2.1.0
§3.27.10: a result without `level` takes one from its kind, its rule's configuration or the
default), which results are suppressed, where each points, and the commits the run says it
scanned. Suppressed results are counted apart and never in `by_level` or `by_rule`, which are
what a policy threshold looks at.

Only version 2.1.0 is accepted: 2.0.0 and the 2.2 drafts differ in the very properties read
here. A document that is not shaped like SARIF is refused with the JSON pointer of the first
thing wrong, never read half-way.

The log and its runs are read here; a run's rules, and the level and message strings a result
takes from them, in `sarif_rules`; typed access to the JSON in `sarif_json`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from changeproof.domain.evidence import EvidenceKind, Finding, Reading, Scan
from changeproof.ingest.jsondoc import load_json
from changeproof.ingest.registry import ReadOptions, Source, reader
from changeproof.ingest.sarif_json import LEVELS, Obj, Path, SarifDoc, clean, json_kind
from changeproof.ingest.sarif_rules import Rule, RuleTable

# The documents load pydantic: imported where a reading is made, so registering this reader
# (the CLI listing its commands) loads no parser.
if TYPE_CHECKING:
    from changeproof.domain.evidence_documents import ScanRunTally

__all__ = ["LEVELS", "MAX_FINDINGS", "SARIF_VERSION", "parse_scan", "read_scan", "sarif_reader"]

SARIF_VERSION: Final = "2.1.0"
MAX_FINDINGS: Final = 5_000
"""Findings kept, unsuppressed first; `truncated` says when some were left out."""

_KINDS: Final = frozenset({"pass", "open", "informational", "notApplicable", "review", "fail"})
_STATUSES: Final = frozenset({"accepted", "underReview", "rejected"})
_MAX_MESSAGE_CHARS: Final = 2_000
_VERSION_NUMBER: Final = re.compile(r"(\d{1,6})(?:\.(\d{1,6}))?(?:\.(\d{1,6}))?")
_ARGUMENT: Final = re.compile(r"\{\{|\}\}|\{(\d{1,4})\}")


def read_scan(data: bytes, source: str) -> Reading:
    """Read one SARIF 2.1.0 log into a scan reading."""
    from changeproof.domain.evidence_documents import ScanDetail, ScanFinding, ScanSummary

    log = _read(data, source)
    scan = log.scan
    summary = ScanSummary(
        sarif_version=scan.sarif_version,
        tool=", ".join(dict.fromkeys(scan.tools)),
        tools=scan.tools,
        runs=len(scan.tools),
        results=scan.results,
        by_level=dict(scan.by_level),
        suppressed=scan.suppressed,
        by_rule=dict(scan.by_rule),
        truncated=scan.truncated,
    )
    detail = ScanDetail(
        runs=tuple(run.tally() for run in log.runs),
        findings=tuple(
            ScanFinding(
                run=run_index,
                tool=finding.tool,
                rule=finding.rule_id,
                level=finding.level,
                file=finding.file,
                line=finding.line,
                message=finding.message,
                suppressed=finding.suppressed,
            )
            for run_index, finding in log.kept
        ),
        truncated=scan.truncated,
    )
    return Reading(
        kind=EvidenceKind.SCAN,
        format=f"sarif/{scan.sarif_version}",
        summary=summary,
        detail=detail,
        commits=scan.commits,
        notes=tuple(log.notes),
    )


@reader(
    "sarif",
    command="scan",
    kind=EvidenceKind.SCAN,
    title="SARIF 2.1.0",
    summary="SARIF 2.1.0, from static-analysis and security scanners",
    records=("sarif/2.1.0",),
)
def sarif_reader(sources: Sequence[Source], options: ReadOptions) -> Reading:
    (source,) = sources
    return read_scan(source.data, source.name)


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

    def tally(self) -> ScanRunTally:
        from changeproof.domain.evidence_documents import ScanRunTally

        return ScanRunTally(
            tool=self.name,
            version=self.version,
            results=self.results,
            suppressed=self.suppressed,
            by_level=dict(self.by_level),
            by_rule=dict(self.by_rule),
            commits=self.commits,
        )


@dataclass(frozen=True, slots=True)
class _Log:
    scan: Scan
    runs: list[_Run]
    kept: list[tuple[int, Finding]]
    notes: list[str]


def _read(data: bytes, source: str) -> _Log:
    doc = SarifDoc(source)
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


def _check_version(doc: SarifDoc, top: Obj) -> None:
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
        raise doc.fail(("version",), f"expected a version string, found {json_kind(version)}")
    if version == SARIF_VERSION:
        return
    shown = clean(version[:40])
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


class _RunReader:
    """One run: its tool, and each result as a `Finding` (rules looked up in a `RuleTable`)."""

    def __init__(self, doc: SarifDoc, run: Obj, index: int, notes: list[str]) -> None:
        self.doc = doc
        self.run = run
        self.index = index
        self.notes = notes
        self.path: Path = ("runs", index)
        tool = doc.obj(run.get("tool"), (*self.path, "tool"))
        driver_path: Path = (*self.path, "tool", "driver")
        driver = doc.obj(tool.get("driver"), driver_path)
        name = doc.opt_str(driver, "name", driver_path)
        if not name:
            raise doc.fail((*driver_path, "name"), "missing: every SARIF tool has a name")
        self.name = name
        self.version = doc.opt_str(driver, "version", driver_path) or doc.opt_str(
            driver, "semanticVersion", driver_path
        )
        self.tool = f"{name} {self.version}" if self.version else name
        self.rules = RuleTable(doc, run, self.path, tool, driver)

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
        rule = self.rules.find(reference, rule_id, (rule_index, index_path), path)
        if rule_id is None and rule is not None:
            rule_id = rule.id
        return Finding(
            tool=self.tool,
            rule_id=rule_id,
            level=self.rules.level(result, level, kind, rule, path),
            message=self._message(result, rule, path),
            file=self._file(result, path),
            line=self._line(result, path),
            suppressed=self._suppressed(result, path),
        )

    def _message(self, result: Obj, rule: Rule | None, path: Path) -> str:
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
                text = self.rules.message_string(message_id, rule)
        if text is None:
            return ""
        arguments = [
            clean(a) if isinstance(a, str) else ""
            for a in doc.opt_list(message, "arguments", message_path)
        ]
        if arguments:
            text = _fill(text, arguments)
        if len(text) > _MAX_MESSAGE_CHARS:
            return text[: _MAX_MESSAGE_CHARS - 1] + "…"
        return text

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
        """Suppressed: a non-empty `suppressions` array every entry of which is `accepted` (or
        gives no status, which means accepted). SARIF 2.1.0 §3.35.3: a suppression `underReview`
        is only proposed and one `rejected` was turned down; either leaves the result standing
        (fail closed when entries disagree)."""
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
        return bool(statuses) and all(status in (None, "accepted") for status in statuses)


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
