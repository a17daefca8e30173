"""Facts: the views controls share, worked out from the facts themselves when first asked."""

from __future__ import annotations

import dataclasses

from changeproof.domain.evidence import EvidenceKind, ReviewState
from changeproof.domain.releases import PathChange
from changeproof.policy.facts import Facts
from tests.unit.policy.controls.factsbuilder import commit, facts, junit, review, sha


def _renaming() -> Facts:
    moved = dataclasses.replace(
        commit("c2"), paths=(PathChange("archive/1.sql", 0, 0, old_path="db/1.sql"),)
    )
    return facts(
        [
            commit("c1", paths=("app.py", "db/1.sql")),
            moved,
            commit("c3", paths=("app.py",)),
            commit("c4", paths=("app.py", "app.py")),
        ]
    )


def test_paths_are_every_changed_and_renamed_from_path_sorted() -> None:
    assert _renaming().paths() == ("app.py", "archive/1.sql", "db/1.sql")


def test_touching_gives_each_path_the_commits_that_change_it_in_order_once() -> None:
    assert _renaming().touching == {
        "app.py": (0, 2, 3),
        "db/1.sql": (0, 1),
        "archive/1.sql": (1,),
    }


def test_positions_find_commits_by_lower_cased_sha() -> None:
    found = facts([commit("c1"), dataclasses.replace(commit("c2"), sha=sha("c2").upper())])
    assert found.positions == {sha("c1"): 0, sha("c2"): 1}


def test_evidence_of_a_kind_keeps_ledger_order_and_reviews_are_parsed() -> None:
    found = facts(
        evidence=[
            review("bob", "c1"),
            junit(10),
            review("carol-dba", "c1", ReviewState.CHANGES_REQUESTED),
        ]
    )
    assert [e.seq for e in found.of_kind(EvidenceKind.REVIEW)] == [10, 12]
    assert found.of_kind(EvidenceKind.SBOM) == ()
    assert [(r.seq, r.reviewer, r.state) for r in found.reviews()] == [
        (10, "bob", ReviewState.APPROVED),
        (12, "carol-dba", ReviewState.CHANGES_REQUESTED),
    ]


def test_by_writers_groups_commits_by_author_committer_and_co_authors() -> None:
    found = facts(
        [
            commit("c1"),
            commit("c2", committer="bob@example.com"),
            commit("c3"),
            commit("c4", co_authors=["bob@example.com"]),
        ]
    )
    alice = "alice@example.com"
    assert found.by_writers == {
        (alice, alice): (0, 2),
        (alice, "bob@example.com"): (1,),
        (alice, alice, "bob@example.com"): (3,),
    }


def test_what_controls_share_is_worked_out_once_per_facts() -> None:
    calls: list[Facts] = []

    def derive(f: Facts) -> int:
        calls.append(f)
        return len(f.commits)

    one, two = facts([commit("c1")]), facts([commit("c1"), commit("c2")])
    assert (one.shared(derive), one.shared(derive), two.shared(derive)) == (1, 1, 2)
    assert calls == [one, two]
