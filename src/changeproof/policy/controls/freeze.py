"""freeze-window: no deployment while the environment is frozen, unless the change is urgent.

Rule: the gate's clock (`Facts.now`) is not inside any of `windows` (start inclusive, end
exclusive), or the change is urgent (`Facts.urgent`), in which case it passes and the
reason says it went through a freeze and why. The windows are the policy's own: the gate
passes the policy's `freeze_windows` that list this environment as the `windows`
parameter, so the policy's entry for this control normally gives none itself (Facts has no
field for them). With no windows at all, the control does not apply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final

from pydantic import AfterValidator, Field, model_validator

from changeproof.domain.canonical import JsonValue
from changeproof.domain.decisions import ControlResult, ControlStatus
from changeproof.policy.controls.wording import counted, listing
from changeproof.policy.facts import Facts
from changeproof.policy.registry import Params, control

__all__ = ["ID", "FreezeWindow", "FreezeWindows", "freeze_window"]

ID: Final = "freeze-window"


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("give a time zone (e.g. 2026-12-20T00:00:00Z)")
    return moment


class FreezeWindow(Params):
    name: str = Field(min_length=1)
    start: Annotated[datetime, AfterValidator(_aware)]
    end: Annotated[datetime, AfterValidator(_aware)]

    @model_validator(mode="after")
    def _ordered(self) -> FreezeWindow:
        if self.end <= self.start:
            raise ValueError(f"freeze window {self.name!r} ends before it starts")
        return self

    def words(self) -> str:
        return f"'{self.name}' ({self.start.isoformat()} to {self.end.isoformat()})"


class FreezeWindows(Params):
    windows: list[FreezeWindow] = Field(
        default_factory=list,
        description="Freeze periods of this environment; the gate fills them in from the "
        "policy's freeze_windows.",
    )


@control(
    ID,
    params=FreezeWindows,
    summary="no deployment to the environment during one of its freeze windows, unless urgent",
)
def freeze_window(facts: Facts, params: FreezeWindows) -> ControlResult:
    env = facts.environment
    facts_out: dict[str, JsonValue] = {"windows": len(params.windows), "frozen": False}
    if not params.windows:
        return ControlResult(
            ID,
            ControlStatus.NOT_APPLICABLE,
            f"no freeze window is declared for {env}",
            (),
            facts_out,
        )
    if facts.now.tzinfo is None:
        return ControlResult(
            ID,
            ControlStatus.FAIL,
            "cannot evaluate: the gate's clock gives no time zone",
            (),
            facts_out,
        )
    inside = [w for w in params.windows if w.start <= facts.now < w.end]
    facts_out["frozen"] = bool(inside)
    now = facts.now.isoformat()
    if not inside:
        return ControlResult(
            ID,
            ControlStatus.PASS,
            f"{env} is not frozen at {now} ({counted(len(params.windows), 'freeze window')} "
            "declared)",
            (),
            facts_out,
        )
    windows = listing([w.words() for w in inside])
    if facts.urgent:
        why = facts.urgent_reason or "no reason given"
        return ControlResult(
            ID,
            ControlStatus.PASS,
            f"{env} is frozen at {now} for {windows}, but the change is urgent: {why}",
            (),
            {**facts_out, "urgent": True},
        )
    return ControlResult(
        ID,
        ControlStatus.FAIL,
        f"{env} is frozen at {now} for {windows}; only an urgent change may deploy now",
        (),
        facts_out,
    )
