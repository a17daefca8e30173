"""independent-review: someone other than its writers approved every commit.

Rule: every non-merge commit is covered by at least `min_approvals` reviewers whose
standing approval covers it (see `reviews`: a review covers its change's commits, and a
later request for changes or dismissal cancels it), and who are neither its author, its
committer nor a co-author; and, unless `block_on_changes_requested` is off, no reviewer's
request for changes covering it is outstanding (as GitHub's branch protection has it).
Reviewers and writers are resolved through the directory; when a reviewer cannot be told
apart from a writer (both unknown, or known by aliases of different kinds) the approval
does not count and the reason says so. A review whose reviewer is the change's own author
never counts.
"""

from __future__ import annotations

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
    block_on_changes_requested: bool = Field(
        default=True,
        description=(
            "An outstanding request for changes covering a commit fails it, until the same "
            "reviewer approves it again or the request is dismissed."
        ),
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


def _coverage(
    latest: tuple[Latest, ...], block: bool
) -> tuple[dict[int, list[Latest]], dict[int, list[Latest]]]:
    """By position in the release: the approvals that count covering it, and (when `block`)
    the outstanding requests for changes covering it, in `latest`'s order; a position no
    review covers is not there."""
    approving: dict[int, list[Latest]] = {}
    blocking: dict[int, list[Latest]] = {}
    for r in latest:
        into = approving if r.approved else blocking if block and r.requests_changes else None
        if into is None:
            continue
        for p in r.covered:
            at = into.get(p)
            if at is None:
                into[p] = [r]
            else:
                at.append(r)
    return approving, blocking


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
    blockers: tuple[Latest, ...],
    people: People,
) -> list[str]:
    """Why the commit at `position` fails, reviewer by reviewer: one reason each, from the
    review of theirs standing for it when there is one, else from their last review."""
    if blockers:
        return [why_not(r, position, writers, people) for r in blockers]
    chosen: dict[tuple[str, ...], Latest] = {}
    for r in latest:
        if r in verdict.approvers:
            continue
        held = chosen.get(r.who.key)
        if held is None or position not in held.covered:
            chosen[r.who.key] = r
    why = [w for r in chosen.values() if (w := why_not(r, position, writers, people))]
    if verdict.approvers:
        names = listing([r.who.label for r in verdict.approvers])
        why.insert(0, f"only {names} approved it independently")
    return why


@control(
    ID,
    params=IndependentReview,
    summary=(
        "every non-merge commit is approved, by a review whose change includes it, by enough "
        "reviewers who are neither its author, committer nor co-author, and no request for "
        "changes covering it is outstanding"
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
    approving, blocking = _coverage(latest, params.block_on_changes_requested)
    blocked = 0
    # Commits with the same writers and the same covering reviews get the same verdict: one
    # per set of writers and set of reviews, whatever the number of commits.
    for positions in groups:
        writers = writers_of(commits[positions[0]], people)
        judged: dict[int, _Judged] = {}
        verdicts: dict[tuple[int, ...], _Verdict] = {}
        for p in positions:
            covering = tuple(approving.get(p, ()))
            blockers = tuple(blocking.get(p, ()))
            key = tuple(id(r) for r in covering)
            verdict = verdicts.get(key)
            if verdict is None:
                for r in covering:
                    if id(r) not in judged:
                        judged[id(r)] = _judge(r, writers, people)
                verdict = verdicts[key] = _verdict(covering, judged)
            self_approved += verdict.self_approved
            unresolved += verdict.unresolved
            if blockers:
                blocked += 1
                offenders.append((p, _why(p, latest, verdict, writers, blockers, people)))
            elif len(verdict.approvers) >= params.min_approvals:
                counted_by.update((r.who.key, r.who.label) for r in verdict.approvers)
            else:
                offenders.append((p, _why(p, latest, verdict, writers, (), people)))
    offenders.sort(key=lambda offender: offender[0])
    facts_out = {
        "commits": checked,
        "merges": merges,
        "uncovered": len(offenders),
        "approvers": len(counted_by),
        "self_approvals": self_approved,
        "unresolved": unresolved,
        "changes_requested": blocked,
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
