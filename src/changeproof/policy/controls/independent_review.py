"""independent-review: someone other than its writers approved every commit.

Rule: every non-merge commit is covered by at least `min_approvals` reviewers whose
standing approval (see `reviews`: a later request for changes or dismissal cancels it) is
of a SHA at or after it in the release, and who are neither its author, its committer nor
a co-author. Reviewers and writers are
resolved through the directory; when a reviewer cannot be told apart from a writer (both
unknown, or known by aliases of different kinds) the approval does not count and the
reason says so. A review whose reviewer is the change's own author never counts.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Final

from pydantic import Field

from changeproof.domain.decisions import ControlResult, ControlStatus, EvidenceRef
from changeproof.domain.releases import Commit
from changeproof.policy.controls.people import People, Sameness, Who, Writer
from changeproof.policy.controls.reviews import (
    Latest,
    latest_reviews,
    review_refs,
    why_not,
    writers_of,
)
from changeproof.policy.controls.wording import (
    capped,
    commit_label,
    counted,
    each,
    listing,
)
from changeproof.policy.facts import Facts
from changeproof.policy.registry import Params, control

__all__ = ["ID", "IndependentReview", "independent_review"]

ID: Final = "independent-review"
_DIFFERENT: Final = frozenset({Sameness.DIFFERENT})


class IndependentReview(Params):
    min_approvals: int = Field(
        default=1, ge=1, le=20, description="Independent approving reviewers each commit needs."
    )


@dataclass(frozen=True, slots=True)
class _Verdict:
    approvers: tuple[Latest, ...]  # covering approvals by people told apart from every writer
    self_approved: bool  # a covering approval is by one of the writers
    unresolved: bool  # else, one is by someone who cannot be told apart from a writer


def _emails(commit: Commit) -> tuple[str, ...]:
    if not commit.co_authors:
        return (commit.author.email, commit.committer.email)
    return (commit.author.email, commit.committer.email, *(c.email for c in commit.co_authors))


def _coverage(latest: tuple[Latest, ...]) -> tuple[list[int], list[tuple[Latest, ...]]]:
    """The approvals covering each commit, by step: those covering the commit at `position`
    are `covering[bisect_left(steps, position)]`, in `latest`'s order. A release has few
    approvals that count, so few steps, and the commits between two steps share one."""
    steps = sorted({r.position for r in latest if r.approved and r.position is not None})
    covering = [tuple(r for r in latest if r.covers(step)) for step in steps]
    covering.append(())
    return steps, covering


def _verdict(
    covering: tuple[Latest, ...], writers: tuple[tuple[Writer, Who], ...], people: People
) -> _Verdict:
    sameness = [{people.same(r.who, who) for _, who in writers} for r in covering]
    return _Verdict(
        tuple(r for r, same in zip(covering, sameness, strict=True) if same <= _DIFFERENT),
        any(Sameness.SAME in same for same in sameness),
        any(Sameness.SAME not in same and Sameness.UNKNOWN in same for same in sameness),
    )


@control(
    ID,
    params=IndependentReview,
    summary=(
        "every non-merge commit is approved, at its SHA or a later one, by enough reviewers "
        "who are neither its author, committer nor co-author"
    ),
)
def independent_review(facts: Facts, params: IndependentReview) -> ControlResult:
    """Every non-merge commit approved by `min_approvals` people who did not write it."""
    checked = [(i, c) for i, c in enumerate(facts.commits) if not c.merge]
    merges = len(facts.commits) - len(checked)
    people = People(facts.directory)
    latest = latest_reviews(facts, people)
    used = review_refs(facts)
    if not checked:
        return ControlResult(
            ID,
            ControlStatus.NOT_APPLICABLE,
            "the release has no commits to review"
            if not facts.commits
            else f"the release has only merge commits ({merges})",
            tuple(used),
            {"commits": 0, "merges": merges},
        )
    offenders: list[tuple[Commit, list[str]]] = []
    counted_by: dict[tuple[str, ...], str] = {}
    self_approved = unresolved = 0  # commits some covering approver wrote, or may have
    # Commits with the same writers and the same covering approvals get the same verdict.
    verdicts: dict[tuple[tuple[str, ...], int], _Verdict] = {}
    steps, coverings = _coverage(latest)
    for position, commit in checked:
        step = bisect_left(steps, position)
        key = (_emails(commit), step)
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = _verdict(coverings[step], writers_of(commit, people), people)
            verdicts[key] = verdict
            if len(verdict.approvers) >= params.min_approvals:
                counted_by.update((r.who.key, r.who.label) for r in verdict.approvers)
        self_approved += verdict.self_approved
        unresolved += verdict.unresolved
        if len(verdict.approvers) >= params.min_approvals:
            continue
        writers = writers_of(commit, people)
        why = [
            w for r in latest if r not in verdict.approvers and (w := why_not(r, position, writers))
        ]
        if verdict.approvers:
            names = listing([r.who.label for r in verdict.approvers])
            why.insert(0, f"only {names} approved it independently")
        offenders.append((commit, why))
    facts_out = {
        "commits": len(checked),
        "merges": merges,
        "uncovered": len(offenders),
        "approvers": len(counted_by),
        "self_approvals": self_approved,
        "unresolved": unresolved,
        "min_approvals": params.min_approvals,
    }
    needed = counted(params.min_approvals, "independent approval")
    skipped = f" ({counted(merges, 'merge commit')} not checked)" if merges else ""
    if not offenders:
        by = listing(sorted(counted_by.values()))
        return ControlResult(
            ID,
            ControlStatus.PASS,
            f"{each(len(checked), 'commit')}{skipped} has {needed}, by {by}",
            capped(used),
            facts_out,
        )
    if not latest:
        reason = (
            f"no approving review is recorded for this release, so none of its "
            f"{counted(len(checked), 'commit')} has {needed}"
        )
    else:
        described = [
            f"{commit_label(c)} ({'; '.join(why) or 'no review covers it'})" for c, why in offenders
        ]
        verb = "lacks" if len(offenders) == 1 else "lack"
        reason = (
            f"{len(offenders)} of {counted(len(checked), 'commit')}{skipped} {verb} "
            f"{needed}: {listing(described, '; ', '; ')}"
        )
    return ControlResult(
        ID,
        ControlStatus.FAIL,
        reason,
        capped(
            used,
            (EvidenceRef("commit", c.sha, "not independently approved") for c, _ in offenders),
        ),
        facts_out,
    )
