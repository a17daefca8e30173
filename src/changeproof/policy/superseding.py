"""Newer evidence supersedes older evidence of the same kind, tool and subject.

A scan re-run after a fix, or a test run re-run after a flaky failure, is recorded beside
the first; for the gate the newer one stands, and the older stays in the ledger, shown as
superseded. Two records are of the same *tool* and *subject* when, by kind:

- `scan`: the same SARIF tool driver names (`runs[].tool.driver.name`, any case, every run
  of the file; versions may differ) and the same commits (the runs'
  `versionControlProvenance` revisions; none on both is the same);
- `test-run`: the same dialect (the producer: pytest, surefire, jest-junit …) and the same
  `<testsuite>` names (`suite_names`); a record without suite names is never superseded,
  nor supersedes;
- `provenance`: the same builder id and the same subjects (their sha256 digests).

Other kinds (reviews, SBOMs, artifacts, checks) are never superseded: reviews have their
own rules (see `controls.reviews`), and an SBOM's summary names no generator. Anything that
cannot be told (a missing field) keeps the record standing: superseding only ever drops a
record when it is sure a newer one is about the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol

from pydantic import MISSING

from changeproof.domain.evidence import EvidenceKind
from changeproof.domain.evidence_documents import (
    EvidenceDetail,
    EvidenceSummary,
    ProvenanceSummary,
    ScanDetail,
    TestRunSummary,
)

__all__ = ["SUPERSEDABLE", "Record", "sameness_key", "superseded"]


class Record(Protocol):
    """What superseding reads of a record (`facts.EvidenceFact` has it)."""

    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> EvidenceKind: ...
    @property
    def summary(self) -> EvidenceSummary: ...
    @property
    def detail(self) -> EvidenceDetail: ...


SUPERSEDABLE: Final = frozenset({EvidenceKind.SCAN, EvidenceKind.TEST_RUN, EvidenceKind.PROVENANCE})

_Key = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _scan(detail: ScanDetail) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    if not detail.runs:
        return None
    tools: set[str] = set()
    commits: set[str] = set()
    for run in detail.runs:
        if not run.tool or not all(run.commits):
            return None
        tools.add(run.tool.casefold())
        commits.update(c.lower() for c in run.commits)
    return tuple(sorted(tools)), tuple(sorted(commits))


def _test_run(summary: TestRunSummary) -> tuple[str, ...] | None:
    suites = summary.suite_names
    if suites is MISSING or not suites or not all(suites):
        return None  # recorded before suite names were, or of no named suite
    return (summary.dialect, *sorted(suites))


def _provenance(summary: ProvenanceSummary) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    builder = summary.builder
    if not builder or not summary.subjects:
        return None
    digests = []
    for subject in summary.subjects:
        sha = subject.digest.get("sha256")  # a subject may be digested by another algorithm
        if not sha:
            return None
        digests.append(sha.lower())
    return (builder,), tuple(sorted(set(digests)))


def sameness_key(e: Record) -> _Key | None:
    """What makes two records of `e`'s kind about the same thing from the same tool; None
    when `e` is never superseded (a kind that is not, or a field that cannot be told)."""
    if isinstance(e.detail, ScanDetail):
        scan = _scan(e.detail)
        return None if scan is None else (e.kind.value, scan[0], scan[1], ())
    if isinstance(e.summary, TestRunSummary):
        run = _test_run(e.summary)
        return None if run is None else (e.kind.value, run, (), ())
    if isinstance(e.summary, ProvenanceSummary):
        made = _provenance(e.summary)
        return None if made is None else (e.kind.value, made[0], (), made[1])
    return None


def superseded(evidence: Sequence[Record]) -> dict[int, int]:
    """Each superseded record's seq, with the seq of the newest record superseding it."""
    newest: dict[_Key, int] = {}
    keys: dict[int, _Key] = {}
    for e in evidence:
        key = sameness_key(e)
        if key is None:
            continue
        keys[e.seq] = key
        if e.seq > newest.get(key, -1):
            newest[key] = e.seq
    return {seq: newest[key] for seq, key in keys.items() if newest[key] != seq}
