"""Custom rules: conditions a policy adds, as CEL expressions, over what its controls computed.

A rule has the Kubernetes ValidatingAdmissionPolicy shape, an expression and a message:

    rules:
      - name: small release
        expression: "facts['ticket-reference'].commits <= 200"
        message: "releases of more than 200 commits need a normal change"
        environments: [production]      # none listed: every environment

An expression sees two variables, built once per decision (one CEL context for every rule):

    facts    {control id: that control's facts}: the counts, sets and flags each control the
             environment ran computed (ControlResult.facts), never raw commit lists
    release  {commits: n, paths: n, environment, classification, urgent}

A rule whose expression is true passes; false fails as `rule:<name>` with the rule's message.
An expression that cannot be evaluated (a missing key, a type error, a result that is not a
bool) fails closed and says why. An urgent change never goes past a rule.

Each distinct expression is compiled once per process (the loader compiles every rule to
check it, so a syntax error is a policy error naming the rule's line). The `cel` module
(the Rust-backed `common-expression-language` package) is imported on first use: importing
it loads its REPL's dependencies, which a policy without rules should not pay for.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from changeproof.domain.canonical import JsonValue
from changeproof.domain.decisions import Classification, ControlResult, ControlStatus
from changeproof.policy.facts import Facts
from changeproof.policy.model import Rule

if TYPE_CHECKING:
    import cel

__all__ = ["RULE_PREFIX", "check_rules", "compile_problem", "rule_variables", "rules_for"]

RULE_PREFIX: Final = "rule:"
_MAX_PROBLEM: Final = 300
_SYNTAX: Final = re.compile(r"ERROR: <input>:(\d+):(\d+): (.+)")

# What the CEL runtime raises for an expression it cannot evaluate: a missing key (KeyError),
# an index out of range, no such overload (TypeError), overflow or division by zero, a bad
# argument to a function (RuntimeError, ValueError).
_CANNOT_EVALUATE: Final = (ArithmeticError, LookupError, RuntimeError, TypeError, ValueError)


@functools.lru_cache(maxsize=1024)
def _compiled(expression: str) -> cel.Program:
    import cel  # deferred: see the module docstring

    return cel.compile(expression)


def compile_problem(expression: str) -> str | None:
    """Why `expression` is not a CEL expression; None when it compiles."""
    try:
        _compiled(expression)
    except ValueError as e:
        found = [m for m in _SYNTAX.finditer(str(e)) if "Syntax error" in m[3]]
        found = found or list(_SYNTAX.finditer(str(e)))
        if not found:
            return f"not a CEL expression: {_short(str(e))}"
        line, column, problem = found[0].groups()
        where = f"column {column}" if line == "1" else f"line {line}, column {column}"
        return f"not a CEL expression: at {where}: {_short(problem)}"
    return None


def rules_for(rules: Sequence[Rule], environment: str) -> tuple[Rule, ...]:
    """The rules that apply to `environment`: those naming it, and those naming none."""
    return tuple(r for r in rules if not r.environments or environment in r.environments)


def rule_variables(
    controls: Sequence[ControlResult], facts: Facts, classification: Classification
) -> dict[str, JsonValue]:
    """The variables every rule of one decision sees: small values, never raw lists."""
    return {
        "facts": {c.id: dict(c.facts) for c in controls},
        "release": {
            "commits": len(facts.commits),
            "paths": len(facts.paths()),
            "environment": facts.environment,
            "classification": str(classification),
            "urgent": facts.urgent,
        },
    }


def check_rules(
    rules: Sequence[Rule], variables: Mapping[str, JsonValue]
) -> tuple[ControlResult, ...]:
    """Evaluate `rules` (already chosen for the environment) in one context built from
    `variables`; one ControlResult each, in the policy's order."""
    if not rules:
        return ()
    import cel  # deferred: see the module docstring

    context = cel.Context(dict(variables))
    return tuple(_check(rule, context, variables) for rule in rules)


def _check(rule: Rule, context: cel.Context, variables: Mapping[str, JsonValue]) -> ControlResult:
    rule_id = f"{RULE_PREFIX}{rule.name}"
    try:
        result: object = _compiled(rule.expression).execute(context)
    except KeyError as e:
        return _cannot(rule_id, _missing_key(e, variables))
    except _CANNOT_EVALUATE as e:
        return _cannot(rule_id, _short(str(e)) or type(e).__name__)
    if result is True:
        return ControlResult(rule_id, ControlStatus.PASS, f"{rule.expression} holds")
    if result is False:
        return ControlResult(rule_id, ControlStatus.FAIL, rule.message)
    shown = _short(repr(result))
    return _cannot(
        rule_id, f"the expression gave {type(result).__name__} {shown}, not true or false"
    )


def _cannot(rule_id: str, problem: str) -> ControlResult:
    return ControlResult(rule_id, ControlStatus.FAIL, f"cannot evaluate the rule: {problem}")


def _missing_key(error: KeyError, variables: Mapping[str, JsonValue]) -> str:
    key = error.args[0] if error.args else "?"
    known = variables.get("facts")
    controls = ", ".join(sorted(known)) if isinstance(known, dict) and known else "none"
    return f"no key {key!r} (facts holds the controls this environment ran: {controls})"


def _short(text: str) -> str:
    """The first line of a runtime's message, cut to a readable length."""
    first = text.strip().split("\n", 1)[0]
    if len(first) > _MAX_PROBLEM:
        sentence = first.find(". ")
        first = first[: sentence + 1] if 0 < sentence < _MAX_PROBLEM else first[:_MAX_PROBLEM] + "…"
    return first
