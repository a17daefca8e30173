"""Evaluating a policy for one environment: every required control, then the verdict.

Fails closed: a control that cannot be given valid parameters fails with that reason;
an unknown control id was already refused when the policy was loaded.
An urgent change may go past failing controls the environment lists in
`urgent_may_bypass`, never past a safety control; it is always flagged for review.
The policy's custom rules for the environment run after the controls, over what they
computed (see `rules`); their results join the controls', and no urgent change goes past one.
"""

from __future__ import annotations

from pydantic import ValidationError

from changeproof.domain.decisions import (
    Classification,
    ControlResult,
    ControlStatus,
    Decision,
)
from changeproof.domain.history import inherits_tickets
from changeproof.policy.classification import classify
from changeproof.policy.facts import Facts
from changeproof.policy.model import ControlRef, Environment, Policy
from changeproof.policy.registry import REGISTRY
from changeproof.policy.rules import check_rules, rule_variables, rules_for

__all__ = ["evaluate"]


def evaluate(
    policy: Policy,
    digest: str,
    facts: Facts,
    *,
    declared: Classification | None = None,
) -> Decision:
    classified = classify(policy, facts, declared)
    environment = policy.environments.get(facts.environment)
    if environment is None:
        names = ", ".join(sorted(policy.environments))
        results: tuple[ControlResult, ...] = (
            ControlResult(
                "environment",
                ControlStatus.FAIL,
                f"the policy has no environment {facts.environment!r} (it has: {names})",
            ),
        )
        environment = Environment()
    else:
        results = tuple(
            _run(ref, policy, environment, facts, classified.classification)
            for ref in environment.controls
        )
    failed = [r for r in results if r.status is ControlStatus.FAIL]
    bypassed: tuple[str, ...] = ()
    if classified.classification is Classification.URGENT:
        bypassable = {
            c for c in environment.urgent_may_bypass if c in REGISTRY and not REGISTRY[c].safety
        }
        bypassed = tuple(r.id for r in failed if r.id in bypassable)
        failed = [r for r in failed if r.id not in bypassable]
    listed = facts.environment in policy.environments  # an unknown one has failed already
    applicable = rules_for(policy.rules, facts.environment) if listed else ()
    if applicable:
        variables = rule_variables(results, facts, classified.classification)
        checked = check_rules(applicable, variables)
        results = (*results, *checked)
        failed += [r for r in checked if r.status is ControlStatus.FAIL]
    return Decision(
        release=facts.release,
        environment=facts.environment,
        allowed=not failed,
        classification=classified.classification,
        classification_reason=classified.reason,
        approval_required=classified.classification is Classification.NORMAL,
        controls=_failures_first(results),
        policy_digest=digest,
        deployer=facts.deployer,
        artifact=facts.artifact,
        urgent_reason=facts.urgent_reason,
        bypassed=bypassed,
    )


def _context(policy: Policy, environment: Environment, facts: Facts) -> dict[str, object]:
    """Parameters a control may take from the policy itself rather than its own entry."""
    return {
        "role": environment.deployer_role,
        "inherit_tickets": inherits_tickets(policy.tickets),
        "windows": [
            {"name": w.name, "start": w.start, "end": w.end}
            for w in policy.freeze_windows
            if facts.environment in w.environments
        ],
    }


def _run(
    ref: ControlRef,
    policy: Policy,
    environment: Environment,
    facts: Facts,
    classification: Classification,
) -> ControlResult:
    spec = REGISTRY[ref.id]
    if classification not in spec.classifications:
        return ControlResult(
            ref.id, ControlStatus.NOT_APPLICABLE, f"not needed for a {classification} change"
        )
    given = dict(ref.params)
    for name, value in _context(policy, environment, facts).items():
        if name in spec.params.model_fields and name not in given and value is not None:
            given[name] = value
    try:
        params = spec.params.model_validate(given)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "parameters"
        return ControlResult(
            ref.id, ControlStatus.FAIL, f"cannot evaluate: {where}: {first['msg']}"
        )
    # A control that raises is a bug: it surfaces as one (exit 70) and nothing is recorded,
    # which blocks the release as surely as a failure would.
    return spec.check(facts, params)


def _failures_first(results: tuple[ControlResult, ...]) -> tuple[ControlResult, ...]:
    order = {ControlStatus.FAIL: 0, ControlStatus.PASS: 1, ControlStatus.NOT_APPLICABLE: 2}
    return tuple(sorted(results, key=lambda r: order[r.status]))
