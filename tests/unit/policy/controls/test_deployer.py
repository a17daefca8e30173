"""deployer-role and deployer-not-author."""

from __future__ import annotations

from changeproof.domain.decisions import ControlStatus
from changeproof.policy.controls.deployer import DeployerRole, deployer_not_author, deployer_role
from changeproof.policy.registry import REGISTRY, NoParams
from tests.unit.policy.controls.factsbuilder import commit, facts, sha

PUSHER = DeployerRole(role="production-pusher")
C1 = commit("c1", "Add the refund endpoint")
C2 = commit("c2", "Fix rounding", author="bob@example.com", co_authors=["dave@example.com"])


def test_a_deployer_with_the_role_passes() -> None:
    result = deployer_role(facts([C1], deployer="dave"), PUSHER)
    assert result.status is ControlStatus.PASS
    assert result.reason == "deployer dave holds the role production-pusher"


def test_a_deployer_without_the_role_fails() -> None:
    result = deployer_role(facts([C1], deployer="alice"), PUSHER)
    assert result.status is ControlStatus.FAIL
    assert result.reason == (
        "deployer alice does not hold the role production-pusher (holds: developer)"
    )


def test_an_unknown_or_missing_deployer_fails() -> None:
    unknown = deployer_role(facts([C1], deployer="mallory@evil.example"), PUSHER)
    assert unknown.status is ControlStatus.FAIL
    assert unknown.reason == (
        "deployer mallory@evil.example is not a known actor, so cannot hold the role "
        "production-pusher"
    )
    missing = deployer_role(facts([C1]), PUSHER)
    assert missing.reason == "no deployer was named (give --deployer)"


def test_a_deployer_named_by_email_or_login_is_resolved() -> None:
    assert deployer_role(facts([C1], deployer="dave@example.com"), PUSHER).status is (
        ControlStatus.PASS
    )
    assert deployer_role(facts([C1], deployer="dave"), PUSHER).status is ControlStatus.PASS


def test_a_deployer_who_authored_a_commit_fails_naming_it() -> None:
    result = deployer_not_author(facts([C1, C2], deployer="alice"), NoParams())
    assert result.status is ControlStatus.FAIL
    assert result.reason == (
        f"deployer alice wrote 1 commit of this release: {sha('c1')[:7]} "
        '"Add the refund endpoint" (author)'
    )
    assert result.facts == {"commits": 2, "authored": 1, "unresolved": 0}


def test_a_deployer_who_co_authored_a_commit_fails() -> None:
    result = deployer_not_author(facts([C1, C2], deployer="dave"), NoParams())
    assert result.status is ControlStatus.FAIL
    assert f'{sha("c2")[:7]} "Fix rounding" (co-author)' in result.reason


def test_a_deployer_who_wrote_nothing_passes() -> None:
    result = deployer_not_author(facts([C1], deployer="dave"), NoParams())
    assert result.status is ControlStatus.PASS
    assert result.reason == "deployer dave did not write the release's only commit"


def test_a_deployer_who_cannot_be_told_apart_from_a_writer_fails_closed() -> None:
    stranger = commit("c3", "Tweak", author="zed@elsewhere.org")
    result = deployer_not_author(facts([stranger], deployer="ci-bot"), NoParams())
    assert result.status is ControlStatus.FAIL
    assert result.reason.startswith(
        f"deployer ci-bot cannot be told apart from the writer of 1 commit: {sha('c3')[:7]} "
        '"Tweak" (its author zed@elsewhere.org: neither maps to a known actor'
    )
    assert deployer_not_author(facts([C1]), NoParams()).status is ControlStatus.FAIL


def test_both_are_safety_controls() -> None:
    assert REGISTRY["deployer-role"].safety
    assert REGISTRY["deployer-not-author"].safety
