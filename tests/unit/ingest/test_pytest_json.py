"""The pytest-json-report reader: counting by outcome, the session's exit code, refusals that name
the file and the JSON pointer, bounds, the JUnit reading's shape, and fuzzing.

What the real plugin writes is read in tests/integration/test_readers_real_tools.py."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changeproof.domain.canonical import canonical_json
from changeproof.domain.errors import InputError
from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.ingest.errors import ReadError
from changeproof.ingest.junit import read_test_results
from changeproof.ingest.pytest_json import FORMAT, SESSION, read_pytest_json
from changeproof.ingest.runs import MAX_NAMES


def _stage(outcome: str = "passed", **extra: object) -> dict[str, object]:
    return {"duration": 0.001, "outcome": outcome, **extra}


def _test(nodeid: str, outcome: str, **stages: dict[str, object]) -> dict[str, object]:
    found: dict[str, object] = {"nodeid": nodeid, "lineno": 1, "outcome": outcome}
    found.update({"setup": _stage(), "call": _stage(), "teardown": _stage()})
    found.update(stages)
    return found


def report(*tests: dict[str, object], exitcode: int = 0, **top: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "created": 1_700_000_000.5,
        "duration": 0.25,
        "exitcode": exitcode,
        "root": "/src",
        "environment": {},
        "summary": {"total": len(tests), "collected": len(tests)},
        "collectors": [{"nodeid": "", "outcome": "passed", "result": []}],
        "tests": list(tests),
    }
    doc.update(top)
    return doc


def read(doc: object, name: str = "report.json") -> Reading:
    return read_pytest_json([(name, json.dumps(doc).encode())])


def refused(doc: object, name: str = "report.json") -> ReadError:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    with pytest.raises(ReadError) as caught:
        read_pytest_json([(name, data)])
    return caught.value


FAILED_CALL = _stage(
    "failed",
    crash={"path": "/src/tests/test_a.py", "lineno": 3, "message": "assert 1 == 2"},
    longrepr="def test_b():\n>       assert 1 == 2\nE       assert 1 == 2\n\ntests/test_a.py:3",
)
BROKEN_SETUP = _stage("failed", longrepr="fixture 'db' not found\n\nRuntimeError: no database")

EVERY_OUTCOME = report(
    _test("tests/test_a.py::test_ok", "passed"),
    _test("tests/test_a.py::test_b", "failed", call=FAILED_CALL),
    _test("tests/test_a.py::test_c", "error", setup=BROKEN_SETUP),
    _test("tests/test_b.py::test_skip", "skipped"),
    _test("tests/test_b.py::TestK::test_xfail", "xfailed"),
    _test("tests/test_b.py::test_xpass", "xpassed"),
    exitcode=1,
)


# --- counting ------------------------------------------------------------------------------


def test_every_outcome_is_counted_as_junit_counts_it() -> None:
    reading = read(EVERY_OUTCOME)
    assert reading.kind is EvidenceKind.TEST_RUN
    assert reading.format == FORMAT == "pytest-json"
    assert dict(reading.summary.to_data()) == {
        "dialect": "pytest-json",
        "files": 1,
        "suites": 2,
        "tests": 6,
        "passed": 2,
        "failures": 1,
        "errors": 1,
        "skipped": 2,
        "time_ms": 250,
        "suite_names": ["tests/test_a.py", "tests/test_b.py"],
    }
    assert reading.detail.to_data()["failed"] == ["tests/test_a.py::test_b"]
    assert reading.detail.to_data()["errored"] == ["tests/test_a.py::test_c"]
    assert reading.detail.to_data()["skipped"] == [
        "tests/test_b.py::test_skip",
        "tests/test_b.py::TestK::test_xfail",
    ]
    assert reading.detail.to_data()["messages"] == [
        {"test": "tests/test_a.py::test_b", "stage": "call", "message": "assert 1 == 2"},
        {
            "test": "tests/test_a.py::test_c",
            "stage": "setup",
            "message": "RuntimeError: no database",
        },
    ]
    assert reading.notes == ()


def test_the_summary_has_the_junit_readings_shape() -> None:
    """tests-passed and superseding read one shape, whichever reader made it."""
    junit = read_test_results([("j.xml", b'<testsuite name="s"><testcase name="t"/></testsuite>')])
    ours = read(EVERY_OUTCOME)
    assert list(ours.summary.to_data()) == list(junit.summary.to_data())
    assert set(ours.detail.to_data()) == {*junit.detail.to_data(), "messages"}
    assert ours.detail.to_data()["files"] == [
        {
            "file": "report.json",
            "dialect": "pytest-json",
            "suites": 2,
            "tests": 6,
            "failures": 1,
            "errors": 1,
            "skipped": 2,
            "time_ms": 250,
        }
    ]


def test_a_collection_error_counts_as_an_errored_test() -> None:
    broken = {
        "nodeid": "tests/test_broken.py",
        "outcome": "failed",
        "result": [],
        "longrepr": "ImportError while importing test module\nE   ModuleNotFoundError: no x",
    }
    reading = read(report(exitcode=2, collectors=[broken]))
    assert (reading.summary.to_data()["tests"], reading.summary.to_data()["errors"]) == (1, 1)
    assert reading.detail.to_data()["errored"] == ["tests/test_broken.py"]
    assert reading.summary.to_data()["suite_names"] == ["tests/test_broken.py"]
    assert reading.detail.to_data()["messages"] == [
        {
            "test": "tests/test_broken.py",
            "stage": "collect",
            "message": "E   ModuleNotFoundError: no x",
        }
    ]
    assert reading.notes == ("report.json: pytest exited with 2 (interrupted)",)


@pytest.mark.parametrize(
    ("exitcode", "meaning"),
    [(1, "tests failed"), (3, "internal error"), (4, "usage error"), (-9, "not one of pytest's")],
)
def test_a_session_that_ended_badly_with_nothing_failed_counts_one_error(
    exitcode: int, meaning: str
) -> None:
    reading = read(report(_test("t.py::test_ok", "passed"), exitcode=exitcode))
    assert (reading.summary.to_data()["tests"], reading.summary.to_data()["errors"]) == (2, 1)
    assert reading.detail.to_data()["errored"] == [SESSION]
    assert meaning in reading.notes[0]
    assert "counted as one errored test" in reading.notes[0]


@pytest.mark.parametrize("exitcode", [0, 5])
def test_a_session_that_passed_or_collected_nothing_adds_nothing(exitcode: int) -> None:
    reading = read(report(exitcode=exitcode))
    assert (reading.summary.to_data()["tests"], reading.summary.to_data()["errors"]) == (0, 0)
    assert reading.notes == ()


def test_an_outcome_the_reader_cannot_judge_is_errored_with_a_note() -> None:
    reading = read(report(_test("t.py::test_flaky", "rerun"), exitcode=0))
    assert reading.detail.to_data()["errored"] == ["t.py::test_flaky"]
    assert reading.notes == (
        "report.json: t.py::test_flaky has the outcome 'rerun', which this reader cannot judge;"
        " counted as errored",
    )


def test_the_summary_is_not_trusted_and_a_disagreement_is_noted() -> None:
    doc = report(_test("t.py::test_a", "failed"), summary={"passed": 3, "total": 3})
    reading = read(doc)
    assert (reading.summary.to_data()["tests"], reading.summary.to_data()["failures"]) == (1, 1)
    assert reading.notes == (
        "report.json: the summary declares 3 tests but the report lists 1; counted the list",
    )


def test_without_a_session_duration_the_stages_are_added_up() -> None:
    test = _test("t.py::test_a", "passed", setup=_stage(), call={"duration": 1.5}, teardown={})
    assert read(report(test, duration=None)).summary.to_data()["time_ms"] == 1_501
    bad = read(report(test, duration=-4))
    assert bad.summary.to_data()["time_ms"] == 1_501
    assert bad.notes == ("report.json: duration is not a duration in seconds; ignored",)


def test_several_reports_of_one_call_merge() -> None:
    shard = json.dumps(report(_test("tests/test_a.py::test_1", "passed"))).encode()
    other = json.dumps(report(_test("tests/test_b.py::test_2", "failed"), exitcode=1)).encode()
    reading = read_pytest_json([("shard-1.json", shard), ("shard-2.json", other)])
    assert reading.summary.to_data()["files"] == 2
    assert (reading.summary.to_data()["tests"], reading.summary.to_data()["failures"]) == (2, 1)
    assert reading.summary.to_data()["suite_names"] == ["tests/test_a.py", "tests/test_b.py"]
    assert reading.summary.to_data()["time_ms"] == 500
    detail: dict[str, Any] = json.loads(canonical_json(reading.detail.to_data()))
    assert [f["file"] for f in detail["files"]] == ["shard-1.json", "shard-2.json"]


# --- bounds --------------------------------------------------------------------------------


def test_names_and_lists_are_bounded() -> None:
    long_name = "t.py::test_" + "x" * 5_000
    many = [_test(f"t.py::test_{n}", "failed") for n in range(MAX_NAMES + 5)]
    reading = read(report(_test(long_name, "failed"), *many, exitcode=1))
    failed = reading.detail.to_data()["failed"]
    assert isinstance(failed, list)
    assert len(failed) == MAX_NAMES
    assert len(str(failed[0])) == 1_000
    assert str(failed[0]).endswith("…")
    assert reading.summary.to_data()["failures"] == MAX_NAMES + 6
    assert reading.detail.to_data()["truncated"] == {
        "failed": True,
        "errored": False,
        "skipped": False,
    }
    assert len(reading.detail.to_data()["messages"]) == MAX_NAMES  # type: ignore[arg-type]


def test_a_lone_surrogate_is_replaced_so_the_reading_can_be_recorded() -> None:
    data = json.dumps(report(_test("t.py::test_\ud800", "failed"), exitcode=1)).encode()
    reading = read_pytest_json([("report.json", data)])
    assert reading.detail.to_data()["failed"] == ["t.py::test_?"]
    canonical_json(reading.detail.to_data())


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ([], "report.json at /: an array, not a pytest-json-report report"),
        ({"created": 1}, "report.json at /tests: no `tests`: not a pytest-json-report report"),
        (
            {"summary": {"total": 1}, "exitcode": 0},
            "report.json at /tests: the report holds a summary only (--json-report-summary)",
        ),
        (
            {"tests": []},
            "report.json at /exitcode: expected pytest's exit code, an integer; found nothing",
        ),
        ({"tests": [], "exitcode": True}, "found a boolean"),
        (
            {"tests": {}, "exitcode": 0},
            "report.json at /tests: expected a JSON array, found an object",
        ),
        (
            {"tests": [7], "exitcode": 0},
            "report.json at /tests/0: expected a JSON object, found a number",
        ),
        (
            {"tests": [{"outcome": "passed"}], "exitcode": 0},
            "report.json at /tests/0/nodeid: expected a string, found nothing",
        ),
        (
            {"tests": [{"nodeid": "t", "outcome": 1}], "exitcode": 0},
            "report.json at /tests/0/outcome: expected a string, found a number",
        ),
        (
            {"tests": [{"nodeid": "t", "outcome": "passed", "call": []}], "exitcode": 0},
            "report.json at /tests/0/call: expected a JSON object, found an array",
        ),
        (
            {
                "tests": [{"nodeid": "t", "outcome": "passed", "call": {"duration": "1s"}}],
                "exitcode": 0,
            },
            "report.json at /tests/0/call/duration: expected a number of seconds, found a string",
        ),
        (
            {
                "tests": [{"nodeid": "t", "outcome": "failed", "call": {"crash": {"message": 3}}}],
                "exitcode": 1,
            },
            "report.json at /tests/0/call/crash/message: expected a string, found a number",
        ),
        (
            {"tests": [], "exitcode": 0, "collectors": [{"nodeid": "m.py"}]},
            "report.json at /collectors/0/outcome: expected a string, found nothing",
        ),
        (
            {"tests": [], "exitcode": 0, "summary": []},
            "report.json at /summary: expected a JSON object, found an array",
        ),
        (
            {"tests": [], "exitcode": 0, "duration": "fast"},
            "report.json at /duration: expected a number of seconds, found a string",
        ),
    ],
)
def test_a_wrong_shape_names_the_file_and_the_pointer(doc: object, words: str) -> None:
    assert words in str(refused(doc))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<testsuite/>", "report.json:1:1: not valid JSON"),
        (b'{"tests": [], "tests": [], "exitcode": 0}', "duplicate key 'tests'"),
        (b'{"tests": [], "exitcode": 0, "duration": NaN}', "NaN is not a JSON number"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"tests": [], "exitcode": ' + b"9" * 5_000 + b"}", "not readable as JSON"),
    ],
)
def test_what_is_not_json_is_refused_with_the_file_named(data: bytes, words: str) -> None:
    assert words in str(refused(data))


def test_the_summary_only_report_says_what_to_do() -> None:
    assert refused({"summary": {}, "exitcode": 0}).hint() == (
        "run pytest without --json-report-summary"
    )


# --- fuzzing -------------------------------------------------------------------------------


def read_or_refuse(files: list[tuple[str, bytes]]) -> Reading | None:
    """The reader's whole contract: a Reading that can be recorded, or an InputError."""
    try:
        reading = read_pytest_json(files)
    except InputError:
        return None
    counts = {k: v for k, v in reading.summary.to_data().items() if isinstance(v, int)}
    parts = ("failures", "errors", "skipped", "passed")
    assert counts["tests"] == sum(counts[k] for k in parts)
    assert min(counts.values()) >= 0
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())
    return reading


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes_give_a_reading_or_an_input_error(data: bytes) -> None:
    read_or_refuse([("fuzz.json", data)])


KEYS = [
    "nodeid",
    "outcome",
    "setup",
    "call",
    "teardown",
    "duration",
    "crash",
    "message",
    "longrepr",
    "tests",
    "collectors",
    "exitcode",
    "summary",
    "total",
]
OUTCOMES = ["passed", "failed", "error", "skipped", "xfailed", "xpassed", "rerun", ""]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(OUTCOMES)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), children, max_size=6)
    ),
    max_leaves=40,
)


@st.composite
def reports(draw: st.DrawFn) -> dict[str, Any]:
    """Report-shaped documents: mostly right, with any member replaced by anything."""
    stage = st.fixed_dictionaries(
        {
            "duration": st.floats(min_value=0, max_value=1e13) | json_values,
            "outcome": st.sampled_from(OUTCOMES) | json_values,
        },
        optional={
            "crash": st.fixed_dictionaries({"message": json_values}) | json_values,
            "longrepr": st.text(max_size=200) | json_values,
        },
    )
    test = st.fixed_dictionaries(
        {"nodeid": st.text(max_size=40) | json_values, "outcome": st.sampled_from(OUTCOMES)},
        optional={"setup": stage, "call": stage, "teardown": stage, "extra": json_values},
    )
    collector = st.fixed_dictionaries(
        {"nodeid": st.text(max_size=40), "outcome": st.sampled_from(["passed", "failed"])},
        optional={"longrepr": st.text(max_size=100) | json_values},
    )
    return draw(
        st.fixed_dictionaries(
            {
                "exitcode": st.integers(min_value=-3, max_value=7) | json_values,
                "tests": st.lists(test, max_size=8) | json_values,
            },
            optional={
                "duration": st.floats(min_value=-1, max_value=1e13) | json_values,
                "summary": st.dictionaries(
                    st.sampled_from(["total", "passed"]), json_values, max_size=2
                )
                | json_values,
                "collectors": st.lists(collector, max_size=3) | json_values,
            },
        )
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_report_shaped_documents_give_a_reading_or_an_input_error(doc: dict[str, Any]) -> None:
    read_or_refuse([("report.json", json.dumps(doc).encode())])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=2_000), st.binary(max_size=8)), max_size=4
    )
)
def test_a_real_report_damaged_anywhere_gives_a_reading_or_an_input_error(
    damage: list[tuple[int, bytes]],
) -> None:
    data = bytearray(json.dumps(EVERY_OUTCOME).encode())
    for at, junk in damage:
        data[at : at + len(junk)] = junk
    read_or_refuse([("report.json", bytes(data))])
