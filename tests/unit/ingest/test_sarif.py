"""The SARIF 2.1.0 reader: effective levels, suppressions, locations, versions, and fuzzing."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changeproof.domain.canonical import canonical_json
from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.ingest.errors import ReadError
from changeproof.ingest.sarif import MAX_FINDINGS, parse_scan, read_scan

# Documents are built as plain JSON-shaped dicts; Any keeps the builders short.
Doc = dict[str, Any]


def log(*runs: Doc, version: str | None = "2.1.0") -> Doc:
    doc: Doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "runs": list(runs)}
    if version is not None:
        doc["version"] = version
    return doc


def run(*results: Doc, rules: list[Doc] | None = None, **extra: Any) -> Doc:
    driver: Doc = {"name": "Scanner", "version": "1.0"}
    if rules is not None:
        driver["rules"] = rules
    return {"tool": {"driver": driver}, "results": list(results), **extra}


def result(rule_id: str | None = "R1", level: str | None = None, **extra: Any) -> Doc:
    doc: Doc = {"message": {"text": f"about {rule_id}"}, **extra}
    if rule_id is not None:
        doc["ruleId"] = rule_id
    if level is not None:
        doc["level"] = level
    return doc


def at(uri: str, line: int | None = None) -> list[Doc]:
    physical: Doc = {"artifactLocation": {"uri": uri}}
    if line is not None:
        physical["region"] = {"startLine": line}
    return [{"physicalLocation": physical}]


def read(doc: Doc | bytes, source: str = "scan.sarif") -> Reading:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return read_scan(data, source)


def refused(doc: Doc | bytes) -> ReadError:
    with pytest.raises(ReadError) as caught:
        read(doc)
    return caught.value


def findings(reading: Reading) -> list[dict[str, Any]]:
    found = reading.detail.to_data()["findings"]
    assert isinstance(found, list)
    return [dict(f) for f in found if isinstance(f, dict)]


def levels(doc: Doc) -> list[str]:
    return [f["level"] for f in findings(read(doc))]


# --- the summary ---------------------------------------------------------------------------


def test_a_small_log_reads_into_a_scan() -> None:
    doc = log(
        run(
            result("B324", "error", locations=at("src/signer.py", 45)),
            result("B110", "note", locations=at("src/timed.py", 114)),
            result("B110", "note"),
        )
    )
    reading = read(doc)
    assert reading.kind is EvidenceKind.SCAN
    assert reading.format == "sarif/2.1.0"
    assert reading.summary.to_data()["tool"] == "Scanner 1.0"
    assert reading.summary.to_data()["results"] == 3
    assert reading.summary.to_data()["by_level"] == {"error": 1, "warning": 0, "note": 2, "none": 0}
    assert reading.summary.to_data()["by_rule"] == {"B324": 1, "B110": 2}
    assert reading.summary.to_data()["suppressed"] == 0
    assert findings(reading)[0] == {
        "run": 0,
        "tool": "Scanner 1.0",
        "rule": "B324",
        "level": "error",
        "file": "src/signer.py",
        "line": 45,
        "message": "about B324",
        "suppressed": False,
    }
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())


def test_by_level_always_carries_the_four_levels() -> None:
    reading = read(log(run()))
    assert reading.summary.to_data()["by_level"] == {"error": 0, "warning": 0, "note": 0, "none": 0}
    assert reading.summary.to_data()["results"] == 0


def test_the_tool_version_falls_back_to_semantic_version_then_to_nothing() -> None:
    semantic = run()
    semantic["tool"]["driver"] = {"name": "Semgrep", "semanticVersion": "1.50.0"}
    bare = run()
    bare["tool"]["driver"] = {"name": "CodeScanner"}
    assert read(log(semantic)).summary.to_data()["tool"] == "Semgrep 1.50.0"
    assert read(log(bare)).summary.to_data()["tool"] == "CodeScanner"


def test_several_runs_are_all_read_and_their_tools_joined() -> None:
    second = run(result("X", "error"))
    second["tool"]["driver"] = {"name": "Trivy", "version": "0.50.1"}
    reading = read(log(run(result("R1", "warning")), second))
    assert reading.summary.to_data()["tool"] == "Scanner 1.0, Trivy 0.50.1"
    assert reading.summary.to_data()["tools"] == ["Scanner 1.0", "Trivy 0.50.1"]
    assert reading.summary.to_data()["results"] == 2
    assert reading.summary.to_data()["by_level"] == {"error": 1, "warning": 1, "note": 0, "none": 0}
    assert [f["run"] for f in findings(reading)] == [0, 1]
    runs = reading.detail.to_data()["runs"]
    assert isinstance(runs, list)
    assert [r["tool"] for r in runs if isinstance(r, dict)] == ["Scanner", "Trivy"]


def test_parse_scan_returns_the_domain_object() -> None:
    scan = parse_scan(json.dumps(log(run(result("R1", "error")))).encode(), "s.sarif")
    assert scan.tools == ("Scanner 1.0",)
    assert scan.findings[0].rule_id == "R1"
    assert scan.findings[0].level == "error"


# --- effective level (SARIF 2.1.0 §3.27.10) ------------------------------------------------

RULES: list[Doc] = [
    {"id": "R1", "defaultConfiguration": {"level": "error"}},
    {"id": "R2"},
    {"id": "CA5350", "defaultConfiguration": {"level": "note"}},
]


def test_an_explicit_level_wins() -> None:
    assert levels(log(run(result("R1", "note"), rules=RULES))) == ["note"]


@pytest.mark.parametrize("kind", ["pass", "open", "informational", "notApplicable", "review"])
def test_a_kind_other_than_fail_without_level_is_none(kind: str) -> None:
    assert levels(log(run(result("R1", kind=kind), rules=RULES))) == ["none"]


def test_kind_fail_takes_the_rules_default_level() -> None:
    assert levels(log(run(result("R1", kind="fail"), rules=RULES))) == ["error"]


def test_the_rule_is_found_by_rule_index() -> None:
    assert levels(log(run(result(None, ruleIndex=2), rules=RULES))) == ["note"]
    reading = read(log(run(result(None, ruleIndex=2), rules=RULES)))
    assert findings(reading)[0]["rule"] == "CA5350"  # the id comes from the rule it points at


def test_the_rule_is_found_by_rule_id() -> None:
    assert levels(log(run(result("R1"), rules=RULES))) == ["error"]


def test_a_hierarchical_rule_id_finds_its_rule() -> None:
    reading = read(log(run(result("CA5350/md5"), rules=RULES)))
    assert findings(reading)[0]["level"] == "note"
    assert reading.summary.to_data()["by_rule"] == {"CA5350/md5": 1}


def test_the_rule_reference_object_is_read_too() -> None:
    doc = log(run(result(None, rule={"id": "R1"}), result(None, rule={"index": 2}), rules=RULES))
    assert levels(doc) == ["error", "note"]


def test_rules_in_extensions_are_found_by_id_and_by_tool_component() -> None:
    doc = log(run(result("EXT1"), result(None, rule={"index": 0, "toolComponent": {"index": 0}})))
    doc["runs"][0]["tool"]["extensions"] = [
        {"name": "pack", "rules": [{"id": "EXT1", "defaultConfiguration": {"level": "note"}}]}
    ]
    assert levels(doc) == ["note", "note"]
    assert [f["rule"] for f in findings(read(doc))] == ["EXT1", "EXT1"]


def test_a_tool_component_named_by_name_is_searched_for_the_rule() -> None:
    by_name = {"id": "SHARED", "toolComponent": {"name": "pack"}}
    doc = log(run(result(None, rule=by_name), result("SHARED"), rules=[{"id": "SHARED"}]))
    doc["runs"][0]["tool"]["extensions"] = [
        {"name": "pack", "rules": [{"id": "SHARED", "defaultConfiguration": {"level": "error"}}]}
    ]
    assert levels(doc) == ["error", "warning"]  # without a component, the driver's rule


def test_an_override_for_an_extension_rule_names_its_component() -> None:
    override = {
        "descriptor": {"index": 0, "toolComponent": {"index": 0}},
        "configuration": {"level": "note"},
    }
    reference = {"index": 0, "toolComponent": {"index": 0}}
    doc = log(
        run(
            result(None, rule=reference, provenance={"invocationIndex": 0}),
            result("R1", provenance={"invocationIndex": 0}),
            rules=RULES,
            invocations=[{"ruleConfigurationOverrides": [override]}],
        )
    )
    doc["runs"][0]["tool"]["extensions"] = [{"name": "pack", "rules": [{"id": "EXT"}]}]
    assert levels(doc) == ["note", "error"]  # the driver's R1 keeps its own default


def test_without_a_rule_or_its_default_the_level_is_warning() -> None:
    assert levels(log(run(result("R2"), result("UNKNOWN"), result(None), rules=RULES))) == [
        "warning",
        "warning",
        "warning",
    ]


def test_an_invocation_override_beats_the_rules_default() -> None:
    override = {"descriptor": {"index": 0}, "configuration": {"level": "note"}}
    doc = log(
        run(
            result("R1", provenance={"invocationIndex": 0}),
            result("R1"),
            rules=RULES,
            invocations=[{"executionSuccessful": True, "ruleConfigurationOverrides": [override]}],
        )
    )
    assert levels(doc) == ["note", "error"]


def test_a_rule_index_past_the_rules_is_refused_at_its_pointer() -> None:
    error = refused(log(run(result("R1"), result(None, ruleIndex=7), rules=RULES)))
    assert error.pointer == "/runs/0/results/1/ruleIndex"
    assert "3 rules" in error.problem


# --- suppressions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suppressions", "suppressed"),
    [
        ([{"kind": "external"}], True),
        ([{"kind": "inSource"}, {"kind": "external"}], True),
        ([{"kind": "inSource", "status": "accepted"}], True),
        ([{"kind": "external", "status": "underReview"}], False),
        ([{"kind": "external", "status": "rejected"}, {"kind": "inSource"}], False),
        ([{"kind": "external", "status": "rejected"}], False),
        ([{"kind": "inSource", "status": "accepted"}, {"kind": "external"}], True),
        ([{"kind": "inSource"}, {"kind": "external", "status": "underReview"}], False),
        ([], False),
    ],
    ids=[
        "external",
        "two",
        "accepted",
        "under-review",
        "one-rejected",
        "all-rejected",
        "accepted-and-absent",
        "one-under-review",
        "empty",
    ],
)
def test_suppressed_is_a_non_empty_list_of_accepted_suppressions(
    suppressions: list[Doc], suppressed: bool
) -> None:
    reading = read(log(run(result("R1", "error", suppressions=suppressions))))
    assert findings(reading)[0]["suppressed"] is suppressed
    assert reading.summary.to_data()["suppressed"] == int(suppressed)


def test_suppressed_results_are_counted_apart_and_listed_last() -> None:
    doc = log(
        run(
            result("HIDDEN", "error", suppressions=[{"kind": "inSource"}]),
            result("SHOWN", "note"),
        )
    )
    reading = read(doc)
    assert reading.summary.to_data()["results"] == 2
    assert reading.summary.to_data()["suppressed"] == 1
    assert reading.summary.to_data()["by_level"] == {"error": 0, "warning": 0, "note": 1, "none": 0}
    assert reading.summary.to_data()["by_rule"] == {"SHOWN": 1}
    assert [(f["rule"], f["suppressed"]) for f in findings(reading)] == [
        ("SHOWN", False),
        ("HIDDEN", True),
    ]


# --- locations and messages ----------------------------------------------------------------


def test_the_first_physical_location_gives_file_and_line() -> None:
    locations = [*at("first.py", 3), *at("second.py", 9)]
    found = findings(read(log(run(result("R1", "error", locations=locations)))))[0]
    assert (found["file"], found["line"]) == ("first.py", 3)


def test_an_artifact_index_gives_the_file_when_the_uri_is_absent() -> None:
    locations = [
        {"physicalLocation": {"artifactLocation": {"index": 1}, "region": {"startLine": 2}}}
    ]
    artifacts = [{"location": {"uri": "a.py"}}, {"location": {"uri": "b.py"}}]
    doc = log(run(result("R1", "error", locations=locations), artifacts=artifacts))
    found = findings(read(doc))[0]
    assert (found["file"], found["line"]) == ("b.py", 2)


def test_a_result_without_locations_has_no_file_or_line() -> None:
    logical_only = [{"logicalLocations": [{"fullyQualifiedName": "pkg.mod"}]}]
    doc = log(run(result("R1", "error"), result("R1", "error", locations=logical_only)))
    assert [(f["file"], f["line"]) for f in findings(read(doc))] == [(None, None), (None, None)]


def test_a_message_by_id_comes_from_the_rules_message_strings_with_arguments() -> None:
    rules = [
        {"id": "C2001", "messageStrings": {"default": {"text": 'Variable "{0}" is {{unset}}.'}}}
    ]
    message = {"id": "default", "arguments": ["count"]}
    doc = log(run({"ruleId": "C2001", "message": message}, rules=rules))
    assert findings(read(doc))[0]["message"] == 'Variable "count" is {unset}.'


def test_a_message_by_id_falls_back_to_global_message_strings() -> None:
    doc = log(run({"ruleId": "R2", "message": {"id": "shared"}}, rules=RULES))
    doc["runs"][0]["tool"]["driver"]["globalMessageStrings"] = {"shared": {"text": "Shared."}}
    assert findings(read(doc))[0]["message"] == "Shared."


def test_a_message_that_cannot_be_resolved_is_empty() -> None:
    doc = log(run({"ruleId": "R2", "message": {"id": "nowhere"}}, {"ruleId": "R2"}, rules=RULES))
    assert [f["message"] for f in findings(read(doc))] == ["", ""]


def test_text_without_arguments_keeps_its_braces() -> None:
    doc = log(run({"ruleId": "R1", "message": {"text": "use {} and {{x}}"}}))
    assert findings(read(doc))[0]["message"] == "use {} and {{x}}"


def test_a_long_message_is_shortened() -> None:
    doc = log(run({"ruleId": "R1", "message": {"text": "m" * 10_000}}))
    message = findings(read(doc))[0]["message"]
    assert len(message) == 2_000
    assert message.endswith("…")


def test_a_lone_surrogate_is_replaced_so_the_reading_stays_canonical() -> None:
    bad = b'[{"ruleId": "R\\ud800", "message": {"text": "x\\udfff"}}]'
    data = (
        b'{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "S"}}, "results": %s}]}' % bad
    )
    reading = read(data)
    assert findings(reading)[0]["rule"] == "R?"
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())


# --- commits and the cap -------------------------------------------------------------------


def test_commits_come_from_version_control_provenance() -> None:
    provenance = [
        {"repositoryUri": "https://example.com/r.git", "revisionId": "a" * 40},
        {"repositoryUri": "https://example.com/s.git", "revisionId": "b" * 40},
        {"repositoryUri": "https://example.com/t.git"},
    ]
    reading = read(log(run(versionControlProvenance=provenance)))
    assert reading.commits == ("a" * 40, "b" * 40)


def test_findings_are_capped_with_a_truncated_flag_suppressed_ones_first_to_go() -> None:
    hidden = result("H", "error", suppressions=[{"kind": "external"}])
    doc = log(run(hidden, *[result(f"R{i}", "warning") for i in range(MAX_FINDINGS + 10)]))
    reading = read(doc)
    kept = findings(reading)
    assert len(kept) == MAX_FINDINGS
    assert not any(f["suppressed"] for f in kept)
    assert reading.summary.to_data()["truncated"] is True
    assert reading.detail.to_data()["truncated"] is True
    assert reading.summary.to_data()["results"] == MAX_FINDINGS + 11
    assert reading.summary.to_data()["by_level"] == {
        "error": 0,
        "warning": MAX_FINDINGS + 10,
        "note": 0,
        "none": 0,
    }


# --- versions and malformed input ----------------------------------------------------------


def test_sarif_2_0_is_older_than_2_1() -> None:
    error = refused(log(run(), version="2.0.0"))
    assert error.pointer == "/version"
    assert "older than 2.1.0" in error.problem
    assert error.hint() is not None


def test_a_2_2_draft_is_refused() -> None:
    error = refused(log(run(), version="2.2"))
    assert error.pointer == "/version"
    assert "2.2" in error.problem
    assert "newer than 2.1.0" in error.problem


@pytest.mark.parametrize("version", [None, 2.1, "two", ""])
def test_a_missing_or_odd_version_is_refused_at_its_pointer(version: object) -> None:
    doc = log(run(), version=None)
    if version is not None:
        doc["version"] = version
    assert refused(doc).pointer == "/version"


def test_a_json_schema_is_named_for_what_it_is() -> None:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "title": "Static Analysis"}
    assert "JSON Schema" in refused(json.dumps(schema).encode()).problem


def test_a_utf8_bom_is_allowed() -> None:
    data = b"\xef\xbb\xbf" + json.dumps(log(run(result("R1", "error")))).encode()
    assert read(data).summary.to_data()["results"] == 1


def test_malformed_json_names_line_and_column() -> None:
    error = refused(b'{\n  "version": "2.1.0",\n  "runs": [,]\n}')
    assert (error.line, error.column) == (3, 12)
    assert error.pointer is None


def test_deeply_nested_json_is_refused_not_crashed() -> None:
    assert "nested too deeply" in refused(b"[" * 100_000 + b"]" * 100_000).problem


@pytest.mark.parametrize(
    ("mutate", "where", "words"),
    [
        (
            lambda d: d["runs"][0]["results"][1].update(level="fatal"),
            "/runs/0/results/1/level",
            "not a SARIF level",
        ),
        (lambda d: d["runs"][0]["results"][1].update(kind="bad"), "/runs/0/results/1/kind", "kind"),
        (lambda d: d["runs"][0].update(results={}), "/runs/0/results", "array"),
        (lambda d: d["runs"][0]["results"].append(7), "/runs/0/results/2", "object"),
        (lambda d: d["runs"][0].pop("tool"), "/runs/0/tool", "object"),
        (lambda d: d["runs"][0]["tool"]["driver"].pop("name"), "/runs/0/tool/driver/name", "name"),
        (
            lambda d: d["runs"][0]["tool"]["driver"].update(name=3),
            "/runs/0/tool/driver/name",
            "string",
        ),
        (
            lambda d: d["runs"][0]["results"][0].update(ruleId=["x"]),
            "/runs/0/results/0/ruleId",
            "string",
        ),
        (
            lambda d: d["runs"][0]["results"][0].update(ruleIndex=True),
            "/runs/0/results/0/ruleIndex",
            "integer",
        ),
        (
            lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"][
                "region"
            ].update(startLine=0),
            "/runs/0/results/0/locations/0/physicalLocation/region/startLine",
            "range",
        ),
        (
            lambda d: d["runs"][0]["results"][0].update(suppressions=[{"status": "maybe"}]),
            "/runs/0/results/0/suppressions/0/status",
            "status",
        ),
        (
            lambda d: d["runs"][0]["results"][0].update(message="text"),
            "/runs/0/results/0/message",
            "object",
        ),
        (lambda d: d.pop("runs"), "/runs", "runs"),
        (lambda d: d.update(runs={"a": 1}), "/runs", "array"),
        (
            lambda d: d["runs"][0]["tool"]["driver"]["rules"][0].update(
                defaultConfiguration={"level": "loud"}
            ),
            "/runs/0/tool/driver/rules/0/defaultConfiguration/level",
            "level",
        ),
    ],
    ids=[
        "level",
        "kind",
        "results-not-array",
        "result-not-object",
        "no-tool",
        "no-name",
        "name-not-string",
        "rule-id-not-string",
        "rule-index-bool",
        "line-zero",
        "suppression-status",
        "message-not-object",
        "no-runs",
        "runs-not-array",
        "default-level",
    ],
)
def test_structure_errors_name_their_json_pointer(mutate: Any, where: str, words: str) -> None:
    doc = log(
        run(
            result("R1", locations=at("a.py", 1)),
            result("R2", "error"),
            rules=[{"id": "R1", "defaultConfiguration": {"level": "note"}}],
        )
    )
    mutate(doc)
    error = refused(doc)
    assert error.pointer == where
    assert words in error.problem
    assert str(error).startswith(f"scan.sarif at {where}: ")


def test_a_top_level_that_is_not_an_object_is_refused() -> None:
    assert "object" in refused(b"[1, 2]").problem


def test_null_runs_and_null_results_read_as_nothing_with_a_note() -> None:
    assert read(log(version="2.1.0") | {"runs": None}).summary.to_data()["results"] == 0
    reading = read(log(run(results=None)))
    assert reading.summary.to_data()["results"] == 0
    assert any("no results" in note for note in reading.notes)


# --- fuzzing -------------------------------------------------------------------------------


def read_or_refuse(data: bytes) -> Reading | None:
    """The reader's whole contract: a Reading, or ReadError, and nothing else escapes."""
    try:
        reading = read_scan(data, "fuzz.sarif")
    except ReadError:
        return None
    assert isinstance(reading, Reading)
    by_level = reading.summary.to_data()["by_level"]
    assert isinstance(by_level, dict)
    assert set(by_level) == {"error", "warning", "note", "none"}
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())
    return reading


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_arbitrary_bytes_give_a_reading_or_a_read_error(data: bytes) -> None:
    read_or_refuse(data)


RICH = log(
    run(
        result("R1", locations=at("a.py", 1), provenance={"invocationIndex": 0}),
        result(None, ruleIndex=1, suppressions=[{"kind": "inSource", "status": "rejected"}]),
        result("CA5350/md5", kind="fail", message={"id": "default", "arguments": ["x", "y"]}),
        result(
            None,
            rule={"index": 0, "toolComponent": {"index": 0}},
            locations=[{"physicalLocation": {"artifactLocation": {"index": 0}}}],
        ),
        result("R2", "none", kind="informational", suppressions=[{"kind": "external"}]),
        rules=[
            {"id": "R1", "defaultConfiguration": {"level": "note"}},
            {"id": "CA5350", "messageStrings": {"default": {"text": "{0} then {1}"}}},
        ],
        invocations=[
            {
                "ruleConfigurationOverrides": [
                    {"descriptor": {"index": 0}, "configuration": {"level": "error"}}
                ]
            }
        ],
        artifacts=[{"location": {"uri": "b.py"}}],
        versionControlProvenance=[{"revisionId": "c" * 40}],
    )
)
RICH["runs"][0]["tool"]["extensions"] = [{"name": "pack", "rules": [{"id": "EXT"}]}]
RICH["runs"][0]["tool"]["driver"]["globalMessageStrings"] = {"g": {"text": "global"}}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["error", "fail", "rejected", "2.1.0", "R1", "default"]),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3)
    ),
    max_leaves=8,
)


def _places(node: Any, found: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) in a JSON tree: where a mutation can land."""
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((node, key))
            _places(value, found)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append((node, index))
            _places(value, found)
    return found


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_structurally_mutated_log_gives_a_reading_or_a_read_error(data: st.DataObject) -> None:
    doc = copy.deepcopy(RICH)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        places = _places(doc, [])
        container, key = data.draw(st.sampled_from(places))
        action = data.draw(st.sampled_from(["replace", "delete", "duplicate"]))
        if action == "replace":
            container[key] = data.draw(json_values)
        elif action == "delete":
            del container[key]
        elif isinstance(container, list):
            container.append(copy.deepcopy(container[key]))
        else:
            container[data.draw(st.text(max_size=6))] = copy.deepcopy(container[key])
    read_or_refuse(json.dumps(doc).encode())


def test_the_unmutated_rich_log_reads_as_expected() -> None:
    reading = read_or_refuse(json.dumps(RICH).encode())
    assert reading is not None
    assert [(f["rule"], f["level"], f["suppressed"]) for f in findings(reading)] == [
        ("R1", "error", False),  # the invocation's override
        ("CA5350", "warning", False),  # by index; all its suppressions rejected
        ("CA5350/md5", "warning", False),
        ("EXT", "warning", False),  # the extension's rule, no default
        ("R2", "none", True),
    ]
    assert findings(reading)[2]["message"] == "x then y"
    assert findings(reading)[3]["file"] == "b.py"
    assert reading.commits == ("c" * 40,)
