"""The policy file's shape (changeproof.yaml), validated at the trust boundary.

version: 1
tickets: jira:PAY,OPS,github          # ticket patterns, as --tickets takes them
high_risk:                            # CODEOWNERS-like: paths and who must review them
  - name: database migrations
    paths: ["db/migrations/**"]
    experts: dba                      # an actor group
standard_changes:                     # kinds of change pre-approved as standard
  - kind: content
    paths: ["docs/**", "**/*.md"]
    max_changed_lines: 500
freeze_windows:
  - name: year end
    start: 2026-12-20T00:00:00Z
    end: 2027-01-04T00:00:00Z
    environments: [production]
environments:
  production:
    deployer_role: production-pusher
    urgent_may_bypass: [tests-passed]  # failing controls an urgent change may go past
    controls:
      - ticket-reference
      - independent-review: {min_approvals: 1}
rules:                                 # custom conditions (CEL) over control facts
  - name: small release
    expression: "facts['ticket-reference'].commits <= 200"
    message: "releases of more than 200 commits need a normal change"
    environments: [production]
"""

from __future__ import annotations

import typing
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from changeproof.domain.actors import Role

__all__ = [
    "ROLE_NAMES",
    "ControlRef",
    "Environment",
    "FreezeWindow",
    "HighRiskArea",
    "Policy",
    "RoleName",
    "Rule",
    "StandardChangeKind",
    "StrictModel",
]

# Every role an actor can hold: a policy naming another (`deployer_role: prod-pusher`) is
# refused with this list, rather than requiring a role nobody can ever be granted.
RoleName = Literal[
    "developer",
    "reviewer",
    "approver",
    "emergency-approver",
    "qa-pusher",
    "production-pusher",
    "auditor",
    "admin",
]
ROLE_NAMES: tuple[str, ...] = typing.get_args(RoleName)
assert set(ROLE_NAMES) == {r.value for r in Role}

_Name = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("give a time zone (e.g. 2026-12-20T00:00:00Z)")
    return moment


def _is_integer(annotation: object) -> bool:
    """`int` or `int | None`."""
    if annotation is int:
        return True
    args = typing.get_args(annotation)
    return len(args) == 2 and int in args and type(None) in args


class StrictModel(BaseModel):
    """A policy file's part: unknown keys are an error, and so is a number given loosely.

    pydantic would read `min_approvals: true` as 1 and `"2"` as 2; in a policy either is
    more likely a mistake than a meaning, so a whole number must be written as one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _whole_numbers(cls, value: object, info: ValidationInfo) -> object:
        field = cls.model_fields.get(info.field_name or "")
        loose = isinstance(value, bool | str | float)
        if loose and field is not None and _is_integer(field.annotation):
            raise ValueError("must be a whole number written as one (e.g. 2)")
        return value


class _Strict(StrictModel):
    pass


class HighRiskArea(_Strict):
    name: _Name
    paths: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1)
    experts: _Name = Field(description="The actor group whose member must approve.")


class StandardChangeKind(_Strict):
    kind: _Name = Field(description="e.g. content, config, dependency-patch")
    paths: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1)
    max_changed_lines: int = Field(default=500, ge=0)
    max_commits: int = Field(default=50, ge=1)


class FreezeWindow(_Strict):
    name: _Name
    start: Annotated[datetime, AfterValidator(_aware)]
    end: Annotated[datetime, AfterValidator(_aware)]
    environments: tuple[_Name, ...] = Field(min_length=1)


class ControlRef(_Strict):
    """One control an environment requires, with its parameters (checked by the registry)."""

    id: _Name
    params: dict[str, object] = Field(default_factory=dict)


class Environment(_Strict):
    controls: tuple[ControlRef, ...] = ()
    deployer_role: RoleName | None = None
    urgent_may_bypass: tuple[_Name, ...] = ()

    @field_validator("controls", mode="before")
    @classmethod
    def _short_forms(cls, value: object) -> object:
        """`- ticket-reference` and `- independent-review: {min_approvals: 2}` as ControlRefs."""
        if not isinstance(value, list | tuple):
            return value
        refs: list[object] = []
        for item in value:
            if isinstance(item, str):
                refs.append({"id": item})
            elif isinstance(item, dict) and len(item) == 1 and "id" not in item:
                ((name, params),) = item.items()
                refs.append({"id": name, "params": {} if params is None else params})
            else:
                refs.append(item)
        return refs


class Rule(_Strict):
    name: _Name
    expression: Annotated[str, Field(min_length=1, max_length=2000)]
    message: Annotated[str, Field(min_length=1, max_length=500)]
    environments: tuple[_Name, ...] = ()  # empty: every environment


class Policy(_Strict):
    version: Literal[1]
    tickets: str = "jira,github"
    high_risk: tuple[HighRiskArea, ...] = ()
    standard_changes: tuple[StandardChangeKind, ...] = ()
    freeze_windows: tuple[FreezeWindow, ...] = ()
    environments: dict[_Name, Environment] = Field(min_length=1)
    rules: tuple[Rule, ...] = ()
