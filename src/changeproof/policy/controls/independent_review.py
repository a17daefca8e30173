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

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from pydantic import Field

from changeproof.domain.decisions import ControlResult, ControlStatus, EvidenceRef
from changeproof.policy.controls.people import People, Sameness, Who, Writer, people_of
from changeproof.policy.controls.reviews import (
    Latest,
    review_refs,
    standing,
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


class IndependentReview(Params):
    min_approvals: int = Field(
        default=1, ge=1, le=20, description="Independent approving reviewers each commit needs."
    )


@dataclass(frozen=True, slots=True)
class _Verdict:
    approvers: tuple[Latest, ...]  # covering approvals by people told apart from every writer
    self_approved: bool  # a covering approval is by one of the writers
    unresolved: bool  # else, one is by someone who cannot be told apart from a writer


@dataclass(frozen=True, slots=True)
class _Judged:
    """One approver beside the writers of a commit."""

    independent: bool  # told apart from every one of them
    wrote: bool  # the same person as one of them
    unclear: bool  # else, cannot be told apart from one of them


def _judge(approver: Latest, writers: tuple[tuple[Writer, Who], ...], people: People) -> _Judged:
    found = [people.same(approver.who, who) for _, who in writers]
    # The grant chain: a reviewer whom a writer added is the writer's, as if they wrote it.
    wrote = Sameness.SAME in found or people.made_by(approver.who, writers) is not None
    return _Judged(
        not wrote and all(same is Sameness.DIFFERENT for same in found),
        wrote,
        not wrote and Sameness.UNKNOWN in found,
    )


def _coverage(latest: tuple[Latest, ...]) -> tuple[list[int], list[tuple[Latest, ...]]]:
    """The approvals covering each commit, by step, in `latest`'s order: `covering[s]` cover
    the commits after position `steps[s - 1]` up to `steps[s]`, and `covering[-1]` (none) those
    after the last step. A release has few approvals that count, so few steps."""
    steps = sorted({r.position for r in latest if r.approved and r.position is not None})
    covering = [tuple(r for r in latest if r.covers(step)) for step in steps]
    covering.append(())
    return steps, covering


def _verdict(covering: tuple[Latest, ...], judged: Mapping[int, _Judged]) -> _Verdict:
    """`judged`: each approver in `covering` beside the commit's writers, by `id`."""
    verdicts = [judged[id(r)] for r in covering]
    return _Verdict(
        tuple(r for r, j in zip(covering, verdicts, strict=True) if j.independent),
        any(j.wrote for j in verdicts),
        any(j.unclear for j in verdicts),
    )


def _why(
    position: int,
    latest: tuple[Latest, ...],
    verdict: _Verdict,
    writers: tuple[tuple[Writer, Who], ...],
    people: People,
) -> list[str]:
    """Why the commit at `position` lacks enough independent approvals, reviewer by reviewer."""
    why = [
        w
        for r in latest
        if r not in verdict.approvers and (w := why_not(r, position, writers, people))
    ]
    if verdict.approvers:
        names = listing([r.who.label for r in verdict.approvers])
        why.insert(0, f"only {names} approved it independently")
    return why


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
    commits = facts.commits
    people = people_of(facts)
    latest = standing(facts)
    used = review_refs(facts)
    groups = [
        positions
        for at in facts.by_writers.values()
        if (positions := [i for i in at if not commits[i].merge])
    ]
    checked = sum(len(positions) for positions in groups)
    merges = len(commits) - checked
    if not checked:
        return ControlResult(
            ID,
            ControlStatus.NOT_APPLICABLE,
            "the release has no commits to review"
            if not commits
            else f"the release has only merge commits ({merges})",
            tuple(used),
            {"commits": 0, "merges": merges},
        )
    offenders: list[tuple[int, list[str]]] = []
    counted_by: dict[tuple[str, ...], str] = {}
    self_approved = unresolved = 0  # commits some covering approver wrote, or may have
    steps, coverings = _coverage(latest)
    # Commits with the same writers and the same covering approvals get the same verdict:
    # one per set of writers and step, whatever the number of commits.
    for positions in groups:
        writers = writers_of(commits[positions[0]], people)
        # The first step's approvals include every later step's.
        judged = {id(r): _judge(r, writers, people) for r in coverings[0]}
        low = 0
        for step, covering in enumerate(coverings):
            high = bisect_right(positions, steps[step]) if step < len(steps) else len(positions)
            if high == low:
                continue
            verdict = _verdict(covering, judged)
            self_approved += verdict.self_approved * (high - low)
            unresolved += verdict.unresolved * (high - low)
            if len(verdict.approvers) >= params.min_approvals:
                counted_by.update((r.who.key, r.who.label) for r in verdict.approvers)
            else:
                offenders.extend(
                    (p, _why(p, latest, verdict, writers, people)) for p in positions[low:high]
                )
            low = high
    offenders.sort(key=lambda offender: offender[0])
    facts_out = {
        "commits": checked,
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
            f"{each(checked, 'commit')}{skipped} has {needed}, by {by}",
            capped(used),
            facts_out,
        )
    if not latest:
        reason = (
            f"no approving review is recorded for this release, so none of its "
            f"{counted(checked, 'commit')} has {needed}"
        )
    else:
        described = [
            f"{commit_label(commits[p])} ({'; '.join(why) or 'no review covers it'})"
            for p, why in offenders
        ]
        verb = "lacks" if len(offenders) == 1 else "lack"
        reason = (
            f"{len(offenders)} of {counted(checked, 'commit')}{skipped} {verb} "
            f"{needed}: {listing(described, '; ', '; ')}"
        )
    return ControlResult(
        ID,
        ControlStatus.FAIL,
        reason,
        capped(
            used,
            (
                EvidenceRef("commit", commits[p].sha, "not independently approved")
                for p, _ in offenders
            ),
        ),
        facts_out,
    )
