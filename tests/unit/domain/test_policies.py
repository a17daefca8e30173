"""Policy payloads: what the policy events carry, old bodies included, and reading them back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.canonical import JsonValue, canonical_json
from changeproof.domain.decisions import Classification, ControlStatus
from changeproof.domain.errors import InputError
from changeproof.domain.policies import (
    ActivationMode,
    ChangedControl,
    PolicyActivated,
    PolicyGovernanceSet,
    PolicyProposed,
    PolicyRecorded,
    PolicyRejected,
    ProposalSimulation,
    SimulatedVerdict,
    Verdict,
    parse_proposal_id,
    proposal_id,
)
from tests.unit.domain.test_canonical import json_values

_POLICY: dict[str, JsonValue] = {"version": 1, "tickets": "jira", "environments": {}}
_DIGEST = "d" * 64


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_a_policy_travels_as_the_very_json_object_it_was(policy: dict[str, JsonValue]) -> None:
    data: dict[str, JsonValue] = {"digest": _DIGEST, "policy": policy, "source": "p.yaml"}
    recorded = PolicyRecorded.from_data(data)
    assert recorded.policy == policy
    assert canonical_json(recorded.to_data()) == canonical_json(data)


@pytest.mark.parametrize(
    ("policy", "words"),
    [
        ([1], "a JSON object is expected"),
        ({"a": 1.5}, "float is not a JSON value the ledger writes"),
        ({"a": [{"b": 0.5}]}, "float is not a JSON value"),
    ],
)
def test_a_policy_that_is_not_a_json_object_we_write_is_refused(
    policy: JsonValue, words: str
) -> None:
    data = {"digest": _DIGEST, "policy": policy, "source": "p.yaml"}
    with pytest.raises(InputError, match=f"ledger entry 9: PolicyRecorded field 'policy'.*{words}"):
        PolicyRecorded.from_data(data, where="ledger entry 9")


def test_an_activation_from_before_proposals_keeps_its_shape() -> None:
    legacy: dict[str, JsonValue] = {
        "digest": _DIGEST,
        "previous_digest": None,
        "policy": _POLICY,
        "source": "changeproof.yaml",
    }
    activated = PolicyActivated.from_data(legacy)
    assert (activated.proposal, activated.mode) == (None, None)
    assert activated.to_data() == legacy


@pytest.mark.parametrize(
    ("proposal", "mode"),
    [(None, ActivationMode.SETUP), (None, ActivationMode.ONE_PERSON), (7, "two-person")],
)
def test_an_activation_names_its_mode_and_proposal_even_when_there_is_none(
    proposal: int | None, mode: str
) -> None:
    data: dict[str, JsonValue] = {
        "digest": _DIGEST,
        "previous_digest": "e" * 64,
        "policy": _POLICY,
        "source": None,
        "proposal": proposal,
        "mode": str(mode),
    }
    activated = PolicyActivated.from_data(data)
    assert activated.mode is ActivationMode(mode)
    assert activated.to_data() == data


def test_a_proposal_carries_its_simulation_typed() -> None:
    simulation = ProposalSimulation(
        since="2026-01-01T00:00:00.000000Z",
        environment=None,
        examined=3,
        changed_count=1,
        changed=(
            SimulatedVerdict(
                seq=12,
                decided_at="2026-01-02T00:00:00.000000Z",
                release="api@1.0",
                environment="production",
                policy_digest=_DIGEST,
                old=Verdict(allowed=True, classification=Classification.NORMAL),
                new=Verdict(allowed=False, classification=Classification.NORMAL),
                controls=(
                    ChangedControl("tests-passed", ControlStatus.PASS, ControlStatus.FAIL, "none"),
                    ChangedControl("freeze-window", None, ControlStatus.PASS, "no freeze"),
                ),
            ),
        ),
    )
    proposed = PolicyProposed(_DIGEST, None, _POLICY, "p.yaml", simulation)
    data = proposed.to_data()
    attached = data["simulation"]
    assert isinstance(attached, dict)
    assert attached["changed"] == [
        {
            "seq": 12,
            "decided_at": "2026-01-02T00:00:00.000000Z",
            "release": "api@1.0",
            "environment": "production",
            "policy_digest": _DIGEST,
            "old": {"allowed": True, "classification": "normal"},
            "new": {"allowed": False, "classification": "normal"},
            "controls": [
                {"id": "tests-passed", "old": "pass", "new": "fail", "reason": "none"},
                {"id": "freeze-window", "old": None, "new": "pass", "reason": "no freeze"},
            ],
        }
    ]
    assert PolicyProposed.from_data(data) == proposed
    bare = PolicyProposed(_DIGEST, None, _POLICY, "p.yaml", None)
    assert bare.to_data()["simulation"] is None


def test_rejections_and_governance_refuse_loose_values() -> None:
    assert PolicyRejected.from_data({"proposal": 5, "reason": "no"}) == PolicyRejected(5, "no")
    with pytest.raises(InputError, match="PolicyRejected field 'proposal'"):
        PolicyRejected.from_data({"proposal": "5", "reason": "no"})
    governance: dict[str, JsonValue] = {"one_person": False, "approver_role": "admin"}
    assert PolicyGovernanceSet.from_data(governance).to_data() == governance
    with pytest.raises(InputError, match="PolicyGovernanceSet field 'one_person'"):
        PolicyGovernanceSet.from_data({"one_person": 0, "approver_role": "admin"})


def test_proposal_ids() -> None:
    assert proposal_id(57) == "POL-57"
    assert parse_proposal_id(" pol-57 ") == parse_proposal_id("57") == 57
    assert parse_proposal_id("CHG-57") is None
