"""JUnit XML test results, from whichever tool wrote them, merged into one `TestRun`.

JUnit XML has no single specification: pytest, Maven Surefire/Failsafe, Gradle, jest-junit,
go-junit-report, PHPUnit, unittest-xml-reporting, Swift and TestNG each write their own variant.
What they share is `<testsuite>` elements (under a `<testsuites>` root or as the root) holding
`<testcase>` elements, and a testcase's outcome written as a child element: `<failure>`,
`<error>` or `<skipped>`. That is what this reader counts. The totals a file declares on its
suites are not trusted: some files have none, some disagree with their own testcases, and
PHPUnit's nested suites repeat their children's totals.

Only defusedxml parses: no DTD, no entity declarations, no external references. A file that
needs any of those is not a test report and is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Final

from changeproof.domain.evidence import EvidenceKind, Reading, TestRun
from changeproof.ingest.errors import ReadError
from changeproof.ingest.registry import ReadOptions, Source, reader
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

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

__all__ = ["DIALECTS", "MAX_NAMES", "junit_reader", "parse_test_run", "read_test_results"]

DIALECTS: Final = (
    "pytest",
    "surefire",
    "failsafe",
    "gradle",
    "jest-junit",
    "go-junit-report",
    "phpunit",
    "unittest-xml-reporting",
    "swift",
    "testng",
    "junit",
)
"""Dialects this reader recognises; `junit` is the generic one when nothing more is known."""

_MAX_SECONDS_DIGITS: Final = 12  # beyond 10**12 s (31,000 years) a duration is garbage
_XSI_SCHEMA: Final = "{http://www.w3.org/2001/XMLSchema-instance}noNamespaceSchemaLocation"
_GRADLE_ATTRIBUTES: Final = (
    "name",
    "tests",
    "skipped",
    "failures",
    "errors",
    "timestamp",
    "hostname",
    "time",
)
_JEST_ATTRIBUTES: Final = ("name", "errors", "failures", "skipped", "timestamp", "time", "tests")
_XMLRUNNER_SUITE: Final = re.compile(r".-\d{14}\Z")  # "TestAcme-20251114214921"
_COUNT: Final = re.compile(r"[0-9]{1,15}")
_NOT_RUN: Final = frozenset({"notrun", "skipped", "disabled"})  # googletest & co, no element

# Roots of test-result formats that are not JUnit, with what to tell the person.
_OTHER_FORMATS: Final = {
    "test-run": "NUnit 3 XML",
    "test-results": "NUnit 2 XML",
    "assemblies": "xUnit.net XML",
    "assembly": "xUnit.net XML",
    "TestRun": "Visual Studio TRX",
}


def read_test_results(files: Sequence[tuple[str, bytes]], *, dialect: str | None = None) -> Reading:
    """Read JUnit XML files (name, bytes) into one test-run reading; `dialect` forces the label."""
    merged = _read(files, dialect)
    return run_reading(f"junit/{merged.run.dialect}", merged.run, merged.files, merged.notes)


@reader(
    "junit",
    command="test-results",
    kind=EvidenceKind.TEST_RUN,
    title="JUnit XML",
    summary="JUnit XML, every common dialect (pytest, Surefire, Gradle, jest-junit, "
    "go-junit-report, …)",
    formats=DIALECTS,
    records=("junit/DIALECT",),
    many_files=True,
)
def junit_reader(sources: Sequence[Source], options: ReadOptions) -> Reading:
    """Every file of the call, merged; a format names the dialect, which labels the run."""
    return read_test_results([(s.name, s.data) for s in sources], dialect=options.format)


def parse_test_run(files: Sequence[tuple[str, bytes]], *, dialect: str | None = None) -> TestRun:
    """The merged `TestRun` of JUnit XML files, every name kept (the reading caps them)."""
    return _read(files, dialect).run


@dataclass(slots=True)
class _Merged:
    run: TestRun
    files: list[FileTally]
    notes: list[str]


def _read(files: Sequence[tuple[str, bytes]], dialect: str | None) -> _Merged:
    if dialect is not None and dialect not in DIALECTS:
        raise ReadError(
            "dialect",
            f"unknown JUnit dialect {dialect!r}",
            hint=f"use one of: {', '.join(DIALECTS)}; or leave it out to recognise it",
        )
    if not files:
        raise ReadError("(no files)", "no JUnit XML files given")
    notes = Notes()
    tallies = [_read_file(source, data, dialect, notes) for source, data in files]
    return _Merged(merge(tallies), tallies, notes.finish())


def _parse(source: str, data: bytes) -> Element:
    # Imported here: registering the reader (the CLI listing its commands) needs no parser.
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException, DTDForbidden
    from defusedxml.ElementTree import fromstring

    try:
        root: Element = fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DTDForbidden as e:
        raise ReadError(
            source,
            "has a document type declaration (<!DOCTYPE>); refused: "
            "a test report never needs one, and DTDs carry entity-expansion and XXE attacks",
        ) from e
    except DefusedXmlException as e:  # entities and external references: only behind a DTD
        raise ReadError(source, f"refused unsafe XML: {e}") from e
    except ParseError as e:
        line, column = e.position
        reason = str(e).rsplit(": line ", 1)[0]
        # Expat counts columns from 0; people and editors count from 1, as JSON errors do.
        raise ReadError(
            source, f"not well-formed XML: {reason}", line=line, column=column + 1
        ) from e
    except (LookupError, ValueError) as e:  # an unknown encoding declaration, mostly
        raise ReadError(source, f"not readable as XML: {e}") from e
    return root


def _local(tag: object) -> str:
    """An element's name without its namespace; '' for comments and processing instructions."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _read_file(source: str, data: bytes, forced: str | None, notes: Notes) -> FileTally:
    root = _parse(source, data)
    tag = _local(root.tag)
    if tag in _OTHER_FORMATS:
        raise ReadError(
            source,
            f"this is {_OTHER_FORMATS[tag]} (root <{tag}>), not JUnit XML",
            hint="have the test runner write JUnit XML, or convert the report to JUnit XML",
        )
    if tag not in ("testsuites", "testsuite"):
        raise ReadError(
            source,
            f"root element <{tag}> is not <testsuites> or <testsuite>: not a JUnit XML report",
        )
    tally = FileTally(source, forced or _dialect(root, data))
    testcase_ms = 0
    # Pre-order walk in document order, by hand: nesting depth is the file's to choose.
    stack: list[Element] = [root]
    while stack:
        element = stack.pop()
        name = _local(element.tag)
        if name == "testcase":
            testcase_ms += _time_ms(element, source, notes) or 0
            _count(element, tally, source, notes)
            continue
        if name == "testsuite":
            tally.suites += 1
            suite = element.get("name")
            if suite and len(tally.suite_names) < MAX_SUITE_NAMES:
                tally.suite_names.append(suite[:MAX_SUITE_NAME_CHARS])
        stack.extend(
            child
            for child in reversed(element)
            if _local(child.tag) in ("testsuites", "testsuite", "testcase")
        )
    if tally.suites == 0:
        raise ReadError(source, f"no <testsuite> element under <{tag}>: no test results here")
    tally.time_ms = _file_ms(root, source, notes, testcase_ms)
    _check_declared(root, tally, source, notes)
    return tally


def _count(testcase: Element, tally: FileTally, source: str, notes: Notes) -> None:
    """One testcase, one outcome: failure, else error, else skipped, else passed."""
    tally.tests += 1
    outcomes = {_local(child.tag) for child in testcase} & {"failure", "error", "skipped"}
    name = _test_name(testcase)
    if {"failure", "error"} <= outcomes:
        notes.add(f"{source}: {name} has both <failure> and <error>; counted once, as failed")
    if "failure" in outcomes:
        tally.failures += 1
        tally.failed.append(name)
    elif "error" in outcomes:
        tally.errors += 1
        tally.errored.append(name)
    elif "skipped" in outcomes or testcase.get("status", "").lower() in _NOT_RUN:
        tally.skipped += 1
        tally.skipped_tests.append(name)


def _test_name(testcase: Element) -> str:
    classname = testcase.get("classname") or testcase.get("class") or ""
    return short_name(f"{classname}::{testcase.get('name', '')}")


def _file_ms(root: Element, source: str, notes: Notes, testcase_ms: int) -> int:
    """The root's own time; else its top-level suites' times; else the sum of testcase times."""
    own = _time_ms(root, source, notes)
    if own is not None:
        return own
    suites = [child for child in root if _local(child.tag) == "testsuite"]
    times = [ms for ms in (_time_ms(suite, source, notes) for suite in suites) if ms is not None]
    if times:
        return min(sum(times), 2**53 - 1)
    return min(testcase_ms, 2**53 - 1)


def _time_ms(element: Element, source: str, notes: Notes) -> int | None:
    """A `time` attribute in seconds as integer milliseconds; None when absent or unusable."""
    text = element.get("time")
    if text is None:
        return None
    cleaned = text.strip()
    if "," in cleaned:
        # Surefire writes "1,234.5" in some locales; others write a decimal comma, "0,5".
        cleaned = cleaned.replace(",", "") if "." in cleaned else cleaned.replace(",", ".")
    try:
        seconds = Decimal(cleaned)
    except InvalidOperation:
        seconds = Decimal("NaN")
    if not seconds.is_finite() or seconds < 0 or seconds.adjusted() >= _MAX_SECONDS_DIGITS:
        notes.add(f"{source}: time={text[:40]!r} is not a duration in seconds; ignored")
        return None
    return int((seconds * 1000).to_integral_value(rounding=ROUND_HALF_EVEN))


def _check_declared(root: Element, tally: FileTally, source: str, notes: Notes) -> None:
    """Say so when the totals a file declares disagree with its testcases (they are not used)."""
    declared = _declared(root.get("tests"))
    if declared is None and _local(root.tag) == "testsuites":
        values = [_declared(c.get("tests")) for c in root if _local(c.tag) == "testsuite"]
        if values and None not in values:
            declared = sum(v or 0 for v in values)
    if declared is not None and declared != tally.tests:
        notes.add(
            f"{source}: declares {declared} tests but holds {tally.tests} <testcase> elements;"
            " counted the testcases"
        )


def _declared(value: str | None) -> int | None:
    if value is None or not _COUNT.fullmatch(value.strip()):
        return None
    return int(value)


def _dialect(root: Element, data: bytes) -> str:
    """Which tool wrote the file, from what it leaves in the content."""
    suites = [e for e in root.iter() if _local(e.tag) == "testsuite"]
    cases = [e for e in root.iter() if _local(e.tag) == "testcase"]
    root_name = root.get("name")
    if root_name == "pytest tests" or any(s.get("name") == "pytest" for s in suites):
        return "pytest"
    schemas = " ".join(s.get(_XSI_SCHEMA, "") for s in suites).lower()
    if "failsafe" in schemas:
        return "failsafe"
    if "surefire" in schemas:
        return "surefire"
    if any(_local(p.tag) == "property" and p.get("name") == "go.version" for p in root.iter()):
        return "go-junit-report"
    if root_name == "jest tests" or any(
        tuple(s.attrib)[: len(_JEST_ATTRIBUTES)] == _JEST_ATTRIBUTES for s in suites
    ):
        return "jest-junit"
    if any(
        "assertions" in c.attrib
        and ("class" in c.attrib or c.get("file", "").endswith((".php", ".phpt")))
        for c in cases
    ):
        return "phpunit"
    if any(_XMLRUNNER_SUITE.search(s.get("name", "")) for s in suites) or any(
        "timestamp" in c.attrib for c in cases
    ):
        return "unittest-xml-reporting"
    if any(tuple(s.attrib)[: len(_GRADLE_ATTRIBUTES)] == _GRADLE_ATTRIBUTES for s in suites):
        return "gradle"
    if _local(root.tag) == "testsuites" and any(s.get("name") == "TestResults" for s in suites):
        return "swift"
    if b"org.testng.reporters" in data[:2048]:
        return "testng"
    return "junit"
