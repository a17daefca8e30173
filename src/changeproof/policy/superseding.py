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

from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Protocol

from changeproof.domain.canonical import JsonValue
from changeproof.domain.evidence import EvidenceKind

__all__ = ["SUPERSEDABLE", "Record", "sameness_key", "superseded"]


class Record(Protocol):
    """What superseding reads of a record (`facts.EvidenceFact` has it)."""

    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> EvidenceKind: ...
    @property
    def summary(self) -> Mapping[str, JsonValue]: ...
    @property
    def detail(self) -> Mapping[str, JsonValue]: ...


SUPERSEDABLE: Final = frozenset({EvidenceKind.SCAN, EvidenceKind.TEST_RUN, EvidenceKind.PROVENANCE})

_Key = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def _texts(values: Iterable[JsonValue]) -> tuple[str, ...] | None:
    found = []
    for value in values:
        if not isinstance(value, str) or not value:
            return None
        found.append(value)
    return tuple(found)


def _list(value: JsonValue | None) -> list[JsonValue] | None:
    return value if isinstance(value, list) else None


def _scan(detail: Mapping[str, JsonValue]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    runs = _list(detail.get("runs"))
    if not runs:
        return None
    tools: set[str] = set()
    commits: set[str] = set()
    for run in runs:
        if not isinstance(run, dict):
            return None
        tool = run.get("tool")
        listed = _texts(_list(run.get("commits")) or [])
        if not isinstance(tool, str) or not tool or listed is None:
            return None
        tools.add(tool.casefold())
        commits.update(c.lower() for c in listed)
    return tuple(sorted(tools)), tuple(sorted(commits))


def _test_run(summary: Mapping[str, JsonValue]) -> tuple[str, ...] | None:
    dialect = summary.get("dialect")
    names = _list(summary.get("suite_names"))
    suites = _texts(names) if names else None
    if not isinstance(dialect, str) or not suites:
        return None
    return (dialect, *sorted(suites))


def _provenance(
    summary: Mapping[str, JsonValue],
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    builder = summary.get("builder")
    subjects = _list(summary.get("subjects"))
    if not isinstance(builder, str) or not builder or not subjects:
        return None
    digests = []
    for subject in subjects:
        digest = subject.get("digest") if isinstance(subject, dict) else None
        sha = digest.get("sha256") if isinstance(digest, dict) else None
        if not isinstance(sha, str) or not sha:
            return None
        digests.append(sha.lower())
    return (builder,), tuple(sorted(set(digests)))


def sameness_key(e: Record) -> _Key | None:
    """What makes two records of `e`'s kind about the same thing from the same tool; None
    when `e` is never superseded (a kind that is not, or a field that cannot be told)."""
    if e.kind is EvidenceKind.SCAN:
        scan = _scan(e.detail)
        return None if scan is None else (e.kind.value, scan[0], scan[1], ())
    if e.kind is EvidenceKind.TEST_RUN:
        run = _test_run(e.summary)
        return None if run is None else (e.kind.value, run, (), ())
    if e.kind is EvidenceKind.PROVENANCE:
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
