"""Test runs: the one reading every `test-results` reader makes, whatever format it reads.

A reader counts each file into a `FileTally`; `merge` adds a call's tallies up into one
`TestRun`, and `run_reading` turns that into the reading: the same summary keys, the
same capped name lists in the detail and the same bounded notes for JUnit XML as for
pytest-json-report, so the tests-passed control and superseding read one shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from changeproof.domain.evidence import EvidenceKind, Reading, TestRun

# The documents load pydantic: imported where a reading is made, so registering the readers
# (the CLI listing its commands) loads no parser.
if TYPE_CHECKING:
    from changeproof.domain.evidence_documents import TestFileCounts

__all__ = [
    "MAX_NAMES",
    "MAX_NAME_CHARS",
    "MAX_SUITE_NAMES",
    "MAX_SUITE_NAME_CHARS",
    "MIXED",
    "FileTally",
    "Notes",
    "merge",
    "run_reading",
    "short_name",
]

MAX_NAMES: Final = 1_000
"""Names kept per list (failed, errored, skipped) in a reading's detail."""

MAX_NAME_CHARS: Final = 1_000
MAX_SUITE_NAMES: Final = 100  # suite names a summary keeps (sorted), per file and in all
MAX_SUITE_NAME_CHARS: Final = 200
MIXED: Final = "mixed"  # the dialect of a call whose files are in different dialects
_MAX_NOTES: Final = 20


@dataclass(slots=True)
class FileTally:
    """One file's counts."""

    source: str
    dialect: str
    suites: int = 0
    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0
    time_ms: int = 0
    failed: list[str] = field(default_factory=list)
    errored: list[str] = field(default_factory=list)
    skipped_tests: list[str] = field(default_factory=list)
    suite_names: list[str] = field(default_factory=list)

    def counts(self) -> TestFileCounts:
        from changeproof.domain.evidence_documents import TestFileCounts

        return TestFileCounts(
            file=self.source,
            dialect=self.dialect,
            suites=self.suites,
            tests=self.tests,
            failures=self.failures,
            errors=self.errors,
            skipped=self.skipped,
            time_ms=self.time_ms,
        )


class Notes:
    """What the reader wants a person to know, bounded so a hostile file cannot flood it."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._dropped = 0

    def add(self, note: str) -> None:
        if len(self.items) < _MAX_NOTES:
            self.items.append(note)
        else:
            self._dropped += 1

    def finish(self) -> list[str]:
        if self._dropped:
            return [*self.items, f"{self._dropped} more notes left out"]
        return self.items


def short_name(name: str, limit: int = MAX_NAME_CHARS) -> str:
    """`name`, cut to `limit` characters with an ellipsis when longer."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def merge(tallies: Sequence[FileTally]) -> TestRun:
    """The files of one call added up into one run; `mixed` when their dialects differ."""
    dialects = {tally.dialect for tally in tallies}
    return TestRun(
        dialect=dialects.pop() if len(dialects) == 1 else MIXED,
        suites=sum(t.suites for t in tallies),
        tests=sum(t.tests for t in tallies),
        failures=sum(t.failures for t in tallies),
        errors=sum(t.errors for t in tallies),
        skipped=sum(t.skipped for t in tallies),
        time_ms=sum(t.time_ms for t in tallies),
        failed=tuple(name for t in tallies for name in t.failed),
        errored=tuple(name for t in tallies for name in t.errored),
        skipped_tests=tuple(name for t in tallies for name in t.skipped_tests),
    )


def run_reading(
    format: str,
    run: TestRun,
    tallies: Sequence[FileTally],
    notes: Sequence[str],
    messages: Sequence[tuple[str, str | None, str | None]] | None = None,
) -> Reading:
    """The reading of a merged run: the summary a control decides on, the names as detail;
    `messages` (test, stage, message) for readers that know why a test went wrong."""
    from pydantic import MISSING

    from changeproof.domain.evidence_documents import (
        TestMessage,
        TestNamesCut,
        TestRunDetail,
        TestRunSummary,
    )

    summary = TestRunSummary(
        dialect=run.dialect,
        files=len(tallies),
        suites=run.suites,
        tests=run.tests,
        passed=run.passed,
        failures=run.failures,
        errors=run.errors,
        skipped=run.skipped,
        time_ms=run.time_ms,
        # What the run was of, so a later run of the same suites supersedes it.
        suite_names=tuple(sorted({n for t in tallies for n in t.suite_names})[:MAX_SUITE_NAMES]),
    )
    detail = TestRunDetail(
        truncated=TestNamesCut(
            failed=len(run.failed) > MAX_NAMES,
            errored=len(run.errored) > MAX_NAMES,
            skipped=len(run.skipped_tests) > MAX_NAMES,
        ),
        failed=run.failed[:MAX_NAMES],
        errored=run.errored[:MAX_NAMES],
        skipped=run.skipped_tests[:MAX_NAMES],
        files=tuple(tally.counts() for tally in tallies),
        messages=MISSING if messages is None else tuple(TestMessage(*m) for m in messages),
    )
    return Reading(
        kind=EvidenceKind.TEST_RUN,
        format=format,
        summary=summary,
        detail=detail,
        notes=tuple(notes),
    )
