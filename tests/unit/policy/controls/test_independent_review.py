"""independent-review: each commit approved by someone who did not write it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from changeproof.domain.actors import Actor
from changeproof.domain.decisions import ControlResult, ControlStatus
from changeproof.domain.evidence import ReviewState
from changeproof.domain.releases import Commit
from changeproof.policy.controls.independent_review import IndependentReview, independent_review
from changeproof.policy.facts import EvidenceFact
from tests.unit.policy.controls.factsbuilder import PEOPLE, commit, facts, review, sha

C1 = commit("c1", "Add the refund endpoint")
C2 = commit("c2", "Validate refund amounts")


def check(
    commits: list[Commit],
    evidence: Sequence[EvidenceFact],
    min_approvals: int = 1,
    actors: Iterable[Actor] = PEOPLE,
) -> ControlResult:
    return independent_review(
        facts(commits, evidence, actors=actors), IndependentReview(min_approvals=min_approvals)
    )


def label(name: str, subject: str) -> str:
    return f'{sha(name)[:7]} "{subject}"'


def test_an_approval_of_the_last_commit_by_another_person_covers_every_commit() -> None:
    result = check([C1, C2], [review("bob", "c2")])
    assert result.status is ControlStatus.PASS
    assert result.reason == "each of the 2 commits has 1 independent approval, by bob"
    assert result.facts["uncovered"] == 0
    assert result.facts["approvers"] == 1
    assert [(e.kind, e.ref) for e in result.evidence] == [("review", "10")]


def test_a_self_approved_change_fails_naming_the_commit_and_reviewer() -> None:
    result = check([C1], [review("alice", "c1")])
    assert result.status is ControlStatus.FAIL
    assert result.reason == (
        f"1 of 1 commit lacks 1 independent approval: "
        f"{label('c1', 'Add the refund endpoint')} (alice approved it but is its author)"
    )
    assert result.facts["self_approvals"] == 1
    assert ("commit", C1.sha) in [(e.kind, e.ref) for e in result.evidence]


def test_a_review_of_ones_own_change_never_counts() -> None:
    result = check(
        [commit("c1", author="erin@example.com")], [review("alice", "c1", author="alice")]
    )
    assert result.status is ControlStatus.FAIL
    assert "alice approved their own change" in result.reason


def test_approval_by_a_co_author_fails() -> None:
    paired = commit("c1", "Pair on refunds", co_authors=["bob@example.com"])
    result = check([paired], [review("bob", "c1")])
    assert result.status is ControlStatus.FAIL
    assert f"{label('c1', 'Pair on refunds')} (bob approved it but is a co-author)" in result.reason


def test_approval_by_the_committer_fails() -> None:
    applied = commit("c1", "Apply patch", committer="bob@example.com")
    result = check([applied], [review("bob", "c1")])
    assert result.status is ControlStatus.FAIL
    assert "(bob approved it but is its committer)" in result.reason


def test_a_review_of_an_older_sha_followed_by_a_new_commit_leaves_the_new_one_uncovered() -> None:
    result = check([C1, C2], [review("bob", "c1")])
    assert result.status is ControlStatus.FAIL
    assert result.reason == (
        f"1 of 2 commits lacks 1 independent approval: "
        f"{label('c2', 'Validate refund amounts')} "
        f"(bob approved {sha('c1')[:7]}, an earlier commit)"
    )
    assert result.facts["uncovered"] == 1


def test_changes_requested_after_an_approval_cancels_it() -> None:
    result = check([C1], [review("bob", "c1"), review("bob", "c1", ReviewState.CHANGES_REQUESTED)])
    assert result.status is ControlStatus.FAIL
    assert f"bob requested changes (review evidence 11, of {sha('c1')[:7]})" in result.reason


def test_a_dismissed_approval_does_not_count() -> None:
    result = check([C1], [review("bob", "c1"), review("bob", "c1", ReviewState.DISMISSED)])
    assert result.status is ControlStatus.FAIL
    assert f"bob's review of {sha('c1')[:7]} was dismissed" in result.reason


def test_a_later_approval_after_changes_requested_counts_again() -> None:
    evidence = [review("bob", "c1", ReviewState.CHANGES_REQUESTED), review("bob", "c2")]
    assert check([C1, C2], evidence).status is ControlStatus.PASS


def test_a_comment_after_an_approval_changes_nothing() -> None:
    evidence = [review("bob", "c2"), review("bob", "c2", ReviewState.COMMENTED)]
    assert check([C1, C2], evidence).status is ControlStatus.PASS


def test_the_latest_review_is_per_person_across_platforms() -> None:
    # bob is "bob" on GitHub and "bobby" on GitLab: one person, whose latest word counts.
    evidence = [
        review("bob", "c1"),
        review("bobby", "c1", ReviewState.CHANGES_REQUESTED, platform="gitlab"),
    ]
    result = check([C1], evidence)
    assert result.status is ControlStatus.FAIL
    assert "bob requested changes" in result.reason


def test_an_unmapped_reviewer_and_an_unmapped_author_cannot_be_told_apart() -> None:
    stranger = commit("c1", "Tweak fees", author="zed@elsewhere.org")
    result = check([stranger], [review("mallory", "c1")])
    assert result.status is ControlStatus.FAIL
    assert (
        f"{label('c1', 'Tweak fees')} (mallory approved it but cannot be told apart from its "
        "author zed@elsewhere.org: neither maps to a known actor (mallory, zed@elsewhere.org); "
        "register them (`changeproof actor add NAME --email …`, or "
        "`changeproof actor alias add NAME --email …` for a known one))"
    ) in result.reason
    assert result.facts["unresolved"] == 1


def test_a_known_reviewer_without_an_alias_of_the_authors_kind_cannot_be_told_apart() -> None:
    stranger = commit("c1", author="zed@elsewhere.org")
    loginonly = Actor("gina", github="gina")
    result = check([stranger], [review("gina", "c1")], actors=[loginonly])
    assert result.status is ControlStatus.FAIL
    assert (
        "zed@elsewhere.org maps to no actor and gina has no email alias to compare" in result.reason
    )


def test_unmapped_identities_of_the_same_kind_are_compared_raw() -> None:
    stranger = commit("c1", author="Zed@Elsewhere.org")
    other = check([stranger], [review("yan@elsewhere.org", "c1", platform="generic")])
    assert other.status is ControlStatus.PASS
    same = check([stranger], [review("zed@elsewhere.ORG", "c1", platform="generic")])
    assert same.status is ControlStatus.FAIL
    assert "zed@elsewhere.ORG approved it but is its author" in same.reason


def test_a_known_reviewer_and_an_unmapped_author_email_are_told_apart() -> None:
    stranger = commit("c1", author="zed@elsewhere.org")
    assert check([stranger], [review("bob", "c1")]).status is ControlStatus.PASS


def test_min_approvals_counts_distinct_independent_reviewers() -> None:
    evidence = [review("bob", "c2"), review("bob", "c2")]
    result = check([C1, C2], evidence, min_approvals=2)
    assert result.status is ControlStatus.FAIL
    assert "2 of 2 commits lack 2 independent approvals" in result.reason
    assert "(only bob approved it independently)" in result.reason
    partly = check([C1, C2], [review("bob", "c2"), review("carol-dba", "c1")], 2)
    assert partly.status is ControlStatus.FAIL  # carol's approval covers c1 only
    assert partly.reason.startswith("1 of 2 commits lacks 2 independent approvals: ")
    assert f"carol approved {sha('c1')[:7]}, an earlier commit" in partly.reason
    both = check([C1, C2], [review("bob", "c2"), review("dave", "c2")], 2)
    assert both.status is ControlStatus.PASS
    assert both.reason == "each of the 2 commits has 2 independent approvals, by bob and dave"


def test_a_review_of_a_sha_outside_the_release_covers_nothing() -> None:
    result = check([C1], [review("bob", "elsewhere")])
    assert result.status is ControlStatus.FAIL
    assert f"bob approved {sha('elsewhere')[:7]}, which is not in this release" in result.reason


def test_no_review_at_all_fails_closed() -> None:
    result = check([C1, C2], [])
    assert result.status is ControlStatus.FAIL
    assert result.reason == (
        "no approving review is recorded for this release, so none of its 2 commits has "
        "1 independent approval"
    )


def test_merge_commits_are_not_checked() -> None:
    merge = commit("m", "Merge branch 'refunds'", merge=True)
    result = check([C1, merge], [review("bob", "c1")])
    assert result.status is ControlStatus.PASS
    assert (
        result.reason
        == "the commit (1 merge commit not checked) has 1 independent approval, by bob"
    )
    only = check([merge], [])
    assert only.status is ControlStatus.NOT_APPLICABLE
    assert only.reason == "the release has only merge commits (1)"


def test_an_empty_release_is_not_applicable() -> None:
    result = check([], [])
    assert result.status is ControlStatus.NOT_APPLICABLE
    assert result.reason == "the release has no commits to review"


def test_each_offender_is_named_up_to_ten_then_counted() -> None:
    commits = [commit(f"c{i}", f"Step {i}") for i in range(12)]
    result = check(commits, [review("alice", "c11")])
    assert result.reason.startswith("12 of 12 commits lack 1 independent approval: ")
    assert result.reason.endswith("; and 2 more")


def test_approvals_recorded_out_of_order_keep_the_widest_coverage() -> None:
    assert check([C1, C2], [review("bob", "c2"), review("bob", "c1")]).status is (
        ControlStatus.PASS
    )


def test_an_own_change_approval_does_not_hide_a_real_one() -> None:
    evidence = [review("bob", "c2"), review("bob", "c2", author="bob")]
    assert check([C1, C2], evidence).status is ControlStatus.PASS


def test_approvals_after_a_request_for_changes_keep_the_widest_coverage() -> None:
    evidence = [
        review("bob", "c1", ReviewState.CHANGES_REQUESTED),
        review("bob", "c2"),
        review("bob", "c1"),
    ]
    assert check([C1, C2], evidence).status is ControlStatus.PASS


def test_a_review_naming_an_abbreviated_sha_covers_its_commit() -> None:
    approval = review("bob", "c2")
    short_form = dataclasses.replace(
        approval, summary=dataclasses.replace(approval.summary, reviewed_sha=sha("c2")[:12])
    )
    assert check([C1, C2], [short_form]).status is ControlStatus.PASS
