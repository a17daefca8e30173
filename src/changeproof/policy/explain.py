"""What a policy requires of a release going to one environment, in words.

Built from the registry (each control's summary, its parameters with their descriptions,
defaults filled in) and the policy (deployer role, freeze windows, high-risk areas and
their experts, standard changes, urgent bypasses, custom rules): never written apart
from the code that enforces it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import UsageError
from changeproof.policy.builtin import registered_controls
from changeproof.policy.meaning import context_params, given_params
from changeproof.policy.model import Policy

__all__ = ["ControlExplanation", "Explanation", "explain"]


@dataclass(frozen=True, slots=True)
class ControlExplanation:
    id: str
    summary: str
    safety: bool  # an urgent change may never go past it
    urgent_may_bypass: bool
    params: dict[str, JsonValue]  # as the gate will use them: defaults and policy context in
    described: tuple[str, ...]  # one sentence per parameter

    def words(self) -> str:
        text = self.summary[:1].upper() + self.summary[1:] + "."
        if self.safety:
            text += " A safety control: an urgent change never goes past it."
        elif self.urgent_may_bypass:
            text += " An urgent change may go past it."
        return text

    def to_data(self) -> dict[str, JsonValue]:
        return {
            "id": self.id,
            "summary": self.summary,
            "requires": self.words(),
            "safety": self.safety,
            "urgent_may_bypass": self.urgent_may_bypass,
            "params": self.params,
            "params_described": list(self.described),
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    environment: str
    tickets: str
    deployer_role: str | None
    controls: tuple[ControlExplanation, ...]
    urgent_may_bypass: tuple[str, ...]
    freeze_windows: tuple[dict[str, JsonValue], ...]
    high_risk: tuple[dict[str, JsonValue], ...]
    expert_review: bool  # whether high-risk changes here need their experts' approval
    standard_changes: tuple[dict[str, JsonValue], ...]
    rules: tuple[dict[str, JsonValue], ...]

    def to_data(self) -> dict[str, JsonValue]:
        return {
            "environment": self.environment,
            "tickets": self.tickets,
            "deployer_role": self.deployer_role,
            "controls": [c.to_data() for c in self.controls],
            "urgent_may_bypass": list(self.urgent_may_bypass),
            "freeze_windows": list(self.freeze_windows),
            "high_risk": list(self.high_risk),
            "expert_review": self.expert_review,
            "standard_changes": list(self.standard_changes),
            "rules": list(self.rules),
        }


def explain(policy: Policy, environment: str) -> Explanation:
    """What `policy` requires for `environment`; UsageError when it has no such environment."""
    env = policy.environments.get(environment)
    if env is None:
        raise UsageError(
            f"the policy has no environment {environment!r} "
            f"(it has: {', '.join(policy.environments)})"
        )
    controls = registered_controls()
    context = context_params(policy, environment)
    explained = []
    for ref in env.controls:
        spec = controls.get(ref.id)
        if spec is None:  # a loaded policy has none; a hand-built one may
            raise UsageError(f"unknown control {ref.id!r}")
        try:
            params: dict[str, Any] = spec.params.model_validate(
                given_params(ref, spec, context)
            ).model_dump(mode="json")
        except ValidationError as e:
            raise UsageError(f"control {ref.id!r}: {e.errors()[0]['msg']}") from e
        described = tuple(
            f"{name} = {json.dumps(params[name], ensure_ascii=False)}"
            + (f": {field.description}" if field.description else "")
            for name, field in spec.params.model_fields.items()
        )
        explained.append(
            ControlExplanation(
                id=spec.id,
                summary=spec.summary,
                safety=spec.safety,
                urgent_may_bypass=ref.id in env.urgent_may_bypass and not spec.safety,
                params=params,
                described=described,
            )
        )
    return Explanation(
        environment=environment,
        tickets=policy.tickets,
        deployer_role=env.deployer_role,
        controls=tuple(explained),
        urgent_may_bypass=env.urgent_may_bypass,
        freeze_windows=tuple(
            {"name": w.name, "start": w.start.isoformat(), "end": w.end.isoformat()}
            for w in policy.freeze_windows
            if environment in w.environments
        ),
        high_risk=tuple(
            {"name": a.name, "paths": list(a.paths), "experts": a.experts} for a in policy.high_risk
        ),
        expert_review=any(ref.id == "expert-review" for ref in env.controls),
        standard_changes=tuple(
            {
                "kind": k.kind,
                "paths": list(k.paths),
                "max_changed_lines": k.max_changed_lines,
                "max_commits": k.max_commits,
            }
            for k in policy.standard_changes
        ),
        rules=tuple(
            {"name": r.name, "expression": r.expression, "message": r.message}
            for r in policy.rules
            if not r.environments or environment in r.environments
        ),
    )
