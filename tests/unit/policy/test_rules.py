"""Custom rules: CEL conditions over the facts controls computed, failing closed."""

from __future__ import annotations

import cel
import pytest

from changeproof.domain.canonical import JsonValue
from changeproof.domain.decisions import Classification, ControlResult, ControlStatus
from changeproof.policy.builtin import registered_controls
from changeproof.policy.errors import PolicyError
from changeproof.policy.evaluation import evaluate
from changeproof.policy.loader import load_policy
from changeproof.policy.model import ControlRef, Environment, Policy, Rule
from changeproof.policy.rules import check_rules, compile_problem, rule_variables, rules_for
from tests.unit.policy.controls.factsbuilder import commit, facts

VARIABLES: dict[str, JsonValue] = {
    "facts": {"ticket-reference": {"commits": 2, "untracked": 0}},
    "release": {
        "commits": 2,
        "paths": 3,
        "environment": "production",
        "classification": "normal",
        "urgent": False,
    },
}


def rule(expression: str, *, name: str = "r", environments: tuple[str, ...] = ()) -> Rule:
    return Rule(
        name=name, expression=expression, message=f"{name} says no", environments=environments
    )


def one(expression: str) -> ControlResult:
    (result,) = check_rules([rule(expression)], VARIABLES)
    return result


def test_a_true_expression_passes() -> None:
    result = one("facts['ticket-reference'].commits <= 2 && !release.urgent")
    assert result.id == "rule:r"
    assert result.status is ControlStatus.PASS
    assert "holds" in result.reason


def test_a_false_expression_fails_with_the_rule_message() -> None:
    result = one("facts['ticket-reference'].commits <= 1")
    assert result.status is ControlStatus.FAIL
    assert result.reason == "r says no"


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("facts['tests-passed'].failed == 0", "no key 'tests-passed'"),
        ("release.nope == 1", "no key 'nope'"),
        ("release.commits + 'a' == 1", "No such overload"),
        ("9223372036854775807 + release.commits > 0", "overflow"),
        ("release.commits / 0 == 1", "division by zero"),
        ("undefined_name", "Undefined variable"),
    ],
)
def test_an_expression_that_cannot_be_evaluated_fails_closed(expression: str, words: str) -> None:
    result = one(expression)
    assert result.status is ControlStatus.FAIL
    assert result.reason.startswith("cannot evaluate the rule: ")
    assert words in result.reason
    assert len(result.reason) < 400


def test_a_missing_control_names_the_controls_there_are() -> None:
    assert "facts holds the controls this environment ran: ticket-reference" in (
        one("facts['tests-passed'].failed == 0").reason
    )


@pytest.mark.parametrize(
    ("expression", "shown"),
    [("release.commits", "int 2"), ("release.environment", "str 'production'"), ("null", "None")],
)
def test_a_result_that_is_not_a_bool_fails_closed(expression: str, shown: str) -> None:
    result = one(expression)
    assert result.status is ControlStatus.FAIL
    assert shown in result.reason
    assert "not true or false" in result.reason


def test_rules_apply_to_the_environments_they_list_or_to_all() -> None:
    everywhere = rule("true", name="everywhere")
    prod = rule("true", name="prod", environments=("production",))
    both = rule("true", name="both", environments=("staging", "production"))
    rules = (everywhere, prod, both)
    assert rules_for(rules, "production") == rules
    assert rules_for(rules, "staging") == (everywhere, both)
    assert rules_for(rules, "development") == (everywhere,)


def test_compile_problem_names_the_column() -> None:
    assert compile_problem("facts['ticket-reference'].commits <= 1") is None
    problem = compile_problem("release.commits <=")
    assert problem is not None
    assert problem.startswith("not a CEL expression: at column 19: Syntax error")


def test_the_loader_refuses_an_expression_that_does_not_compile_naming_its_line() -> None:
    text = """\
version: 1
environments:
  production:
    controls: [ticket-reference]
rules:
  - name: fine
    expression: "release.commits < 10"
    message: "small"
  - name: broken
    message: "never"
    expression: "facts['ticket-reference'].commits <="
"""
    with pytest.raises(PolicyError) as caught:
        load_policy(text.encode(), "changeproof.yaml")
    (problem,) = caught.value.problems
    assert problem.line == 11
    assert problem.key == "rules[1].expression"
    assert problem.problem.startswith("rule 'broken': not a CEL expression: at column")


# --- in a decision ---------------------------------------------------------------------------


def policy(*rules: Rule, bypass: tuple[str, ...] = ()) -> Policy:
    registered_controls()
    controls = (ControlRef(id="ticket-reference"), ControlRef(id="tests-passed"))
    return Policy(
        version=1,
        environments={
            "production": Environment(controls=controls, urgent_may_bypass=bypass),
            "staging": Environment(controls=controls[:1]),
        },
        rules=rules,
    )


TWO_COMMITS = facts([commit("a"), commit("b", paths=("app/main.py", "db/x.sql"))])


def test_rules_run_after_the_controls_over_their_facts_and_join_the_decision() -> None:
    decision = evaluate(
        policy(
            rule("facts['ticket-reference'].commits <= 1", name="small"),
            rule("release.paths == 2 && release.classification == 'normal'", name="shape"),
            rule("false", name="staging only", environments=("staging",)),
        ),
        "d" * 64,
        TWO_COMMITS,
    )
    by_id = {c.id: c for c in decision.controls}
    assert set(by_id) == {"ticket-reference", "tests-passed", "rule:small", "rule:shape"}
    assert by_id["rule:small"].status is ControlStatus.FAIL
    assert by_id["rule:small"].reason == "small says no"
    assert by_id["rule:shape"].status is ControlStatus.PASS
    assert not decision.allowed
    assert decision.failed[-1].id == "rule:small"  # failures first, rules after controls


def test_a_failing_rule_alone_blocks_and_an_urgent_change_never_goes_past_it() -> None:
    urgent = facts([commit("a")], urgent=True, urgent_reason="INC-1")
    rules = policy(rule("!release.urgent", name="no urgent"), bypass=("tests-passed",))
    decision = evaluate(rules, "d" * 64, urgent)
    assert decision.classification is Classification.URGENT
    assert decision.bypassed == ("tests-passed",)  # no test evidence: failed, and went past
    assert [c.id for c in decision.failed] == ["tests-passed", "rule:no urgent"]
    assert not decision.allowed


def test_an_unknown_environment_runs_no_rules() -> None:
    decision = evaluate(policy(rule("true")), "d" * 64, facts([commit("a")], environment="nope"))
    assert [c.id for c in decision.controls] == ["environment"]


def test_one_context_per_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    real = cel.Context

    def counting(variables: dict[str, object]) -> cel.Context:
        made.append(variables)
        return real(variables)

    monkeypatch.setattr(cel, "Context", counting)
    rules = tuple(rule(f"release.commits > {n}", name=f"r{n}") for n in range(5))
    decision = evaluate(policy(*rules), "d" * 64, TWO_COMMITS)
    assert len(made) == 1
    assert sum(1 for c in decision.controls if c.id.startswith("rule:")) == 5
    decision = evaluate(policy(), "d" * 64, TWO_COMMITS)  # no rules: no context at all
    assert len(made) == 1


def test_the_variables_hold_small_values_only() -> None:
    controls = [ControlResult("x", ControlStatus.PASS, "ok", (), {"n": 3, "flag": True})]
    variables = rule_variables(controls, TWO_COMMITS, Classification.NORMAL)
    assert variables == {
        "facts": {"x": {"n": 3, "flag": True}},
        "release": {
            "commits": 2,
            "paths": 2,
            "environment": "production",
            "classification": "normal",
            "urgent": False,
        },
    }
