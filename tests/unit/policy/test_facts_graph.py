"""The release's commit graph as Facts walk it: git's `hidden..head` over recorded parents."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.releases import Commit
from changeproof.policy.facts import Facts
from tests.unit.policy.controls.factsbuilder import commit, facts, sha


def _dag(parents: list[list[int]]) -> Facts:
    """Commit i's parents are the commits `parents[i]` (each below i), else the release's
    start; `facts` keeps the order and so a topological one."""
    built: list[Commit] = []
    for i, at in enumerate(parents):
        c = commit(f"n{i}")
        shas = tuple(sha(f"n{p}") for p in at) or (sha("outside"),)
        built.append(dataclasses.replace(c, parents=shas))
    made = facts(built)
    # `facts` chains commits in a line; put the drawn graph back.
    return dataclasses.replace(made, commits=tuple(built))


def _naive(graph: Facts, head: int) -> set[int]:
    seen, todo = {head}, [head]
    while todo:
        for p in graph.parent_positions[todo.pop()]:
            if p not in seen:
                seen.add(p)
                todo.append(p)
    return seen


@st.composite
def _graphs(draw: st.DrawFn) -> list[list[int]]:
    size = draw(st.integers(1, 25))
    return [
        sorted(set(draw(st.lists(st.integers(0, i - 1), max_size=2)))) if i else []
        for i in range(size)
    ]


@given(_graphs(), st.data())
def test_the_walk_is_the_set_difference_of_ancestries(
    graph: list[list[int]], data: st.DataObject
) -> None:
    made = _dag(graph)
    head = data.draw(st.integers(0, len(graph) - 1))
    hidden = data.draw(st.none() | st.integers(0, len(graph) - 1))
    expected = _naive(made, head) - (_naive(made, hidden) if hidden is not None else set())
    assert made.ancestry(head, hidden) == expected


def test_a_merged_branch_is_its_own_commits_and_the_boundary_is_known() -> None:
    # 0 <- 1 <- 3 (merge of 1 and 2), 0 <- 2; base 1, head 3: 2 and 3.
    made = _dag([[], [0], [0], [1, 2]])
    assert made.ancestry(3, 1) == {2, 3}
    assert made.ancestry(2, 1) == {2}
    assert made.boundary == {sha("outside")}


@given(_graphs(), st.data())
def test_the_walk_does_not_need_the_commits_in_topological_order(
    graph: list[list[int]], data: st.DataObject
) -> None:
    made = _dag(graph)
    backwards = dataclasses.replace(made, commits=made.commits[::-1])
    head = data.draw(st.integers(0, len(graph) - 1))
    hidden = data.draw(st.none() | st.integers(0, len(graph) - 1))
    last = len(graph) - 1
    expected = {last - p for p in made.ancestry(head, hidden)}
    assert backwards.ancestry(last - head, None if hidden is None else last - hidden) == expected
