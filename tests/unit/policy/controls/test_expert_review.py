"""expert-review: a member of the expert group approved each changed high-risk path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from changeproof.domain.decisions import ControlResult, ControlStatus
from changeproof.domain.evidence import ReviewState
from changeproof.domain.releases import Commit, PathChange
from changeproof.policy.controls.expert_review import expert_review
from changeproof.policy.facts import EvidenceFact
from changeproof.policy.registry import NoParams
from tests.unit.policy.controls.factsbuilder import commit, facts, review, sha

MIGRATION = "db/migrations/0042_refunds.sql"
AREAS = {"db/migrations/**": ("dba",), "payments/**": ("payments-owners",)}
APP = commit("c1", "Add the refund endpoint")
MIGRATE = commit("c2", "Add the refunds table", paths=[MIGRATION])


def check(
    commits: list[Commit],
    evidence: Sequence[EvidenceFact],
    areas: Mapping[str, tuple[str, ...]] | None = None,
) -> ControlResult:
    return expert_review(
        facts(commits, evidence, high_risk_groups=AREAS if areas is None else areas), NoParams()
    )


def test_a_migration_changed_without_the_dbas_review_fails_naming_path_and_group() -> None:
    result = check([APP, MIGRATE], [review("bob", "c2")])
    assert result.status is ControlStatus.FAIL
    assert result.reason == (
        f"{MIGRATION} changed (high-risk: db/migrations/**) without an approval by a member "
        f'of dba of {sha("c2")[:7]} "Add the refunds table" or later '
        "(bob approved it but is not in dba)"
    )
    assert result.facts == {"high_risk_paths": 1, "areas": 1, "unapproved": 1}
    assert ("path", MIGRATION) in [(e.kind, e.ref) for e in result.evidence]


def test_a_migration_approved_by_a_dba_passes() -> None:
    result = check([APP, MIGRATE], [review("bob", "c2"), review("carol-dba", "c2")])
    assert result.status is ControlStatus.PASS
    assert result.reason == f"{MIGRATION} (dba) approved by carol"


def test_no_member_of_the_group_reviewing_is_said_so() -> None:
    result = check([MIGRATE], [])
    assert result.status is ControlStatus.FAIL
    assert result.reason.endswith("(no member of dba approved it)")


def test_a_dba_approval_of_an_earlier_commit_does_not_cover_a_later_migration_change() -> None:
    again = commit("c3", "Fix the refunds table", paths=[MIGRATION])
    result = check([MIGRATE, APP, again], [review("carol-dba", "c1")])
    assert result.status is ControlStatus.FAIL
    assert f"(carol approved {sha('c1')[:7]}, an earlier commit)" in result.reason
    assert f'{sha("c3")[:7]} "Fix the refunds table" or later' in result.reason


def test_an_approval_covering_every_commit_touching_the_path_is_enough() -> None:
    result = check([MIGRATE, APP], [review("carol-dba", "c2")])
    assert result.status is ControlStatus.PASS


def test_a_dba_who_wrote_the_migration_cannot_be_its_expert() -> None:
    own = commit("c2", "Add the refunds table", author="carol@example.com", paths=[MIGRATION])
    result = check([own], [review("carol-dba", "c2")])
    assert result.status is ControlStatus.FAIL
    assert "(carol approved it but is its author)" in result.reason
    assert check([own], [review("erin", "c2")]).status is ControlStatus.PASS


def test_a_dba_who_then_requested_changes_does_not_count() -> None:
    evidence = [review("carol-dba", "c2"), review("carol-dba", "c2", ReviewState.CHANGES_REQUESTED)]
    result = check([MIGRATE], evidence)
    assert result.status is ControlStatus.FAIL
    assert "carol requested changes" in result.reason


def test_an_unknown_reviewer_is_not_known_to_be_an_expert() -> None:
    result = check([MIGRATE], [review("mallory", "c2")])
    assert "(mallory approved it but maps to no actor, so is not known to be in dba)" in (
        result.reason
    )


def test_a_file_renamed_out_of_a_high_risk_area_still_counts() -> None:
    moved = commit("c2", "Move a migration")
    moved = Commit(
        moved.sha,
        moved.parents,
        moved.author,
        moved.committer,
        (),
        moved.subject,
        moved.message,
        (PathChange("archive/0001.sql", 0, 0, old_path="db/migrations/0001.sql"),),
        moved.tickets,
    )
    result = check([moved], [])
    assert result.status is ControlStatus.FAIL
    assert result.reason.startswith("db/migrations/0001.sql changed (high-risk: db/migrations/**)")


def test_every_group_of_an_area_must_approve() -> None:
    areas = {"payments/**": ("payments-owners", "dba")}
    change = commit("c1", "Charge less", paths=["payments/fees.py", "payments/tax.py"])
    result = check([change], [review("carol-dba", "c1")], areas)
    assert result.status is ControlStatus.FAIL
    assert result.reason.startswith(
        "payments/fees.py and 1 other path changed (high-risk: payments/**) without an "
        "approval by a member of payments-owners"
    )
    assert result.facts == {"high_risk_paths": 2, "areas": 2, "unapproved": 1}


def test_nothing_high_risk_changed_is_not_applicable() -> None:
    result = check([APP], [])
    assert result.status is ControlStatus.NOT_APPLICABLE
    assert result.reason == "no changed path is high-risk (db/migrations/** and payments/**)"
    none = check([APP], [], {})
    assert none.status is ControlStatus.NOT_APPLICABLE
    assert none.reason == "the policy declares no high-risk paths"


def test_a_glob_that_can_never_match_fails_closed() -> None:
    result = check([MIGRATE], [], {"/db/migrations/**": ("dba",)})
    assert result.status is ControlStatus.FAIL
    assert result.reason.startswith("cannot evaluate: high-risk path '/db/migrations/**': ")
