"""promoted-from: the same artifact went through the earlier environments first."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from changeproof.domain.decisions import ControlResult, ControlStatus
from changeproof.domain.deployments import DeploymentFact
from changeproof.policy.controls.promotion import PromotedFrom, promoted_from
from changeproof.policy.facts import ArtifactFact
from tests.unit.policy.controls.factsbuilder import NOW, commit, facts

DIGEST = "ab" * 32
OTHER = "cd" * 32
STAGING = PromotedFrom(environments=("staging",))
GOOD = DeploymentFact(
    id="DEP-7",
    environment="staging",
    release="payments/1.2.0",
    artifact=DIGEST,
    authorized=True,
    status="succeeded",
    succeeded_at=NOW - timedelta(hours=30),
    checks={"smoke-test": "pass"},
)


def decide(
    *deployments: DeploymentFact, params: PromotedFrom = STAGING, artifact: str = DIGEST
) -> ControlResult:
    known = dataclasses.replace(facts([commit("c1")], artifact=artifact), deployments=deployments)
    return promoted_from(known, params)


def test_the_same_artifact_checked_in_staging_passes() -> None:
    result = decide(GOOD)
    assert result.status is ControlStatus.PASS
    assert "succeeded in staging and passed its checks" in result.reason
    assert [(r.kind, r.ref) for r in result.evidence] == [("deployment", "DEP-7")]
    assert result.facts["promoted"] is True


def test_an_artifact_never_deployed_there_fails_naming_the_environment() -> None:
    result = decide(dataclasses.replace(GOOD, artifact=OTHER))
    assert result.status is ControlStatus.FAIL
    assert result.reason == f"artifact {DIGEST[:12]}… was never deployed to staging"


def test_each_way_of_not_getting_through_is_named() -> None:
    cases = {
        "was not authorized": dataclasses.replace(GOOD, authorized=False),
        "is rolled-back, not succeeded": dataclasses.replace(GOOD, status="rolled-back"),
        "has no passing post-deployment check": dataclasses.replace(GOOD, checks={}),
        "failed its check smoke-test": dataclasses.replace(GOOD, checks={"smoke-test": "fail"}),
    }
    for words, deployment in cases.items():
        result = decide(deployment)
        assert result.status is ControlStatus.FAIL, words
        assert f"DEP-7 to staging {words}" in result.reason


def test_a_soak_time_must_have_passed() -> None:
    soaking = PromotedFrom(environments=("staging",), soak_hours=48)
    result = decide(GOOD, params=soaking)
    assert result.status is ControlStatus.FAIL
    assert "has run for 30.0 hours, less than the 48 hours it must soak" in result.reason
    assert decide(GOOD, params=PromotedFrom(environments=("staging",), soak_hours=24)).status is (
        ControlStatus.PASS
    )


def test_checks_may_be_waived_by_the_policy() -> None:
    unchecked = dataclasses.replace(GOOD, checks={})
    lenient = PromotedFrom(environments=("staging",), require_checks=False)
    assert decide(unchecked, params=lenient).status is ControlStatus.PASS


def test_a_later_good_deployment_counts_after_a_bad_one() -> None:
    bad = dataclasses.replace(GOOD, id="DEP-3", status="failed")
    assert decide(bad, GOOD).status is ControlStatus.PASS


def test_every_environment_on_the_path_is_needed() -> None:
    both = PromotedFrom(environments=("qa", "staging"))
    result = decide(GOOD, params=both)
    assert result.status is ControlStatus.FAIL
    assert "never deployed to qa" in result.reason


def test_without_an_artifact_the_release_artifacts_are_traced_and_none_fails_closed() -> None:
    bare = dataclasses.replace(facts([commit("c1")]), deployments=(GOOD,))
    result = promoted_from(bare, STAGING)
    assert result.status is ControlStatus.FAIL
    assert "no artifact to trace through staging" in result.reason
    recorded = dataclasses.replace(
        facts([commit("c1")], artifacts=[ArtifactFact(1, "payments.tar.gz", DIGEST)]),
        deployments=(GOOD,),
    )
    assert promoted_from(recorded, STAGING).status is ControlStatus.PASS
