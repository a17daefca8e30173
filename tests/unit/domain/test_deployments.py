"""A deployment entry reads back as it was written, in each shape the ledger has held."""

from __future__ import annotations

from changeproof.domain.deployments import DeploymentRecorded

BEFORE_GOVERNANCE = {
    "release": "payments/1.0",
    "environment": "production",
    "artifact": "a" * 64,
    "status": "succeeded",
    "pipeline_run": None,
    "authorized": False,
    "reason": "no gate decision allows it",
    "decision": None,
    "change": None,
    "urgent": False,
}
UNAUTHORIZED = {**BEFORE_GOVERNANCE, "policy_digest": None, "policy_active": None}
AUTHORIZED = {
    **BEFORE_GOVERNANCE,
    "authorized": True,
    "decision": 7,
    "policy_digest": "b" * 64,
    "policy_active": True,
}


def test_each_shape_round_trips_and_says_the_policy_it_was_allowed_under() -> None:
    for data, under in (
        (BEFORE_GOVERNANCE, (None, None)),
        (UNAUTHORIZED, (None, None)),
        (AUTHORIZED, ("b" * 64, True)),
    ):
        recorded = DeploymentRecorded.from_data(data)
        assert recorded.to_data() == data
        assert recorded.under_policy == under
