"""scan-clean: static-analysis and security scans found nothing at or above a level.

Rule: scan evidence is recorded for the release (with `tools`: from each named tool,
matched case-insensitively as a prefix of a SARIF run's tool name, and only those tools'
runs are judged); no judged run has an unsuppressed result whose effective level is at
or above `level` (error > warning > note). Suppressed results never count; the reason
says how many there were. Counts come from each run's recorded tally, so a finding list
the reader capped cannot hide a result; the findings named are those the reader kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from pydantic import Field

from changeproof.domain.canonical import JsonValue
from changeproof.domain.decisions import ControlResult, ControlStatus, EvidenceRef
from changeproof.domain.evidence import EvidenceKind
from changeproof.domain.evidence_documents import ScanDetail, ScanFinding, ScanSummary
from changeproof.policy.controls.wording import counted, listing
from changeproof.policy.facts import EvidenceFact, Facts
from changeproof.policy.registry import Params, control

__all__ = ["ID", "ScanClean", "scan_clean"]

ID: Final = "scan-clean"

_RANK: Final = {"error": 3, "warning": 2, "note": 1, "none": 0}

_Scan = EvidenceFact[ScanSummary, ScanDetail]


class ScanClean(Params):
    level: Literal["error", "warning", "note"] = Field(
        default="error", description="Unsuppressed results at or above this level fail."
    )
    tools: list[str] = Field(
        default_factory=list,
        description="Scanners that must have run (prefix of the SARIF tool name, any case); "
        "empty: every recorded scan is judged.",
    )


@dataclass(frozen=True, slots=True)
class _Run:
    evidence: _Scan
    index: int
    tool: str
    by_level: Mapping[str, int]
    suppressed: int


def _runs(e: _Scan) -> list[_Run] | None:
    """Each SARIF run of a scan evidence with its tally; None when it records no run."""
    if not e.detail.runs:
        return None
    return [
        _Run(e, i, run.tool or "unnamed tool", run.by_level, run.suppressed)
        for i, run in enumerate(e.detail.runs)
    ]


def _by(run: _Run, tool: str) -> bool:
    """Is `run` by `tool` (a prefix of its name, in any case)?"""
    return run.tool.lower().startswith(tool.lower())


def _finding(f: ScanFinding) -> str:
    rule = f.rule or "a result without a rule id"
    where = f.file or "no location"
    at = f"{where}:{f.line}" if f.line is not None and f.file else where
    return f"{rule} at {at} ({f.level}, {f.tool or 'tool not named'})"


def _named(run: _Run, floor: int) -> list[str]:
    return [
        _finding(f)
        for f in run.evidence.detail.findings
        if f.run == run.index and not f.suppressed and _RANK.get(f.level, 0) >= floor
    ]


@control(
    ID,
    params=ScanClean,
    summary="scans are recorded (from the named tools) and report no unsuppressed result "
    "at or above the level",
)
def scan_clean(facts: Facts, params: ScanClean) -> ControlResult:
    """No unsuppressed scan result at or above `level`, from scans that exist."""
    floor = _RANK[params.level]
    scans = facts.scans()
    unreadable = []
    runs: list[_Run] = []
    for e in scans:
        found = _runs(e)
        if found is None:
            unreadable.append(e)
        else:
            runs.extend(found)
    wanted = list(dict.fromkeys(t.strip() for t in params.tools if t.strip()))
    judged = [r for r in runs if not wanted or any(_by(r, t) for t in wanted)]
    missing = [t for t in wanted if not any(_by(r, t) for r in runs)]
    at_level = [
        (r, sum(n for lv, n in r.by_level.items() if _RANK.get(lv, 0) >= floor)) for r in judged
    ]
    hits = sum(n for _, n in at_level)
    suppressed = sum(r.suppressed for r in judged)
    evidence = tuple(
        EvidenceRef(
            EvidenceKind.SCAN.value,
            str(e.seq),
            f"{e.format}: {e.summary.tool or 'no tool named'}",
        )
        for e in scans
    )
    facts_out: dict[str, JsonValue] = {
        "scans": len(scans),
        "runs": len(judged),
        "findings": hits,
        "suppressed": suppressed,
        "missing_tools": len(missing),
        "level": params.level,
    }
    problems = []
    if not scans:
        problems.append("no scan results are recorded for this release")
    elif missing:
        seen = listing(sorted({r.tool for r in runs})) or "none readable"
        problems.append(f"no scan from {listing(missing)} is recorded (scans seen: {seen})")
    problems.extend(f"scan {e.seq} ({e.format}) has no readable run tallies" for e in unreadable)
    if hits:
        named = [name for r, n in at_level if n for name in _named(r, floor)]
        problems.append(
            f"{counted(hits, 'unsuppressed result')} at or above {params.level}"
            + (f": {listing(named)}" if named else "")
        )
    not_counted = f"; {counted(suppressed, 'suppressed result')} not counted" if suppressed else ""
    if problems:
        return ControlResult(
            ID, ControlStatus.FAIL, "; ".join(problems) + not_counted, evidence, facts_out
        )
    tools = listing(sorted({r.tool for r in judged}))
    return ControlResult(
        ID,
        ControlStatus.PASS,
        f"{counted(len(judged), 'scan run')} ({tools}) "
        f"{'reports' if len(judged) == 1 else 'report'} no unsuppressed result at or "
        f"above {params.level}{not_counted}",
        evidence,
        facts_out,
    )
