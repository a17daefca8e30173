"""A policy says what it means: roles that exist, whole numbers written as such, quorums that
ask for someone. Each of these was accepted before and quietly meant something else."""

from __future__ import annotations

import pytest

from changeproof.policy.errors import PolicyError, PolicyProblem
from changeproof.policy.loader import load_policy
from changeproof.policy.model import ROLE_NAMES

BASE = """\
version: 1
tickets: jira:PAY
environments:
  production:
    deployer_role: production-pusher
    controls:
      - ticket-reference
      - independent-review: {min_approvals: 1}
      - deployer-role
      - change-approval:
          normal: {quorum: 1, role: approver}
          urgent: {quorum: 1, role: emergency-approver}
"""


def problems(text: str) -> list[PolicyProblem]:
    with pytest.raises(PolicyError) as caught:
        load_policy(text.encode(), "changeproof.yaml")
    return list(caught.value.problems)


def test_the_base_policy_loads() -> None:
    loaded = load_policy(BASE.encode(), "changeproof.yaml")
    assert loaded.policy.environments["production"].deployer_role == "production-pusher"


def test_an_unknown_deployer_role_fails_naming_the_known_roles() -> None:
    found = problems(BASE.replace("deployer_role: production-pusher", "deployer_role: prod-pusher"))
    assert [p.key for p in found] == ["environments.production.deployer_role"]
    assert found[0].line == 5
    for role in ROLE_NAMES:
        assert role in found[0].problem


def test_an_unknown_role_in_a_control_parameter_fails() -> None:
    text = BASE.replace("- deployer-role\n", "- deployer-role: {role: pusher}\n")
    found = problems(text)
    assert len(found) == 1
    assert str(found[0].key).endswith("deployer-role.role")
    assert "production-pusher" in found[0].problem
    text = BASE.replace("role: approver}", "role: cab}")
    (found_approval,) = problems(text)
    assert str(found_approval.key).endswith("normal.role")
    assert "'approver'" in found_approval.problem


@pytest.mark.parametrize("loose", ["true", '"2"', "2.0", "'1'"])
def test_a_whole_number_must_be_written_as_one(loose: str) -> None:
    (found,) = problems(BASE.replace("{min_approvals: 1}", f"{{min_approvals: {loose}}}"))
    assert str(found.key).endswith("independent-review.min_approvals")
    assert "whole number" in found.problem


def test_an_urgent_quorum_of_zero_is_refused() -> None:
    (found,) = problems(BASE.replace("urgent: {quorum: 1", "urgent: {quorum: 0"))
    assert str(found.key).endswith("urgent.quorum")
    assert "greater than or equal to 1" in found.problem


def test_a_normal_quorum_of_zero_is_refused_too() -> None:
    (found,) = problems(BASE.replace("normal: {quorum: 1", "normal: {quorum: 0"))
    assert str(found.key).endswith("normal.quorum")
