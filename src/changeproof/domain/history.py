"""A release's history as a graph: its commits and their recorded parents.

Pure and computed when read, from what `commit.recorded` holds (every commit's parents), so
ledger entries recorded before any of this existed get the same answers.

- `ancestry(head, hidden)`: git's `hidden..head` inside the release (what a pull request's
  review covers).
- `inherited_tickets()`: the tickets a commit with none of its own inherits from the merges
  that brought it in: the merge on the tip's first-parent chain whose other parents bring it,
  and every merge in between (inside what that merge brought) whose other parents bring it.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from changeproof.domain.releases import Commit, TicketRef

__all__ = ["TICKETS_NO_INHERIT", "CommitGraph", "Inherited", "inherits_tickets"]

TICKETS_NO_INHERIT = "no-inherit"  # the ticket-spec item that turns inheritance off


def inherits_tickets(spec: str) -> bool:
    """Whether a ticket spec (`jira:PAY,github,no-inherit`) leaves inheritance on."""
    return TICKETS_NO_INHERIT not in (item.strip() for item in spec.split(","))


@dataclass(frozen=True, slots=True)
class Inherited:
    """Tickets a commit inherits from one merge that brought it in."""

    merge: str  # the merge's SHA
    tickets: tuple[TicketRef, ...]


class CommitGraph:
    """Commits (oldest first, as a release records them) and their parents in the release."""

    def __init__(self, commits: Sequence[Commit]) -> None:
        self.commits = tuple(commits)
        self.positions: Mapping[str, int] = {c.sha.lower(): i for i, c in enumerate(commits)}
        where = self.positions
        self.parents: tuple[tuple[int, ...], ...] = tuple(
            tuple(where[p.lower()] for p in c.parents if p.lower() in where) for c in commits
        )
        self._ancestries: dict[tuple[int, int | None], frozenset[int]] = {}

    @cached_property
    def boundary(self) -> frozenset[str]:
        """The parents of the release's commits that are not in it (lower-cased): the commits
        the release starts from, none of whose ancestors is in the release."""
        where = self.positions
        return frozenset(
            p.lower() for c in self.commits for p in c.parents if p.lower() not in where
        )

    def ancestry(self, position: int, hidden: int | None = None) -> frozenset[int]:
        """The commit at `position` and its ancestors in the release, by position; with
        `hidden`, less that commit and its ancestors (git's `hidden..position`)."""
        key = (position, hidden)
        found = self._ancestries.get(key)
        if found is None:
            found = self._ancestries[key] = self._walk(position, hidden)
        return found

    @cached_property
    def _ranks(self) -> tuple[int, ...]:
        """A rank per position, every parent's below its children's: the positions
        themselves when the commits are in topological order, as releases record them."""
        parents = self.parents
        if all(p < i for i, at in enumerate(parents) for p in at):
            return tuple(range(len(parents)))
        children: list[list[int]] = [[] for _ in parents]
        waiting = [len(at) for at in parents]
        for i, at in enumerate(parents):
            for p in at:
                children[p].append(i)
        ready = [i for i, n in enumerate(waiting) if n == 0]
        ranks = [0] * len(parents)
        rank = 0
        while ready:
            i = ready.pop()
            ranks[i] = rank
            rank += 1
            for child in children[i]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    ready.append(child)
        return tuple(ranks)

    def _walk(self, position: int, hidden: int | None) -> frozenset[int]:
        # Git's walk: newest first by rank, marking what `hidden` reaches, and stopping once
        # every commit still to visit is reached from it; so a pull request's own commits
        # cost about their number, not the release's.
        parents, ranks = self.parents, self._ranks
        shown, hide = 1, 2
        flags = {position: shown}
        heap = [(-ranks[position], position)]
        if hidden is not None:
            flags[hidden] = flags.get(hidden, 0) | hide
            heap.append((-ranks[hidden], hidden))
            heapq.heapify(heap)
        interesting = sum(1 for _, i in heap if flags[i] == shown)
        done: set[int] = set()
        found: set[int] = set()
        while heap and interesting:
            _, i = heapq.heappop(heap)
            if i in done:
                continue
            done.add(i)
            flag = flags[i]
            if flag == shown:
                interesting -= 1
                found.add(i)
            for parent in parents[i]:
                before = flags.get(parent, 0)
                after = before | flag
                if after == before:
                    continue
                flags[parent] = after
                if before == 0:
                    heapq.heappush(heap, (-ranks[parent], parent))
                    interesting += after == shown
                elif before == shown:
                    interesting -= 1  # now reached from `hidden` too
        return frozenset(found)

    def tip(self) -> int | None:
        """The release's tip: the newest commit no commit of the release has as a parent."""
        if not self.commits:
            return None
        ranks = self._ranks
        parented = {p for at in self.parents for p in at}
        heads = [i for i in range(len(self.commits)) if i not in parented]
        return max(heads, key=lambda i: ranks[i])

    def brought(self, merge: int) -> frozenset[int]:
        """What a merge brought in: reachable from its other parents, not from its first."""
        commit, parents = self.commits[merge], self.parents[merge]
        if len(commit.parents) < 2 or not parents:
            return frozenset()
        first = self.positions.get(commit.parents[0].lower())
        found: set[int] = set()
        for other in commit.parents[1:]:
            at = self.positions.get(other.lower())
            if at is not None:
                found |= self.ancestry(at, first)
        return frozenset(found)

    def inherited_tickets(self, tip: int | None = None) -> dict[int, tuple[Inherited, ...]]:
        """By position, for each commit with no ticket of its own that a ticketed merge
        brought in: the tickets of the merge on the tip's first-parent chain that brought it,
        then of each merge in between that brought it (oldest first), merges without tickets
        left out. `tip` defaults to `tip()`."""
        at = self.tip() if tip is None else tip
        commits, positions = self.commits, self.positions
        found: dict[int, list[Inherited]] = {}
        seen: set[int] = set()
        while at is not None and at not in seen:  # the first-parent chain, newest first
            seen.add(at)
            merge = commits[at]
            if merge.merge:
                brought = self.brought(at)
                _inherit(found, commits, brought, at)
                for inner in sorted(i for i in brought if commits[i].merge):
                    _inherit(found, commits, self.brought(inner) & brought, inner)
            at = positions.get(merge.parents[0].lower()) if merge.parents else None
        return {i: tuple(got) for i, got in found.items() if got}


def _inherit(
    found: dict[int, list[Inherited]],
    commits: tuple[Commit, ...],
    brought: frozenset[int],
    merge: int,
) -> None:
    tickets = commits[merge].tickets
    if not tickets:
        return
    given = Inherited(commits[merge].sha, tickets)
    for i in brought:
        if not commits[i].tickets:
            found.setdefault(i, []).append(given)
