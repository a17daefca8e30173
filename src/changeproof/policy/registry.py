"""The control registry: every control is a named, parameterised function declared here.

    @control("tests-passed", params=TestsPassed, summary="…")
    def tests_passed(facts: Facts, params: TestsPassed) -> ControlResult: ...

Each control declares its parameters as a pydantic model (extra fields forbidden), so the
policy file is validated against them and the published JSON Schema and the reference
docs are generated from the registry, never written apart from the code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from changeproof.domain.decisions import Classification, ControlResult
from changeproof.policy.facts import Facts
from changeproof.policy.model import StrictModel

__all__ = ["REGISTRY", "ControlSpec", "NoParams", "Params", "control"]


class Params(StrictModel):
    """Base of every control's parameters: unknown keys are an error, not ignored, and whole
    numbers must be written as such."""


class NoParams(Params):
    pass


_P = TypeVar("_P", bound=Params)
Check = Callable[[Facts, Any], ControlResult]  # Any: each control takes its own Params model


@dataclass(frozen=True, slots=True)
class ControlSpec:
    id: str
    summary: str  # one line: what it requires, in words
    params: type[Params]
    check: Check
    safety: bool  # an urgent change may never go past this control failing
    # The classifications it applies to; for the others it is not applicable, unrun.
    classifications: frozenset[Classification] = frozenset(Classification)


REGISTRY: dict[str, ControlSpec] = {}


def control(
    id: str,
    *,
    params: type[_P],
    summary: str,
    safety: bool = False,
    classifications: frozenset[Classification] = frozenset(Classification),
) -> Callable[[Callable[[Facts, _P], ControlResult]], Callable[[Facts, _P], ControlResult]]:
    def register(
        check: Callable[[Facts, _P], ControlResult],
    ) -> Callable[[Facts, _P], ControlResult]:
        if id in REGISTRY:
            raise ValueError(f"control {id!r} is registered twice")
        REGISTRY[id] = ControlSpec(id, summary, params, check, safety, classifications)
        return check

    return register
