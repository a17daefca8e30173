"""freeze-window: no deployment during a freeze, unless urgent."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from changeproof.domain.decisions import ControlStatus
from changeproof.policy.controls.freeze import FreezeWindows, freeze_window
from tests.unit.policy.controls.factsbuilder import NOW, commit, facts

C1 = commit("c1")
YEAR_END = FreezeWindows.model_validate(
    {
        "windows": [
            {"name": "year end", "start": "2026-11-20T00:00:00Z", "end": "2026-12-01T00:00:00Z"}
        ]
    }
)
WINDOW = "'year end' (2026-11-20T00:00:00+00:00 to 2026-12-01T00:00:00+00:00)"


def test_a_deploy_inside_a_freeze_fails() -> None:
    result = freeze_window(facts([C1]), YEAR_END)
    assert result.status is ControlStatus.FAIL
    assert result.reason == (
        f"production is frozen at 2026-11-25T12:00:00+00:00 for {WINDOW}; "
        "only an urgent change may deploy now"
    )
    assert result.facts == {"windows": 1, "frozen": True}


def test_an_urgent_deploy_inside_a_freeze_passes_and_says_so() -> None:
    urgent = facts([C1], urgent=True, urgent_reason="INC-7: refunds double-charge")
    result = freeze_window(urgent, YEAR_END)
    assert result.status is ControlStatus.PASS
    assert result.reason == (
        f"production is frozen at 2026-11-25T12:00:00+00:00 for {WINDOW}, but the change is "
        "urgent: INC-7: refunds double-charge"
    )
    assert result.facts["urgent"] is True


def test_outside_every_window_passes() -> None:
    later = facts([C1], now=datetime.fromisoformat("2026-12-01T00:00:00+00:00"))
    result = freeze_window(later, YEAR_END)
    assert result.status is ControlStatus.PASS
    assert (
        result.reason
        == "production is not frozen at 2026-12-01T00:00:00+00:00 (1 freeze window declared)"
    )


def test_no_windows_is_not_applicable() -> None:
    result = freeze_window(facts([C1]), FreezeWindows())
    assert result.status is ControlStatus.NOT_APPLICABLE
    assert result.reason == "no freeze window is declared for production"


def test_a_clock_without_a_time_zone_fails_closed() -> None:
    result = freeze_window(facts([C1], now=NOW.replace(tzinfo=None)), YEAR_END)
    assert result.status is ControlStatus.FAIL


@pytest.mark.parametrize(
    "window",
    [
        {"name": "x", "start": "2026-12-01T00:00:00", "end": "2026-12-02T00:00:00Z"},
        {"name": "x", "start": "2026-12-02T00:00:00Z", "end": "2026-12-01T00:00:00Z"},
    ],
)
def test_windows_need_a_time_zone_and_an_order(window: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        FreezeWindows.model_validate({"windows": [window]})
