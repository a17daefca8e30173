"""Which reviews count: the commits each review covers, and each reviewer's standing verdict.

A review covers the commits of the change it reviewed, worked out from the release's recorded
commit graph (`covered`):

- with a base (GitHub's `pull_request.base.sha`, the generic form's `base_sha`) that is in the
  release or one of the commits it starts from: the commits reachable from the reviewed SHA
  and not from the base (git's `base..head`);
- else, with the commits it names (the generic form's `commits`): those of them that are the
  reviewed SHA or its ancestors;
- else (no base, or a base the release does not know): the reviewed SHA alone. A review of a
  SHA outside the release covers nothing.

Per reviewer (one actor, or one raw identity) and per commit, the latest decisive review
covering it stands, in ledger order: an approval, a request for changes or a dismissal; a
comment or a pending review changes nothing. A request for changes or a dismissal also
cancels the reviewer's earlier approvals of the same change (all of them when it names no
change). A request for changes stands until the same reviewer approves the commits again or
it is dismissed. An approval whose reviewer is the change's own author (as the platform named
them) never counts, and never displaces a standing approval of theirs that does.
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
    "covered",
    "independence",
    "latest_reviews",
    "review_label",
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
    """One review of a reviewer's that stands for some commits (`covered`): an approval, a
    request for changes, or a dismissal; or, for a reviewer none of whose reviews stands for
    any commit of the release, their last decisive review, covering nothing."""

    who: Who
    review: ReviewFact
    position: int | None  # of the reviewed SHA in the release; None when not in it
    own_change: bool  # the reviewer is the change's author, as the platform named them
    covered: frozenset[int] = frozenset()  # positions where it is the reviewer's verdict

    @property
    def approved(self) -> bool:
        return self.review.state is ReviewState.APPROVED and not self.own_change

    @property
    def requests_changes(self) -> bool:
        return self.review.state is ReviewState.CHANGES_REQUESTED

    def covers(self, position: int) -> bool:
        """An approval that counts stands for the commit at `position`."""
        return self.approved and position in self.covered

    def blocks(self, position: int) -> bool:
        """An outstanding request for changes stands for the commit at `position`."""
        return self.requests_changes and position in self.covered


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


def covered(facts: Facts, review: ReviewFact) -> frozenset[int]:
    """The positions of the release's commits `review` covers (see the module's docstring)."""
    where = facts.positions
    head = _position(review.reviewed_sha, where)
    if head is None:
        return frozenset()
    base = review.base_sha.strip().lower() if review.base_sha is not None else None
    if base is not None:
        if base in where:
            return facts.ancestry(head, where[base])
        if base in facts.boundary:
            return facts.ancestry(head)
        # A base the release does not know: what it reaches cannot be told, so fail closed.
    if review.commits:
        ancestry = facts.ancestry(head)
        named = {where[c.lower()] for c in review.commits if c.lower() in where}
        return frozenset(named & ancestry) | {head}
    return frozenset({head})


def latest_reviews(facts: Facts, people: People) -> tuple[Latest, ...]:
    """Every review that stands for some commit, in the order they were recorded; and the
    last decisive review of each reviewer none of whose reviews stands for any."""
    where = facts.positions
    # Per reviewer: who, the review standing at each position, and their last decisive one.
    history: dict[tuple[str, ...], tuple[Who, dict[int, ReviewFact], list[ReviewFact]]] = {}
    own: dict[int, bool] = {}  # by review seq
    reach: dict[int, frozenset[int]] = {}  # what each review covers, by seq
    given: dict[tuple[tuple[str, ...], str | None], list[ReviewFact]] = {}  # by reviewer, change
    for review in sorted(facts.reviews(), key=attrgetter("seq")):
        if review.state not in _DECISIVE:
            continue
        who = people.login(review.reviewer, _platform(review))
        seen = history.get(who.key)
        if seen is None:
            seen = history[who.key] = (who, {}, [])
        who, at, last = seen
        last[:] = [review]
        covers = reach[review.seq] = covered(facts, review)
        if review.state is ReviewState.APPROVED:
            mine = own[review.seq] = _own_change(who, review, people)
            for p in covers:
                before = at.get(p)
                if (
                    mine
                    and before is not None
                    and before.state is ReviewState.APPROVED
                    and not own[before.seq]
                ):
                    continue  # an approval of one's own change does not hide a real one
                at[p] = review
        else:
            own[review.seq] = False
            # A dismissal clears the same change's request for changes too; one naming no
            # change clears only its own commits' (a cancelled approval fails closed, a lifted
            # block not).
            lifts = {ReviewState.APPROVED}
            if review.state is ReviewState.DISMISSED and review.change_id is not None:
                lifts.add(ReviewState.CHANGES_REQUESTED)
            if review.change_id is None:
                earlier = [r for (k, _), rs in given.items() if k == who.key for r in rs]
            else:
                earlier = given.get((who.key, review.change_id), [])
            for before in earlier:
                if before.state in lifts:
                    for p in reach[before.seq]:
                        if at.get(p) is before:
                            at[p] = review
            for p in covers:
                at[p] = review
        given.setdefault((who.key, review.change_id), []).append(review)
    found: list[Latest] = []
    for who, at, last in history.values():
        by_review: dict[int, tuple[ReviewFact, set[int]]] = {}
        for p, review in at.items():
            by_review.setdefault(review.seq, (review, set()))[1].add(p)
        if not by_review:
            found.append(_latest(who, last[0], people, where))
        for review, positions in by_review.values():
            found.append(
                Latest(
                    who,
                    review,
                    _position(review.reviewed_sha, where),
                    own[review.seq] if review.state is ReviewState.APPROVED else False,
                    frozenset(positions),
                )
            )
    return tuple(sorted(found, key=lambda latest: latest.review.seq))


def standing(facts: Facts) -> tuple[Latest, ...]:
    """`latest_reviews` with the decision's shared resolver, worked out once per decision."""
    return facts.shared(_standing)


def _standing(facts: Facts) -> tuple[Latest, ...]:
    return latest_reviews(facts, people_of(facts))


def _latest(who: Who, review: ReviewFact, people: People, where: Mapping[str, int]) -> Latest:
    own = review.state is ReviewState.APPROVED and _own_change(who, review, people)
    return Latest(who, review, _position(review.reviewed_sha, where), own)


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


def review_label(review: ReviewFact) -> str:
    """A review as a reason names it: its change, when known, and its ledger entry."""
    of = f"{review.change_id}, " if review.change_id else ""
    return f"review {of}evidence {review.seq}"


def why_not(
    latest: Latest,
    position: int,
    writers_of: tuple[tuple[Writer, Who], ...],
    people: People | None = None,
) -> str:
    """Why this review of a reviewer's does not count for the commit at `position`.

    Empty when it does count.
    """
    name = latest.who.label
    review = latest.review
    mine = position in latest.covered
    if review.state is ReviewState.CHANGES_REQUESTED and mine:
        return (
            f"{name} requested changes ({review_label(review)}, of {short(review.reviewed_sha)}) "
            "and has not approved since nor been dismissed"
        )
    if review.state is ReviewState.DISMISSED and mine:
        return f"{name}'s review of {short(review.reviewed_sha)} was dismissed"
    if latest.own_change and (mine or not latest.covered):
        return f"{name} approved their own change"
    if latest.position is None:
        return f"{name} approved {short(review.reviewed_sha)}, which is not in this release"
    if not mine:
        if review.state is not ReviewState.APPROVED:
            return ""
        if latest.position < position:
            return f"{name} approved {short(review.reviewed_sha)}, an earlier commit"
        return f"{name} approved {short(review.reviewed_sha)}, whose change does not include it"
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
