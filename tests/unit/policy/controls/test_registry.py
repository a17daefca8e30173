"""Importing the package registers every built-in control, with strict parameters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import changeproof.policy.controls  # noqa: F401 - registers the controls
from changeproof.policy.registry import REGISTRY

BUILT_IN = {
    "ticket-reference",
    "independent-review",
    "expert-review",
    "tests-passed",
    "scan-clean",
    "sbom-present",
    "license-allowed",
    "artifact-integrity",
    "deployer-role",
    "deployer-not-author",
    "freeze-window",
}


def test_every_built_in_control_is_registered() -> None:
    assert set(REGISTRY) >= BUILT_IN
    assert {c for c in BUILT_IN if REGISTRY[c].safety} == {"deployer-role", "deployer-not-author"}
    assert all(REGISTRY[c].summary for c in BUILT_IN)


@pytest.mark.parametrize("control_id", sorted(BUILT_IN))
def test_unknown_parameters_are_refused(control_id: str) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        REGISTRY[control_id].params.model_validate({"min_aprovals": 2})
