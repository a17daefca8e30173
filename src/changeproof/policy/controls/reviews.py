"""Which reviews count: each reviewer's latest verdict, and the commits it covers.

Per reviewer (one actor, or one raw identity), only their latest verdict stands, in
ledger order: a request for changes or a dismissal cancels every earlier approval of
theirs; approvals given after the last such cancellation stand, and the one of the latest
SHA in the release is the one that counts; a comment or a pending review changes nothing.
An approval of SHA s covers the release's commits up to and including s (commits are
oldest first); an approval of a SHA outside the release covers none. An approval whose
reviewer is the change's own author (as the platform named them) never counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Final

from changeproof.domain.decisions import EvidenceRef
from changeproof.domain.evidence import EvidenceKind, ReviewState
from changeproof.domain.releases import Commit
from changeproof.policy.controls.people import (
    People,
    Sameness,
    Who,
    Writer,
    people_of,
    unknown_because,
    writers,
)
from changeproof.policy.controls.wording import Refs, short
from changeproof.policy.facts import Facts, ReviewFact

__all__ = [
    "Latest",
    "independence",
    "latest_reviews",
    "review_refs",
    "standing",
    "why_not",
    "writers_of",
]

_DECISIVE: Final = frozenset(
    {ReviewState.APPROVED, ReviewState.CHANGES_REQUESTED, ReviewState.DISMISSED}
)


@dataclass(frozen=True, slots=True)
class Latest:
    """A reviewer's standing verdict: the cancelling review, or the approval that counts."""

    who: Who
    review: ReviewFact
    position: int | None  # of the reviewed SHA in the release; None when not in it
    own_change: bool  # the reviewer is the change's author, as the platform named them

    @property
    def approved(self) -> bool:
        return self.review.state is ReviewState.APPROVED and not self.own_change

    def covers(self, position: int) -> bool:
        return self.approved and self.position is not None and self.position >= position


def _position(sha: str, where: Mapping[str, int]) -> int | None:
    wanted = sha.strip().lower()
    if wanted in where:
        return where[wanted]
    if len(wanted) >= 7:  # an abbreviated SHA, when it names one commit only
        found = [i for full, i in where.items() if full.startswith(wanted)]
        if len(found) == 1:
            return found[0]
    return None


def _platform(review: ReviewFact) -> str | None:
    return review.platform if review.platform in ("github", "gitlab") else None


def latest_reviews(facts: Facts, people: People) -> tuple[Latest, ...]:
    """Every reviewer's standing verdict, in the order they last gave one."""
    where = facts.positions
    history: dict[tuple[str, ...], tuple[Who, list[ReviewFact]]] = {}
    for review in sorted(facts.reviews(), key=attrgetter("seq")):
        if review.state not in _DECISIVE:
            continue
        who = people.login(review.reviewer, _platform(review))
        seen = history.get(who.key)
        if seen is None:
            history[who.key] = (who, [review])
            continue
        _, standing = seen
        if review.state is not ReviewState.APPROVED:
            standing.clear()  # a request for changes or a dismissal cancels what came before
        standing.append(review)
    found = []
    for who, standing in sorted(history.values(), key=lambda pair: pair[1][-1].seq):
        if standing[-1].state is not ReviewState.APPROVED:
            found.append(_latest(who, standing[-1], people, where))
            continue
        # (review, position, own change) for each approval; a Latest for the one that counts.
        approvals = [
            (r, _position(r.reviewed_sha, where), _own_change(who, r, people))
            for r in standing
            if r.state is ReviewState.APPROVED
        ]
        counting = [a for a in approvals if not a[2]] or approvals
        review, position, own = max(counting, key=lambda a: (a[1] is not None, a[1] or 0))
        found.append(Latest(who, review, position, own))
    return tuple(found)


def standing(facts: Facts) -> tuple[Latest, ...]:
    """`latest_reviews` with the decision's shared resolver, worked out once per decision."""
    return facts.shared(_standing)


def _standing(facts: Facts) -> tuple[Latest, ...]:
    return latest_reviews(facts, people_of(facts))


def _latest(who: Who, review: ReviewFact, people: People, where: Mapping[str, int]) -> Latest:
    return Latest(
        who, review, _position(review.reviewed_sha, where), _own_change(who, review, people)
    )


def _own_change(who: Who, review: ReviewFact, people: People) -> bool:
    author = people.login(review.author, _platform(review)) if review.author is not None else None
    return author is not None and who.same_as(author) is Sameness.SAME


def review_refs(facts: Facts) -> Refs[ReviewFact]:
    """Every review the control looked at, decisive or not (made once per decision)."""
    return facts.shared(_review_refs)


def _review_refs(facts: Facts) -> Refs[ReviewFact]:
    return Refs(facts.reviews(), _review_ref)


def _review_ref(r: ReviewFact) -> EvidenceRef:
    return EvidenceRef(
        EvidenceKind.REVIEW.value,
        str(r.seq),
        f"{r.reviewer} ({r.platform}) {r.state.value} {short(r.reviewed_sha)}",
    )


def why_not(
    latest: Latest,
    position: int,
    writers_of: tuple[tuple[Writer, Who], ...],
    people: People | None = None,
) -> str:
    """Why this reviewer's latest review does not count for the commit at `position`.

    Empty when it does count.
    """
    name = latest.who.label
    review = latest.review
    if review.state is ReviewState.CHANGES_REQUESTED:
        return f"{name} requested changes (their latest review, of {short(review.reviewed_sha)})"
    if review.state is ReviewState.DISMISSED:
        return f"{name}'s review of {short(review.reviewed_sha)} was dismissed"
    if latest.own_change:
        return f"{name} approved their own change"
    if latest.position is None:
        return f"{name} approved {short(review.reviewed_sha)}, which is not in this release"
    if latest.position < position:
        return f"{name} approved {short(review.reviewed_sha)}, an earlier commit"
    return independence(latest.who, writers_of, "approved it", people)


def independence(
    who: Who, writers_of: tuple[tuple[Writer, Who], ...], did: str, people: People | None = None
) -> str:
    """Why `who` is not independent of a commit's writers; empty when they are. With
    `people`, the grant chain counts too: a reviewer one of the writers added."""
    for writer, person in writers_of:
        same = who.same_as(person)
        if same is Sameness.SAME:
            article = "a" if writer.role == "co-author" else "its"
            return f"{who.label} {did} but is {article} {writer.role}"
        if same is Sameness.UNKNOWN:
            return (
                f"{who.label} {did} but cannot be told apart from its {writer.role} "
                f"{writer.email}: {unknown_because(who, person)}"
            )
    made = None if people is None else people.made_by(who, writers_of)
    if made is not None:
        writer, maker = made
        return (
            f"{who.label} {did} but was made an actor by {maker}, its {writer.role} "
            f"{writer.email}, so is not independent of it"
        )
    return ""


def writers_of(commit: Commit, people: People) -> tuple[tuple[Writer, Who], ...]:
    return tuple((w, people.writer(w)) for w in writers(commit))
