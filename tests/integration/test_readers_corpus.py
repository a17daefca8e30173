"""The JUnit and SARIF readers against the shared corpus of real files and its ground truth.

Every file listed in `junit/GROUND_TRUTH.json` and `sarif/GROUND_TRUTH.json` is read and what
the reader says is compared with what the corpus says a correct reader extracts: counts and
names of tests, per run the tool, results, effective levels, suppressions and rule ids, and the
expected refusals (NUnit, malformed JSON, SARIF versions other than 2.1.0).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from changeproof.domain.canonical import canonical_json
from changeproof.ingest.errors import ReadError
from changeproof.ingest.junit import read_test_results
from changeproof.ingest.sarif import read_scan

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

if not CORPUS.is_dir():
    pytest.skip(f"the shared corpus is not here ({CORPUS})", allow_module_level=True)


def _truth(kind: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads((CORPUS / kind / "GROUND_TRUTH.json").read_text())
    return entries


JUNIT = _truth("junit")
SARIF = _truth("sarif")


def test_the_ground_truth_lists_every_file_it_should() -> None:
    """A file added to the corpus without ground truth would otherwise go untested."""
    junit_files = {p.name for p in (CORPUS / "junit").glob("*.xml")}
    assert junit_files == {entry["file"] for entry in JUNIT}
    sarif_files = {e["file"] for e in SARIF}
    assert sarif_files <= {p.name for p in (CORPUS / "sarif").iterdir()}


@pytest.mark.parametrize("truth", JUNIT, ids=[entry["file"] for entry in JUNIT])
def test_junit_file_matches_its_ground_truth(truth: dict[str, Any]) -> None:
    name = truth["file"]
    data = (CORPUS / "junit" / name).read_bytes()
    if truth["root_tag"] not in ("testsuites", "testsuite"):
        with pytest.raises(ReadError) as caught:
            read_test_results([(name, data)])
        assert caught.value.source == name
        assert "NUnit" in caught.value.problem
        assert "not JUnit" in caught.value.problem
        return

    reading = read_test_results([(name, data)])

    summary = reading.summary.to_data()
    assert summary["tests"] == truth["testcases"]
    assert summary["failures"] == truth["failed"]
    assert summary["errors"] == truth["errored"]
    assert summary["skipped"] == truth["skipped"]
    assert summary["passed"] == truth["passed"]
    assert summary["suites"] == truth["testsuite_elements"]
    assert reading.detail.to_data()["failed"] == truth["failed_tests"]
    assert reading.detail.to_data()["errored"] == truth["errored_tests"]
    assert reading.detail.to_data()["skipped"] == truth["skipped_tests"]
    assert isinstance(summary["time_ms"], int)
    assert reading.format == f"junit/{summary['dialect']}"
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())


def test_junit_files_merge_into_one_run() -> None:
    readable = [e for e in JUNIT if e["root_tag"] in ("testsuites", "testsuite")]
    files = [(e["file"], (CORPUS / "junit" / e["file"]).read_bytes()) for e in readable]
    reading = read_test_results(files)
    for key, truth_key in [
        ("tests", "testcases"),
        ("failures", "failed"),
        ("errors", "errored"),
        ("skipped", "skipped"),
    ]:
        assert reading.summary.to_data()[key] == sum(e[truth_key] for e in readable)
    assert reading.summary.to_data()["dialect"] == "mixed"
    assert reading.detail.to_data()["failed"] == [
        name for e in readable for name in e["failed_tests"]
    ]


PULSAR = "dorny-test-reporter__external_java_TEST-org.apache.pulsar.AddMissingPatchVersionTest.xml"


def test_junit_dialects_recognised_in_the_corpus() -> None:
    expected = {
        "dorny-test-reporter__empty_jest-junit-empty-testsuite.xml": "jest-junit",
        "dorny-test-reporter__jest-junit.xml": "jest-junit",
        "dorny-test-reporter__phpunit_phpunit.xml": "phpunit",
        "dorny-test-reporter__python-xunit-pytest.xml": "pytest",
        "dorny-test-reporter__python-xunit-unittest.xml": "unittest-xml-reporting",
        "dorny-test-reporter__swift-xunit.xml": "swift",
        "itsdangerous-2.2.0-pytest-pass.xml": "pytest",
        # TestNG's JUnitReportReporter, as its leading comment says
        PULSAR: "testng",
        "dorny-test-reporter__external_java_junit4-complete.xml": "junit",
    }
    found = {
        name: read_test_results([(name, (CORPUS / "junit" / name).read_bytes())]).summary.to_data()[
            "dialect"
        ]
        for name in expected
    }
    assert found == expected


@pytest.mark.parametrize("truth", SARIF, ids=[entry["file"] for entry in SARIF])
def test_sarif_file_matches_its_ground_truth(truth: dict[str, Any]) -> None:
    name = truth["file"]
    data = (CORPUS / "sarif" / name).read_bytes()
    if "error" in truth:
        where = re.search(r"line (\d+) column (\d+)", truth["error"])
        assert where is not None
        with pytest.raises(ReadError) as caught:
            read_scan(data, name)
        assert (caught.value.line, caught.value.column) == (int(where[1]), int(where[2]))
        assert caught.value.source == name
        return
    if truth["version"] != "2.1.0":
        with pytest.raises(ReadError) as caught:
            read_scan(data, name)
        assert caught.value.pointer == "/version"
        assert truth["version"] in caught.value.problem
        words = "older than 2.1.0" if truth["version"] < "2.1.0" else "newer than 2.1.0"
        assert words in caught.value.problem
        return

    reading = read_scan(data, name)

    runs = reading.detail.to_data()["runs"]
    findings = reading.detail.to_data()["findings"]
    assert isinstance(runs, list)
    assert isinstance(findings, list)
    assert (
        reading.summary.to_data()["truncated"] is False
    )  # the corpus is small: every finding is here
    assert len(runs) == len(truth["runs"])
    for index, (run, expected) in enumerate(zip(runs, truth["runs"], strict=True)):
        assert isinstance(run, dict)
        assert run["tool"] == expected["tool"]
        assert run["version"] == expected["tool_version"]
        assert run["results"] == expected["results"]
        assert run["suppressed"] == expected["results_with_suppressions"]
        mine = [f for f in findings if isinstance(f, dict) and f["run"] == index]
        assert Counter(f["level"] for f in mine) == Counter(expected["effective_levels"])
        assert Counter(f["rule"] for f in mine) == Counter(expected["ruleIds"])
        shown = [f for f in mine if not f["suppressed"]]
        by_level = Counter({"error": 0, "warning": 0, "note": 0, "none": 0})
        by_level.update(f["level"] for f in shown)
        assert run["by_level"] == dict(by_level)
        assert run["by_rule"] == dict(Counter(f["rule"] for f in shown))
    tools = [
        f"{r['tool']} {r['tool_version']}" if r["tool_version"] else r["tool"]
        for r in truth["runs"]
    ]
    assert reading.summary.to_data()["tool"] == ", ".join(dict.fromkeys(tools))
    assert reading.summary.to_data()["results"] == sum(r["results"] for r in truth["runs"])
    assert reading.summary.to_data()["suppressed"] == sum(
        r["results_with_suppressions"] for r in truth["runs"]
    )
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())


def test_bandit_corpus_findings_point_where_the_manifest_says() -> None:
    name = "bandit-1.9.4-itsdangerous-2.2.0.sarif"
    reading = read_scan((CORPUS / "sarif" / name).read_bytes(), name)
    findings = reading.detail.to_data()["findings"]
    assert isinstance(findings, list)
    b324 = next(f for f in findings if isinstance(f, dict) and f["rule"] == "B324")
    assert b324["level"] == "error"
    assert str(b324["file"]).endswith("signer.py")
    assert b324["line"] == 45


def test_the_sarif_schema_in_the_corpus_is_not_taken_for_a_log() -> None:
    name = "sarif-spec__sarif-schema-2.1.0.json"
    with pytest.raises(ReadError, match="JSON Schema"):
        read_scan((CORPUS / "sarif" / name).read_bytes(), name)
