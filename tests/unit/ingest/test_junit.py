"""The JUnit XML reader: every counting rule, each dialect, hostile XML, and fuzzing."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changeproof.domain.canonical import canonical_json
from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.ingest.errors import ReadError
from changeproof.ingest.junit import MAX_NAMES, parse_test_run, read_test_results


def read(xml: str | bytes, name: str = "results.xml", dialect: str | None = None) -> Reading:
    data = xml.encode() if isinstance(xml, str) else xml
    return read_test_results([(name, data)], dialect=dialect)


def refused(xml: str | bytes, name: str = "results.xml") -> ReadError:
    with pytest.raises(ReadError) as caught:
        read(xml, name)
    return caught.value


MIXED_SUITE = """<?xml version="1.0" encoding="utf-8"?>
<testsuites>
  <testsuite name="unit" tests="4" failures="1" errors="1" skipped="1" time="1.5">
    <testcase classname="pkg.mod" name="test_ok" time="0.5"/>
    <testcase classname="pkg.mod" name="test_bad" time="0.25"><failure message="x"/></testcase>
    <testcase classname="pkg.mod" name="test_boom" time="0.25"><error message="y"/></testcase>
    <testcase classname="pkg.mod" name="test_later"><skipped/></testcase>
  </testsuite>
</testsuites>
"""


# --- counting ------------------------------------------------------------------------------


def test_counts_each_outcome_from_the_testcase_elements() -> None:
    reading = read(MIXED_SUITE)
    assert reading.kind is EvidenceKind.TEST_RUN
    assert {
        k: reading.summary.to_data()[k] for k in ("tests", "failures", "errors", "skipped")
    } == {
        "tests": 4,
        "failures": 1,
        "errors": 1,
        "skipped": 1,
    }
    assert reading.summary.to_data()["passed"] == 1
    assert reading.summary.to_data()["suites"] == 1
    assert reading.detail.to_data()["failed"] == ["pkg.mod::test_bad"]
    assert reading.detail.to_data()["errored"] == ["pkg.mod::test_boom"]
    assert reading.detail.to_data()["skipped"] == ["pkg.mod::test_later"]
    assert reading.detail.to_data()["truncated"] == {
        "failed": False,
        "errored": False,
        "skipped": False,
    }


def test_a_testsuite_root_reads_like_a_testsuites_root() -> None:
    inner = MIXED_SUITE.split("<testsuites>")[1].split("</testsuites>")[0]
    assert read(inner).summary.to_data() == read(MIXED_SUITE).summary.to_data()


def test_declared_totals_are_ignored_and_a_disagreement_is_noted() -> None:
    xml = """<testsuite name="s" tests="15" failures="9" errors="3" skipped="0">
      <testcase classname="c" name="a"/><testcase classname="c" name="b"><failure/></testcase>
    </testsuite>"""
    reading = read(xml)
    assert (reading.summary.to_data()["tests"], reading.summary.to_data()["failures"]) == (2, 1)
    assert reading.summary.to_data()["errors"] == 0
    assert any("declares 15 tests but holds 2" in note for note in reading.notes)


def test_a_root_without_totals_is_counted_from_its_testcases() -> None:
    xml = '<testsuites><testsuite name="s"><testcase name="a"/></testsuite></testsuites>'
    reading = read(xml)
    assert reading.summary.to_data()["tests"] == 1
    assert reading.notes == ()


def test_nested_suites_are_not_double_counted() -> None:
    xml = """<testsuites>
      <testsuite name="all" tests="3" failures="1">
        <testcase name="top.phpt" file="/t/top.phpt" assertions="1"><failure/></testcase>
        <testsuite name="A" tests="1">
          <testcase name="a" class="A" classname="A" assertions="1"/>
        </testsuite>
        <testsuite name="B" tests="1">
          <testcase name="b" class="B" classname="B" assertions="1"/>
        </testsuite>
      </testsuite>
    </testsuites>"""
    reading = read(xml)
    assert reading.summary.to_data()["tests"] == 3
    assert reading.summary.to_data()["failures"] == 1
    assert reading.summary.to_data()["suites"] == 3
    assert reading.detail.to_data()["failed"] == [
        "::top.phpt"
    ]  # no classname: the name stands alone
    assert reading.summary.to_data()["dialect"] == "phpunit"


def test_names_keep_document_order_through_nested_suites() -> None:
    xml = """<testsuite name="outer">
      <testcase classname="o" name="first"><failure/></testcase>
      <testsuite name="inner">
        <testcase classname="i" name="second"><failure/></testcase>
      </testsuite>
      <testcase classname="o" name="third"><failure/></testcase>
    </testsuite>"""
    assert read(xml).detail.to_data()["failed"] == ["o::first", "i::second", "o::third"]


def test_one_outcome_per_testcase_failure_before_error_and_noted() -> None:
    xml = '<testsuite><testcase classname="c" name="t"><failure/><error/></testcase></testsuite>'
    reading = read(xml)
    assert (reading.summary.to_data()["failures"], reading.summary.to_data()["errors"]) == (1, 0)
    assert reading.summary.to_data()["passed"] == 0
    assert any("both <failure> and <error>" in note for note in reading.notes)


def test_error_before_skipped() -> None:
    xml = '<testsuite><testcase classname="c" name="t"><error/><skipped/></testcase></testsuite>'
    assert (read(xml).summary.to_data()["errors"], read(xml).summary.to_data()["skipped"]) == (1, 0)


def test_the_same_test_reported_twice_counts_twice() -> None:
    xml = """<testsuite name="s">
      <testcase classname="c" name="t"><skipped/></testcase>
      <testcase classname="c" name="t"><failure/></testcase>
    </testsuite>"""
    reading = read(xml)
    assert reading.summary.to_data()["tests"] == 2
    assert reading.detail.to_data()["failed"] == reading.detail.to_data()["skipped"] == ["c::t"]


def test_a_not_run_status_without_an_element_is_skipped() -> None:
    xml = """<testsuite name="g">
      <testcase classname="c" name="off" status="notrun"/>
      <testcase classname="c" name="on" status="run"/>
    </testsuite>"""
    reading = read(xml)
    assert reading.summary.to_data()["skipped"] == 1
    assert reading.detail.to_data()["skipped"] == ["c::off"]


def test_an_empty_suite_is_zero_tests_not_an_error() -> None:
    reading = read('<testsuites><testsuite name="empty" tests="0"></testsuite></testsuites>')
    assert reading.summary.to_data()["tests"] == 0
    assert reading.summary.to_data()["passed"] == 0


def test_namespaced_elements_are_recognised() -> None:
    xml = """<j:testsuite xmlns:j="urn:example" name="s">
      <j:testcase classname="c" name="t"><j:failure/></j:testcase>
    </j:testsuite>"""
    assert read(xml).summary.to_data()["failures"] == 1


def test_testcases_under_unknown_elements_are_not_counted() -> None:
    xml = """<testsuite name="s">
      <testcase classname="c" name="t"/>
      <properties><testcase classname="c" name="not-a-test"/></properties>
    </testsuite>"""
    assert read(xml).summary.to_data()["tests"] == 1


def test_the_summary_holds_the_required_keys_and_is_canonical_json() -> None:
    reading = read(MIXED_SUITE)
    assert set(reading.summary.to_data()) >= {
        "tests",
        "failures",
        "errors",
        "skipped",
        "suites",
        "time_ms",
        "dialect",
    }
    assert canonical_json(reading.summary.to_data())
    assert canonical_json(reading.detail.to_data())


def test_parse_test_run_returns_the_domain_object() -> None:
    run = parse_test_run([("r.xml", MIXED_SUITE.encode())])
    assert (run.tests, run.passed, run.failed) == (4, 1, ("pkg.mod::test_bad",))
    assert run.dialect == "junit"


# --- names cap -----------------------------------------------------------------------------


def test_each_name_list_is_capped_with_a_truncated_flag() -> None:
    cases = "".join(
        f'<testcase classname="c" name="t{i}"><failure/></testcase>' for i in range(MAX_NAMES + 5)
    )
    reading = read(
        f'<testsuite name="s">{cases}<testcase name="x"><skipped/></testcase></testsuite>'
    )
    failed = reading.detail.to_data()["failed"]
    assert isinstance(failed, list)
    assert len(failed) == MAX_NAMES
    assert failed[0] == "c::t0"
    assert reading.summary.to_data()["failures"] == MAX_NAMES + 5
    assert reading.detail.to_data()["truncated"] == {
        "failed": True,
        "errored": False,
        "skipped": False,
    }
    # the domain object keeps every name; only the reading caps them
    assert len(parse_test_run([("r.xml", reading_bytes(cases))]).failed) == MAX_NAMES + 5


def reading_bytes(cases: str) -> bytes:
    return f'<testsuite name="s">{cases}</testsuite>'.encode()


def test_an_enormous_name_is_shortened() -> None:
    reading = read(
        f'<testsuite name="s"><testcase name="{"n" * 5000}"><failure/></testcase></testsuite>'
    )
    failed = reading.detail.to_data()["failed"]
    assert isinstance(failed, list)
    assert isinstance(failed[0], str)
    assert len(failed[0]) == 1000
    assert failed[0].endswith("…")


# --- time ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("xml", "ms"),
    [
        ('<testsuites time="2.5"><testsuite name="s" time="1"/></testsuites>', 2500),
        ('<testsuites><testsuite time="1.25"/><testsuite time="0.5"/></testsuites>', 1750),
        ('<testsuite name="s" time="0.0004"/>', 0),
        ('<testsuite name="s" time="0.0015"/>', 2),  # half to even, 1.5 ms -> 2
        ('<testsuite name="s" time="1,234.5"/>', 1234500),  # Surefire's thousands separator
        ('<testsuite name="s" time="0,5"/>', 500),  # a decimal comma
        (
            '<testsuite><testcase name="a" time="0.2"/><testcase name="b" time="0.3"/></testsuite>',
            500,
        ),
        ('<testsuite name="s"/>', 0),
    ],
    ids=[
        "root-time",
        "suite-times",
        "rounds-down",
        "half-even",
        "thousands",
        "decimal-comma",
        "testcase-times",
        "no-time",
    ],
)
def test_time_is_integer_milliseconds(xml: str, ms: int) -> None:
    time_ms = read(xml).summary.to_data()["time_ms"]
    assert type(time_ms) is int
    assert time_ms == ms


def test_nested_suite_times_are_not_added_to_their_parent() -> None:
    xml = '<testsuites><testsuite time="3"><testsuite time="2"/></testsuite></testsuites>'
    assert read(xml).summary.to_data()["time_ms"] == 3000


@pytest.mark.parametrize("bad", ["abc", "-1", "NaN", "inf", "1e400", "sNaN", ""])
def test_an_unusable_time_is_ignored_and_noted(bad: str) -> None:
    reading = read(f'<testsuite name="s" time="{bad}"><testcase name="a" time="0.5"/></testsuite>')
    assert reading.summary.to_data()["time_ms"] == 500
    assert any("not a duration" in note for note in reading.notes)


def test_notes_are_bounded_however_many_problems_a_file_has() -> None:
    cases = "".join(f'<testcase name="t{i}" time="soon"/>' for i in range(50))
    notes = read(f"<testsuite>{cases}</testsuite>").notes
    assert len(notes) == 21
    assert notes[-1] == "30 more notes left out"


# --- several files -------------------------------------------------------------------------


def pytest_report(cases: str, seconds: str) -> bytes:
    suite = f'<testsuite name="pytest" time="{seconds}">{cases}</testsuite>'
    return f'<testsuites name="pytest tests">{suite}</testsuites>'.encode()


def test_several_files_merge_into_one_run() -> None:
    pytest_file = pytest_report('<testcase classname="a" name="t"><failure/></testcase>', "1")
    other = pytest_report('<testcase classname="b" name="u"/>', "2")
    reading = read_test_results([("one.xml", pytest_file), ("two.xml", other)])
    assert reading.summary.to_data()["tests"] == 2
    assert reading.summary.to_data()["suites"] == 2
    assert reading.summary.to_data()["files"] == 2
    assert reading.summary.to_data()["time_ms"] == 3000
    assert reading.summary.to_data()["dialect"] == "pytest"
    assert reading.detail.to_data()["failed"] == ["a::t"]
    files = reading.detail.to_data()["files"]
    assert isinstance(files, list)
    assert [f["file"] for f in files if isinstance(f, dict)] == ["one.xml", "two.xml"]


def test_files_from_different_tools_are_a_mixed_run() -> None:
    pytest_file = pytest_report("", "0")
    go_file = DIALECT_SAMPLES["go-junit-report"].encode()
    reading = read_test_results([("py.xml", pytest_file), ("go.xml", go_file)])
    assert reading.summary.to_data()["dialect"] == "mixed"
    assert reading.format == "junit/mixed"


def test_one_bad_file_refuses_the_whole_set_and_names_it() -> None:
    with pytest.raises(ReadError) as caught:
        read_test_results([("good.xml", MIXED_SUITE.encode()), ("bad.xml", b"<testsuite>")])
    assert caught.value.source == "bad.xml"


def test_no_files_is_an_error() -> None:
    with pytest.raises(ReadError, match="no JUnit XML files"):
        read_test_results([])


# --- dialects ------------------------------------------------------------------------------

DIALECT_SAMPLES = {
    "pytest": '<testsuites name="pytest tests"><testsuite name="pytest" errors="0"/></testsuites>',
    "surefire": (
        '<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/'
        'xsd/surefire-test-report-3.0.xsd" version="3.0" name="com.example.AppTest" tests="0"/>'
    ),
    "failsafe": (
        '<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-failsafe-plugin/'
        'xsd/failsafe-test-report.xsd" version="3.0.2" name="com.example.AppIT" tests="0"/>'
    ),
    "gradle": (
        '<testsuite name="com.foo.FooTest" tests="1" skipped="0" failures="0" errors="0" '
        'timestamp="2012-11-19T17:09:28" hostname="localhost" time="0.3"><properties/>'
        '<testcase name="some test" classname="com.foo.FooTest" time="0.2"/></testsuite>'
    ),
    "jest-junit": (
        '<testsuites name="my suite"><testsuite name="a.test.js" errors="0" failures="0" '
        'skipped="0" timestamp="2020-10-27T21:39:41" time="0.4" tests="0"/></testsuites>'
    ),
    "go-junit-report": (
        '<testsuites><testsuite tests="1" name="example.com/calc"><properties>'
        '<property name="go.version" value="go1.21 linux/amd64"/></properties>'
        '<testcase classname="calc" name="TestAdd"/></testsuite></testsuites>'
    ),
    "phpunit": (
        '<testsuites><testsuite name="Unit" assertions="1"><testcase name="testX" '
        'class="FooTest" classname="FooTest" file="/src/FooTest.php" line="3" assertions="1"/>'
        "</testsuite></testsuites>"
    ),
    "unittest-xml-reporting": (
        '<testsuite name="TestAcme-20251114214921" tests="1"><testcase classname="TestAcme" '
        'name="test_a" time="0.000" timestamp="2025-11-14T21:49:22"/></testsuite>'
    ),
    "swift": (
        '<testsuites><testsuite name="TestResults" errors="0" tests="1" failures="0" time="0.2">'
        '<testcase classname="Lib.LibTests" name="test_a" time="0.1"/></testsuite></testsuites>'
    ),
    "testng": (
        "<!-- Generated by org.testng.reporters.JUnitReportReporter -->"
        '<testsuite hostname="h" name="S" tests="0" failures="0" errors="0"/>'
    ),
    "junit": '<testsuites><testsuite name="plain"><testcase name="t"/></testsuite></testsuites>',
}


@pytest.mark.parametrize("dialect", sorted(DIALECT_SAMPLES))
def test_the_dialect_is_recognised_from_the_content(dialect: str) -> None:
    reading = read(DIALECT_SAMPLES[dialect])
    assert reading.summary.to_data()["dialect"] == dialect
    assert reading.format == f"junit/{dialect}"


def test_jest_junit_default_root_name_is_enough() -> None:
    xml = '<testsuites name="jest tests"><testsuite name="x"/></testsuites>'
    assert read(xml).summary.to_data()["dialect"] == "jest-junit"


def test_a_forced_dialect_wins_over_recognition() -> None:
    reading = read(DIALECT_SAMPLES["pytest"], dialect="gradle")
    assert reading.summary.to_data()["dialect"] == "gradle"
    assert reading.format == "junit/gradle"


def test_an_unknown_forced_dialect_is_refused() -> None:
    with pytest.raises(ReadError, match="unknown JUnit dialect 'cobol'"):
        read(MIXED_SUITE, dialect="cobol")


# --- refusals ------------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<testsuite name="&lol9;"><testcase name="t"/></testsuite>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<testsuite name="s"><testcase classname="c" name="&secret;"><failure/></testcase></testsuite>
"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE testsuite SYSTEM "http://127.0.0.1:9/junit.dtd">
<testsuite name="s"><testcase name="t"/></testsuite>
"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE testsuite [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>
<testsuite name="s"/>
"""


@pytest.mark.parametrize(
    "xml",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY],
    ids=["billion-laughs", "external-entity", "external-dtd", "parameter-entity"],
)
def test_hostile_xml_is_refused_before_anything_is_expanded_or_fetched(xml: str) -> None:
    error = refused(xml)
    assert "DOCTYPE" in error.problem
    assert "root:" not in str(error)  # nothing of /etc/passwd leaked into the message


def test_an_undeclared_entity_is_malformed_xml_with_its_position() -> None:
    error = refused('<testsuite name="s">\n  <testcase name="&nope;"/>\n</testsuite>')
    assert error.line == 2
    assert error.column is not None
    assert "undefined entity" in error.problem


def test_malformed_xml_names_line_and_column() -> None:
    error = refused('<testsuites>\n  <testsuite name="s">\n    <testcase name="t">\n</testsuites>')
    assert error.source == "results.xml"
    assert (error.line, error.column) == (4, 3)  # 1-based, as editors and JSON errors count
    assert "not well-formed XML: mismatched tag" in error.problem
    assert str(error).startswith("results.xml:4:3: ")


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, world", b'{"testsuites": []}', b"\x00\xff\xfe", b"<testsuite"],
    ids=["empty", "text", "json", "binary", "unfinished"],
)
def test_what_is_not_xml_is_refused_with_a_position(data: bytes) -> None:
    error = refused(data)
    assert error.line is not None
    assert "XML" in error.problem


def test_an_unknown_encoding_is_refused() -> None:
    error = refused(b'<?xml version="1.0" encoding="x-unheard-of"?><testsuite name="s"/>')
    assert "encoding" in error.problem


def test_a_file_with_no_testsuite_is_refused() -> None:
    assert "no <testsuite>" in refused("<testsuites/>").problem
    assert "no <testsuite>" in refused("<testsuites><other/></testsuites>").problem


def test_another_root_is_not_junit() -> None:
    assert "<html> is not <testsuites> or <testsuite>" in refused("<html><body/></html>").problem


def test_nunit_is_named_and_refused() -> None:
    nunit = """<?xml version="1.0" encoding="utf-8"?>
    <test-run id="2" testcasecount="1" result="Passed"><test-suite type="Assembly" name="a.dll">
    <test-case id="1" name="T" result="Passed"/></test-suite></test-run>"""
    error = refused(nunit)
    assert "NUnit 3" in error.problem
    assert "not JUnit" in error.problem


@pytest.mark.parametrize(
    ("root", "named"),
    [("test-results", "NUnit 2"), ("assemblies", "xUnit.net"), ("TestRun", "TRX")],
)
def test_other_test_formats_are_named(root: str, named: str) -> None:
    assert named in refused(f"<{root}/>").problem


def test_deep_nesting_neither_recurses_nor_crashes() -> None:
    depth = 20_000
    xml = '<testsuite name="s">' * depth + '<testcase name="t"/>' + "</testsuite>" * depth
    reading = read(xml)
    assert reading.summary.to_data()["tests"] == 1
    assert reading.summary.to_data()["suites"] == depth


# --- fuzzing -------------------------------------------------------------------------------


def read_or_refuse(files: list[tuple[str, bytes]]) -> Reading | None:
    """The reader's whole contract: a Reading, or ReadError, and nothing else escapes."""
    try:
        reading = read_test_results(files)
    except ReadError:
        return None
    assert isinstance(reading, Reading)
    counts = {k: v for k, v in reading.summary.to_data().items() if isinstance(v, int)}
    parts = ("failures", "errors", "skipped", "passed")
    assert set(counts) >= {"tests", "time_ms", "suites", *parts}
    assert counts["tests"] == sum(counts[k] for k in parts)
    assert min(counts.values()) >= 0
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())
    return reading


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes_give_a_reading_or_a_read_error(data: bytes) -> None:
    read_or_refuse([("fuzz.xml", data)])


TAGS = [
    "testsuites",
    "testsuite",
    "testcase",
    "failure",
    "error",
    "skipped",
    "properties",
    "property",
    "system-out",
    "test-run",
    "x",
]
ATTRIBUTES = ["name", "classname", "class", "time", "tests", "failures", "status", "file"]
_attr_text = st.one_of(
    st.sampled_from(["", "0", "1.5", "-3", "NaN", "1e999", "1,5", "1,234.5", "pytest", "notrun"]),
    st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=12),
)


def _element(children: list[ET.Element], tag: str, attrib: dict[str, str]) -> ET.Element:
    element = ET.Element(tag, attrib)
    element.extend(children)
    return element


elements: st.SearchStrategy[ET.Element] = st.recursive(
    st.builds(
        _element,
        st.just([]),
        st.sampled_from(TAGS),
        st.dictionaries(st.sampled_from(ATTRIBUTES), _attr_text, max_size=4),
    ),
    lambda kids: st.builds(
        _element,
        st.lists(kids, max_size=6),
        st.sampled_from(TAGS),
        st.dictionaries(st.sampled_from(ATTRIBUTES), _attr_text, max_size=4),
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elements)
def test_arbitrary_junit_shaped_trees_give_a_reading_or_a_read_error(root: ET.Element) -> None:
    read_or_refuse([("tree.xml", ET.tostring(root, encoding="utf-8"))])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(MIXED_SUITE)),
            st.integers(min_value=0, max_value=40),
            st.binary(max_size=12),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_a_mutated_valid_report_gives_a_reading_or_a_read_error(
    edits: list[tuple[int, int, bytes]],
) -> None:
    data = bytearray(MIXED_SUITE.encode())
    for at, cut, insert in edits:
        data[at : at + cut] = insert
    read_or_refuse([("mutated.xml", bytes(data))])
