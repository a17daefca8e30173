"""Loading policy files: every bad file is one PolicyError naming the file, line and key.

The controls used here are registered by the tests themselves (`t-…` ids), so these tests
pin the loader, not the built-in controls.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import Field

from changeproof.domain.canonical import canonical_json
from changeproof.domain.decisions import ControlResult, ControlStatus
from changeproof.domain.errors import ChangeproofError, InputError
from changeproof.policy.errors import PolicyError, PolicyProblem
from changeproof.policy.facts import Facts
from changeproof.policy.loader import (
    MAX_POLICY_BYTES,
    LoadedPolicy,
    PolicyFiles,
    load_policy,
    load_policy_file,
    policy_from_document,
)
from changeproof.policy.registry import REGISTRY, ControlSpec, NoParams, Params

SOURCE = "changeproof.yaml"


class Approvals(Params):
    min_approvals: int = Field(default=1, ge=1)


class Role(Params):
    role: str = Field(min_length=1)


def _never(facts: Facts, params: object) -> ControlResult:
    return ControlResult("t", ControlStatus.FAIL, "a test control")


@pytest.fixture(autouse=True)
def test_controls(monkeypatch: pytest.MonkeyPatch) -> None:
    for spec in (
        ControlSpec("t-tickets", "every commit names a ticket", NoParams, _never, False),
        ControlSpec("t-approvals", "enough approvals", Approvals, _never, False),
        ControlSpec("t-tests", "tests passed", NoParams, _never, False),
        ControlSpec("t-role", "the deployer holds the role", Role, _never, True),
    ):
        monkeypatch.setitem(REGISTRY, spec.id, spec)


GOOD = """\
# a small policy
version: 1
tickets: jira:PAY,OPS,github
high_risk:
  - name: database migrations
    paths: ["db/migrations/**"]
    experts: dba
standard_changes:
  - kind: content
    paths: ["docs/**", "*.md"]
freeze_windows:
  - name: year end
    start: 2026-12-20T00:00:00Z
    end: 2027-01-04T00:00:00+01:00
    environments: [production]
environments:
  staging:
    controls: [t-tickets]
  production:
    deployer_role: production-pusher
    urgent_may_bypass: [t-tests]
    controls:
      - t-tickets
      - t-approvals: {min_approvals: 2}
      - id: t-tests
      - t-role
rules:
  - name: small release
    expression: "facts['t-tickets'].commits <= 200"
    message: "too many commits"
    environments: [production]
"""


def load(text: str | bytes) -> LoadedPolicy:
    return load_policy(text.encode() if isinstance(text, str) else text, SOURCE)


def refused(text: str | bytes) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        load(text)
    return caught.value


def only(error: PolicyError) -> PolicyProblem:
    assert len(error.problems) == 1, error.message
    return error.problems[0]


def good_with(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


# --- a good policy -------------------------------------------------------------------------


def test_a_good_policy_loads_with_the_digest_of_its_canonical_json() -> None:
    loaded = load(GOOD)
    assert loaded.source == SOURCE
    assert loaded.policy.environments["production"].controls[1].params == {"min_approvals": 2}
    assert loaded.document == canonical_json(loaded.policy.model_dump(mode="json")).decode()
    assert loaded.digest == hashlib.sha256(loaded.document.encode()).hexdigest()


def test_the_digest_ignores_comments_layout_and_short_forms_but_not_meaning() -> None:
    digest = load(GOOD).digest
    rewritten = (
        good_with("# a small policy\n", "")
        .replace(
            "      - t-tickets\n      - t-approvals", "      - {id: t-tickets}\n      - t-approvals"
        )
        .replace("    controls: [t-tickets]", "    controls:\n      - t-tickets:   # no params\n")
    )
    assert load(rewritten).digest == digest
    assert load(good_with("min_approvals: 2", "min_approvals: 3")).digest != digest


def test_a_recorded_document_loads_back_to_the_same_digest() -> None:
    loaded = load(GOOD)
    again = policy_from_document(json.loads(loaded.document), source="ledger policy")
    assert (again.digest, again.document) == (loaded.digest, loaded.document)


def test_a_recorded_document_with_a_problem_names_the_key_without_a_line() -> None:
    document = json.loads(load(GOOD).document)
    document["environments"]["staging"]["controls"] = [{"id": "t-gone", "params": {}}]
    with pytest.raises(PolicyError) as caught:
        policy_from_document(document, source="ledger policy abc")
    problem = only(caught.value)
    assert problem.line is None
    assert str(problem).startswith("ledger policy abc: environments.staging.controls[0]: ")


def test_the_error_is_a_changeproof_error_with_exit_2_and_the_house_format() -> None:
    error = refused(good_with("t-approvals: {min_approvals: 2}", "t-nope"))
    assert isinstance(error, ChangeproofError)
    assert error.exit_code == 2
    assert (error.path, error.line, error.key) == (
        SOURCE,
        24,
        "environments.production.controls[1]",
    )
    assert error.message.startswith(f"{SOURCE}:24: environments.production.controls[1]: ")
    assert error.hint()


# --- meaning -------------------------------------------------------------------------------


def test_an_unknown_control_is_an_error_listing_the_known_ones() -> None:
    problem = only(
        refused(
            good_with(
                "      - t-tickets\n      - t-approvals", "      - four-eyes\n      - t-approvals"
            )
        )
    )
    assert (problem.line, problem.key) == (23, "environments.production.controls[0]")
    assert "unknown control 'four-eyes' (known: " in problem.problem
    assert "t-approvals" in problem.problem


def test_a_parameter_of_the_wrong_type_names_its_line_and_key() -> None:
    problem = only(refused(good_with("min_approvals: 2", 'min_approvals: "two"')))
    assert problem.line == 24
    assert problem.key == "environments.production.controls[1].t-approvals.min_approvals"
    assert "whole number" in problem.problem
    assert "'two'" in problem.problem


def test_parameters_in_the_long_form_are_found_on_their_own_line() -> None:
    long_form = "      - id: t-approvals\n        params:\n          extra: 1\n"
    problem = only(refused(good_with("      - t-approvals: {min_approvals: 2}\n", long_form)))
    assert (problem.line, problem.key) == (26, "environments.production.controls[1].params.extra")
    assert "unknown key (allowed here: min_approvals)" in problem.problem


def test_a_role_parameter_comes_from_the_environment_else_it_is_missing() -> None:
    problem = only(refused(good_with("    deployer_role: production-pusher\n", "")))
    assert problem.key == "environments.production.controls[3].role"
    assert "deployer_role" in problem.problem


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("/db/migrations/**", "never start with '/'"),
        ("db/../secrets/**", "'..' segments"),
        ("db/migrations/", "trailing '/'"),
        ("db//migrations", "empty path segment"),
        ("db/***", "'***'"),
        ("db/**.sql", "whole segment"),
    ],
)
def test_a_glob_that_can_never_match_is_refused(pattern: str, words: str) -> None:
    problem = only(refused(good_with('["db/migrations/**"]', json.dumps(["ok/**", pattern]))))
    assert (problem.line, problem.key) == (6, "high_risk[0].paths[1]")
    assert "can never match" in problem.problem
    assert words in problem.problem


def test_an_unknown_environment_in_a_freeze_window_or_rule_is_refused() -> None:
    text = good_with(
        "    environments: [production]\nenvironments",
        "    environments: [production, prod]\nenvironments",
    )
    text = text.replace("    environments: [production]\n", "    environments: [staging, qa]\n")
    error = refused(text)
    assert [(p.line, p.key) for p in error.problems] == [
        (15, "freeze_windows[0].environments[1]"),
        (31, "rules[0].environments[1]"),
    ]
    assert "no environment 'prod' in this policy (it has: staging, production)" in str(error)


def test_a_freeze_window_must_end_after_it_starts() -> None:
    problem = only(refused(good_with("2027-01-04T00:00:00+01:00", "2026-12-19T00:00:00Z")))
    assert (problem.line, problem.key) == (14, "freeze_windows[0].end")


def test_urgent_may_bypass_only_required_controls_that_are_not_safety_controls() -> None:
    error = refused(
        good_with("urgent_may_bypass: [t-tests]", "urgent_may_bypass: [t-role, t-nope]")
    )
    assert [(p.line, p.key) for p in error.problems] == [
        (21, "environments.production.urgent_may_bypass[0]"),
        (21, "environments.production.urgent_may_bypass[1]"),
    ]
    assert "'t-role' is a safety control" in error.problems[0].problem
    assert "'t-nope' is not a control this environment requires" in error.problems[1].problem


def test_a_control_listed_twice_in_one_environment_is_refused() -> None:
    problem = only(refused(good_with("      - t-role\n", "      - t-role\n      - t-tickets\n")))
    assert (problem.line, problem.key) == (27, "environments.production.controls[4]")
    assert "listed twice" in problem.problem


@pytest.mark.parametrize("spec", ["jira,bugzilla", "jira:pay", "github:X", "", "PAY"])
def test_ticket_patterns_must_parse(spec: str) -> None:
    problem = only(refused(good_with("tickets: jira:PAY,OPS,github", f"tickets: '{spec}'")))
    assert (problem.line, problem.key) == (3, "tickets")


def test_names_must_be_unique() -> None:
    text = good_with(
        "standard_changes:",
        "  - name: database migrations\n    paths: [x]\n    experts: dba\nstandard_changes:",
    )
    problem = only(refused(text))
    assert (problem.line, problem.key) == (8, "high_risk[1].name")


# --- schema --------------------------------------------------------------------------------


def test_a_time_without_a_zone_is_refused_at_its_line() -> None:
    problem = only(refused(good_with("2026-12-20T00:00:00Z", "2026-12-20 00:00:00")))
    assert (problem.line, problem.key) == (13, "freeze_windows[0].start")
    assert "time zone" in problem.problem


def test_an_unknown_key_lists_the_allowed_ones() -> None:
    problem = only(refused(good_with("    deployer_role:", "    deployer:")))
    assert (problem.line, problem.key) == (20, "environments.production.deployer")
    assert "allowed here: controls, deployer_role, urgent_may_bypass" in problem.problem


def test_a_missing_required_key_is_named() -> None:
    problem = only(refused(good_with("version: 1\n", "")))
    assert (problem.line, problem.key) == (2, "version")
    assert "missing" in problem.problem


def test_every_schema_problem_is_reported_in_line_order() -> None:
    text = good_with("version: 1", "version: 2").replace("experts: dba", "experts: [dba]")
    error = refused(text)
    assert [(p.line, p.key) for p in error.problems] == [
        (2, "version"),
        (7, "high_risk[0].experts"),
    ]


def test_a_control_written_as_a_number_explains_the_three_forms() -> None:
    problem = only(refused(good_with("    controls: [t-tickets]", "    controls: [7]")))
    assert (problem.line, problem.key) == (18, "environments.staging.controls[0]")
    assert "a control is written as its id" in problem.problem


# --- structure -----------------------------------------------------------------------------

BILLION_LAUGHS = """\
version: 1
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
environments: {x: {controls: [*i]}}
"""


def test_a_yaml_bomb_is_refused_at_its_first_anchor_before_anything_expands() -> None:
    started = time.perf_counter()
    problem = only(refused(BILLION_LAUGHS))
    assert time.perf_counter() - started < 1
    assert (problem.line, problem.key) == (2, "a")
    assert "anchors ('&a') are not allowed" in problem.problem


def test_an_alias_is_refused_even_to_a_plain_value() -> None:
    problem = only(refused(good_with("    experts: dba", "    experts: *dba")))
    assert (problem.line, problem.key) == (7, "high_risk[0].experts")
    assert "not valid YAML" in problem.problem or "aliases" in problem.problem


def test_a_nested_anchor_names_its_key_path() -> None:
    problem = only(refused(good_with("    controls: [t-tickets]", "    controls: &c [t-tickets]")))
    assert (problem.line, problem.key) == (18, "environments.staging.controls")


def test_duplicate_keys_are_refused_naming_both_lines() -> None:
    problem = only(refused(good_with("  staging:\n", "  production: {}\n  staging:\n")))
    assert (problem.line, problem.key) == (20, "environments.production")
    assert "duplicate key (first at line 17)" in problem.problem


def test_a_top_level_list_is_refused() -> None:
    problem = only(refused("- version: 1\n- environments: {}\n"))
    assert (problem.line, problem.key) == (1, None)
    assert "top level must be a mapping" in problem.problem
    assert str(problem) == f"{SOURCE}:1: {problem.problem}"


def test_a_file_over_one_mebibyte_is_refused_before_it_is_parsed() -> None:
    padding = b"#" + b"x" * 1022 + b"\n"
    at_limit = GOOD.encode() + padding * ((MAX_POLICY_BYTES - len(GOOD)) // len(padding))
    assert len(at_limit) <= MAX_POLICY_BYTES
    assert load(at_limit).digest == load(GOOD).digest
    problem = only(refused(at_limit + padding))
    assert (problem.line, problem.key) == (1, None)
    assert "larger than 1048576 bytes" in problem.problem


@pytest.mark.parametrize(
    ("text", "line", "key", "words"),
    [
        ("version: 1\nx: !!python/object:os.system {}\n", 2, "x", "tag"),
        ("version: 1\nx: !!binary aGVsbG8=\n", 2, "x", "tag"),
        ("version: 1\nx: !custom 3\n", 2, "x", "tag"),
        ("version: 1\nenvironments:\n  <<: {a: {}}\n", 3, "environments", "merge keys"),
        ("version: 1\nx: 1.5\n", 2, "x", "fraction"),
        ("version: 1\nx: .inf\n", 2, "x", "fraction"),
        ("version: 1\nx: 9007199254740992\n", 2, "x", "too large"),
        ("version: 1\n? [a, b]\n: c\n", 2, None, "a key must be a name"),
        ('version: 1\nx: "\\ud800"\n', 2, "x", "not valid Unicode"),
        ("version: 1\nx: !!int ten\n", 2, "x", "not a valid int"),
        ("version: 1\nx: !!timestamp 2026-02-30\n", 2, "x", "not a valid timestamp"),
    ],
)
def test_what_yaml_allows_and_a_policy_must_not_is_refused(
    text: str, line: int, key: str | None, words: str
) -> None:
    problem = refused(text).problems[0]
    assert (problem.line, problem.key) == (line, key)
    assert words in problem.problem


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b"version: 1\nx: [\n", 3, "not valid YAML"),
        (b"version: 1\n---\nversion: 1\n", 2, "single document"),
        (b"version: 1\nx: \x01\n", 2, "not valid YAML"),
        (b"version: 1\n\xff\xfe\n", 2, "not UTF-8"),
        (b"", 1, "empty"),
        (b"# only a comment\n", 1, "empty"),
        (b"just a string\n", 1, "not a single value"),
        (b"[" * 100 + b"]" * 100, 1, "nested more than 64"),
    ],
)
def test_unreadable_files_are_refused_with_a_line(data: bytes, line: int, words: str) -> None:
    problem = only(refused(data))
    assert problem.line == line
    assert words in problem.problem


def test_policy_files_validate_a_file_again_only_when_its_bytes_or_name_change(
    tmp_path: Path,
) -> None:
    path, other = tmp_path / "changeproof.yaml", tmp_path / "other.yaml"
    path.write_text(GOOD)
    files = PolicyFiles()
    first = files.load(path)
    assert first == load_policy_file(path)
    assert files.load(path) is first
    other.write_text(GOOD)
    assert files.load(other).source == str(other)
    path.write_text(GOOD.replace("jira:PAY,OPS,github", "jira:PAY,github"))
    assert files.load(path).digest != first.digest
    path.write_text(GOOD.replace("version: 1", "version: 2"))
    with pytest.raises(PolicyError):
        files.load(path)
    path.unlink()
    with pytest.raises(InputError, match="no policy file"):
        files.load(path)


def test_keys_are_text_whatever_yaml_would_make_of_them() -> None:
    text = good_with(
        "  staging:\n", "  'on':\n    controls: []\n  2024:\n    controls: []\n  staging:\n"
    )
    assert list(load(text).policy.environments) == ["on", "2024", "staging", "production"]


# --- fuzz ----------------------------------------------------------------------------------

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["t-tickets", "t-approvals", "t-role", "production", "db/**", "/x"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "params", "controls", "paths", "name", "min_approvals"])
            | st.text(max_size=8),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)
_documents = st.dictionaries(
    st.sampled_from(
        ["version", "tickets", "high_risk", "freeze_windows", "environments", "rules", "x"]
    ),
    _values,
    max_size=6,
)


def _survives(data: bytes) -> None:
    try:
        loaded = load(data)
    except PolicyError as e:
        error = e
    else:
        assert loaded.digest == hashlib.sha256(loaded.document.encode()).hexdigest()
        return
    assert error.problems
    assert all(p.path == SOURCE for p in error.problems)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_fuzz_bytes_only_load_or_raise_policy_error(data: bytes) -> None:
    _survives(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_fuzz_text_only_loads_or_raises_policy_error(text: str) -> None:
    _survives(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents)
def test_fuzz_yaml_documents_only_load_or_raise_policy_error(document: dict[str, object]) -> None:
    _survives(yaml.safe_dump(document, allow_unicode=True).encode("utf-8", "surrogatepass"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=len(GOOD) - 1), st.text(min_size=1, max_size=3))
def test_fuzz_edits_of_a_good_policy_only_load_or_raise_policy_error(at: int, edit: str) -> None:
    _survives((GOOD[:at] + edit + GOOD[at + 1 :]).encode("utf-8", "surrogatepass"))
