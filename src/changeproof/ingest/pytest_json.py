"""pytest-json-report's JSON (`pytest --json-report`), read into the same test run as JUnit XML.

The plugin (https://pypi.org/project/pytest-json-report/) writes one JSON object: `created`,
`duration` (the session's, in seconds), `exitcode`, `root`, `environment`, `summary` (counts
by outcome), `collectors` (what was collected, collection errors included) and `tests`: one
object per test with its `nodeid`, its `outcome` and its `setup`, `call` and `teardown`
stages, each with a `duration`, an `outcome` and, when it went wrong, `crash` and `longrepr`.

What is counted comes from `tests` and `collectors`, never from `summary` (a note says when
its `total` disagrees with the list). Each test counts once, by its `outcome`:

    passed, xpassed     passed   (a strict xpass is reported `failed` by pytest itself)
    failed              failed
    error               errored  (a fixture, setup or teardown broke)
    skipped, xfailed    skipped  (as pytest's own JUnit XML counts them)
    anything else       errored, with a note: a plugin's outcome this reader cannot judge

A collector whose `outcome` is `failed` (a test module that does not even import) counts as
one errored test named by its node id, as pytest's JUnit XML does. A run pytest ended with an
exit code other than 0 (passed) or 5 (no tests collected) in which nothing failed or errored
counts one errored test, `pytest session`: an interrupted or broken session never passes.

The summary is the JUnit reader's (`changeproof.ingest.runs`): the suites are the test
modules (a node id up to its first `::`), `time_ms` the report's `duration`, else the sum of
the stages' durations. The detail adds, for each failed or errored test, the stage that went
wrong and its message (the crash message, else the last line of `longrepr`). Several reports
of one call (shards of one run) merge into one test run.

Everything read is checked: a value of the wrong JSON type is a `ReadError` naming the file
and the JSON pointer of the value, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.ingest.errors import ReadError
from changeproof.ingest.jsondoc import MAX_SAFE_INT, clean, json_type, load_json, pointer
from changeproof.ingest.registry import ReadOptions, Source, reader, starts_like_json_object
from changeproof.ingest.runs import (
    MAX_NAMES,
    MAX_SUITE_NAME_CHARS,
    MAX_SUITE_NAMES,
    FileTally,
    Notes,
    merge,
    run_reading,
    short_name,
)

__all__ = ["FORMAT", "MAX_BYTES", "pytest_json_reader", "read_pytest_json"]

FORMAT: Final = "pytest-json"
"""The name `--format` takes, the format recorded, and the run's dialect."""

MAX_BYTES: Final = 64 * 1024 * 1024
"""A report is parsed whole into memory; past this it is mostly captured output."""

SESSION: Final = "pytest session"
"""The name of the errored test a session that did not end well counts as."""

_PASSED: Final = frozenset({"passed", "xpassed"})
_SKIPPED: Final = frozenset({"skipped", "xfailed"})
_STAGES: Final = ("setup", "call", "teardown")
_MAX_SECONDS: Final = 10**12  # beyond 31,000 years a duration is garbage
_EXIT_CODES: Final = {
    0: "all tests passed",
    1: "tests failed",
    2: "interrupted",
    3: "internal error",
    4: "usage error",
    5: "no tests collected",
}
_HINT: Final = (
    "give the file pytest writes with `--json-report --json-report-file=FILE` "
    "(the pytest-json-report plugin)"
)

_Path = tuple[str | int, ...]


def read_pytest_json(files: Sequence[tuple[str, bytes]]) -> Reading:
    """Read pytest-json-report files (name, bytes) into one test-run reading."""
    if not files:
        raise ReadError("(no files)", "no pytest-json-report files given")
    notes = Notes()
    reports = [_read_file(source, data, notes) for source, data in files]
    tallies = [report.tally for report in reports]
    messages = [m for report in reports for m in report.messages][:MAX_NAMES]
    return run_reading(FORMAT, merge(tallies), tallies, notes.finish(), messages)


@reader(
    FORMAT,
    command="test-results",
    kind=EvidenceKind.TEST_RUN,
    title="pytest-json-report JSON",
    summary="pytest-json-report JSON (`pytest --json-report`)",
    formats=(FORMAT,),
    records=(FORMAT,),
    max_bytes=MAX_BYTES,
    many_files=True,
    recognises=starts_like_json_object,
)
def pytest_json_reader(sources: Sequence[Source], options: ReadOptions) -> Reading:
    """Every report of the call, merged into one test run."""
    return read_pytest_json([(s.name, s.data) for s in sources])


@dataclass(slots=True)
class _Report:
    tally: FileTally
    # (test, stage, message) of each test that went wrong: the detail's `messages`
    messages: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    stage_ms: int = 0


class _Doc:
    """Typed access to one report's JSON: every wrong shape is a ReadError at its pointer."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: _Path, problem: str, hint: str | None = None) -> ReadError:
        return ReadError(self.source, problem, pointer=pointer(*path), hint=hint)

    def mapping(self, value: object, path: _Path) -> Mapping[str, object]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a JSON object, found {_a(value)}")
        return value

    def listing(self, value: object, path: _Path) -> list[object]:
        if not isinstance(value, list):
            raise self.fail(path, f"expected a JSON array, found {_a(value)}")
        return value

    def string(self, obj: Mapping[str, object], key: str, path: _Path) -> str:
        value = obj.get(key)
        if not isinstance(value, str):
            found = "nothing" if key not in obj else _a(value)
            raise self.fail((*path, key), f"expected a string, found {found}")
        return clean(value)

    def optional_string(self, obj: Mapping[str, object], key: str, path: _Path) -> str | None:
        if obj.get(key) is None:
            return None
        return self.string(obj, key, path)

    def optional_object(
        self, obj: Mapping[str, object], key: str, path: _Path
    ) -> Mapping[str, object] | None:
        value = obj.get(key)
        return None if value is None else self.mapping(value, (*path, key))

    def seconds(self, obj: Mapping[str, object], key: str, path: _Path) -> float | None:
        """A duration in seconds; None when absent. Not a number is an error, not a guess."""
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail((*path, key), f"expected a number of seconds, found {_a(value)}")
        return float(value)


def _a(value: object) -> str:
    kind = json_type(value)
    if value is None:
        return kind
    return f"an {kind}" if kind[0] in "ao" else f"a {kind}"


def _ms(seconds: float | None) -> int | None:
    if seconds is None or not 0 <= seconds < _MAX_SECONDS:
        return None
    return round(seconds * 1000)


def _read_file(source: str, data: bytes, notes: Notes) -> _Report:
    doc = _Doc(source)
    top = load_json(data, source)
    if not isinstance(top, dict):
        raise doc.fail((), f"{_a(top)}, not a pytest-json-report report", hint=_HINT)
    if "tests" not in top:
        if isinstance(top.get("summary"), dict):
            raise doc.fail(
                ("tests",),
                "the report holds a summary only (--json-report-summary): it names no test, "
                "so what failed cannot be told",
                hint="run pytest without --json-report-summary",
            )
        raise doc.fail(("tests",), "no `tests`: not a pytest-json-report report", hint=_HINT)
    exitcode = top.get("exitcode")
    if isinstance(exitcode, bool) or not isinstance(exitcode, int):
        found = "nothing" if "exitcode" not in top else _a(exitcode)
        raise doc.fail(("exitcode",), f"expected pytest's exit code, an integer; found {found}")
    report = _Report(FileTally(source, FORMAT))
    modules: dict[str, None] = {}
    for n, item in enumerate(doc.listing(top["tests"], ("tests",))):
        _count_test(doc, doc.mapping(item, ("tests", n)), ("tests", n), report, modules, notes)
    if top.get("collectors") is not None:
        for n, item in enumerate(doc.listing(top["collectors"], ("collectors",))):
            path = ("collectors", n)
            _count_collector(doc, doc.mapping(item, path), path, report, modules)
    _check_declared(doc, top, report.tally, notes)
    _check_session(exitcode, report, notes)
    tally = report.tally
    tally.suites = len(modules)
    tally.suite_names = [short_name(m, MAX_SUITE_NAME_CHARS) for m in modules][:MAX_SUITE_NAMES]
    session_ms = _ms(doc.seconds(top, "duration", ()))
    if session_ms is None and top.get("duration") is not None:
        notes.add(f"{source}: duration is not a duration in seconds; ignored")
    tally.time_ms = session_ms if session_ms is not None else min(report.stage_ms, MAX_SAFE_INT)
    return report


def _count_test(
    doc: _Doc,
    test: Mapping[str, object],
    path: _Path,
    report: _Report,
    modules: dict[str, None],
    notes: Notes,
) -> None:
    tally = report.tally
    nodeid = doc.string(test, "nodeid", path)
    outcome = doc.string(test, "outcome", path)
    name = short_name(nodeid)
    modules.setdefault(nodeid.partition("::")[0], None)
    stages = {when: doc.optional_object(test, when, path) for when in _STAGES}
    wrong: tuple[str, str | None] | None = None
    for when, stage in stages.items():
        if stage is None:
            continue
        at = (*path, when)
        ms = _ms(doc.seconds(stage, "duration", at))
        report.stage_ms += ms or 0
        said = doc.optional_string(stage, "outcome", at)
        crash = doc.optional_object(stage, "crash", at)
        message = None if crash is None else doc.optional_string(crash, "message", (*at, "crash"))
        longrepr = doc.optional_string(stage, "longrepr", at)
        if said == "failed" and wrong is None:
            wrong = (when, short_name(message) if message else _last_line(longrepr))
    tally.tests += 1
    if outcome in _PASSED:
        return
    if outcome in _SKIPPED:
        tally.skipped += 1
        tally.skipped_tests.append(name)
        return
    if outcome == "failed":
        tally.failures += 1
        tally.failed.append(name)
    else:
        if outcome != "error":
            notes.add(
                f"{doc.source}: {name} has the outcome {short_name(outcome, 40)!r}, which this "
                "reader cannot judge; counted as errored"
            )
        tally.errors += 1
        tally.errored.append(name)
    went_wrong, message = (None, None) if wrong is None else wrong
    report.messages.append((name, went_wrong, message))


def _count_collector(
    doc: _Doc,
    collector: Mapping[str, object],
    path: _Path,
    report: _Report,
    modules: dict[str, None],
) -> None:
    """A collection error counts as one errored test; a collector that worked counts nothing."""
    if doc.string(collector, "outcome", path) != "failed":
        return
    nodeid = doc.string(collector, "nodeid", path)
    name = short_name(nodeid or "(collection)")
    if nodeid:
        modules.setdefault(nodeid.partition("::")[0], None)
    tally = report.tally
    tally.tests += 1
    tally.errors += 1
    tally.errored.append(name)
    message = _last_line(doc.optional_string(collector, "longrepr", path))
    report.messages.append((name, "collect", message))


def _check_declared(doc: _Doc, top: Mapping[str, object], tally: FileTally, notes: Notes) -> None:
    """Say so when the summary's total disagrees with the tests listed (it is not used)."""
    summary = doc.optional_object(top, "summary", ())
    total = None if summary is None else summary.get("total")
    listed = len(doc.listing(top["tests"], ("tests",)))
    if isinstance(total, int) and not isinstance(total, bool) and total != listed:
        notes.add(
            f"{doc.source}: the summary declares {total} tests but the report lists {listed};"
            " counted the list"
        )


def _check_session(exitcode: int, report: _Report, notes: Notes) -> None:
    """Fail closed on a session that did not end well, whatever its tests say."""
    if exitcode in (0, 5):
        return
    meaning = _EXIT_CODES.get(exitcode, "not one of pytest's exit codes")
    tally = report.tally
    if tally.failures or tally.errors:
        if exitcode != 1:
            notes.add(f"{tally.source}: pytest exited with {exitcode} ({meaning})")
        return
    notes.add(
        f"{tally.source}: pytest exited with {exitcode} ({meaning}) but no test failed; "
        f"counted as one errored test, {SESSION!r}"
    )
    tally.tests += 1
    tally.errors += 1
    tally.errored.append(SESSION)
    report.messages.append((SESSION, None, f"exit code {exitcode}: {meaning}"))


def _last_line(text: str | None) -> str | None:
    """The last non-blank line of a traceback text: where it says what went wrong."""
    if not text:
        return None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return short_name(lines[-1]) if lines else None
