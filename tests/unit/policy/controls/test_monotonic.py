"""Adding good evidence never turns a pass into a fail.

For independent-review, tests-passed and scan-clean: whatever the release and its evidence,
adding an approving review by someone who wrote none of its commits, a passing test run or
a clean scan leaves a passing control passing.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from changeproof.domain.actors import Actor
from changeproof.domain.decisions import ControlStatus
from changeproof.domain.evidence import ReviewState
from changeproof.domain.releases import Commit
from changeproof.policy.controls.independent_review import IndependentReview, independent_review
from changeproof.policy.controls.scan import ScanClean, scan_clean
from changeproof.policy.controls.tests_passed import TestsPassed
from changeproof.policy.controls.tests_passed import tests_passed as check_tests
from changeproof.policy.facts import EvidenceFact
from tests.unit.policy.controls.factsbuilder import PEOPLE, commit, facts, junit, review, scan

INDY = Actor("indy", frozenset({"indy@example.com"}), github="indy")
ACTORS = (*PEOPLE, INDY)
WRITERS = ("alice@example.com", "bob@example.com", "zed@elsewhere.org", "Carol@Example.com")
REVIEWERS = ("alice", "bob", "carol-dba", "dave", "indy", "mallory", "zed@elsewhere.org")
LEVELS = ("error", "warning", "note", "none")


@st.composite
def commits(draw: st.DrawFn) -> list[Commit]:
    n = draw(st.integers(1, 5))
    return [
        commit(
            f"c{i}",
            author=draw(st.sampled_from(WRITERS)),
            co_authors=draw(st.lists(st.sampled_from(WRITERS), max_size=2)),
            merge=draw(st.sampled_from([False, False, False, True])),
        )
        for i in range(n)
    ]


def reviews(n: int) -> st.SearchStrategy[EvidenceFact]:
    return st.builds(
        review,
        st.sampled_from(REVIEWERS),
        st.sampled_from([*(f"c{i}" for i in range(n)), f"c{n - 1}", f"c{n - 1}", "elsewhere"]),
        st.sampled_from([ReviewState.APPROVED] * 4 + list(ReviewState)),
        author=st.sampled_from([None, None, None, *REVIEWERS]),
    )


test_runs = st.builds(
    junit,
    st.integers(0, 30),
    failed=st.sampled_from([[], [], [], ["a::x"], ["a::x", "a::y"]]),
    errored=st.sampled_from([[], [], [], ["b::z"]]),
    skipped=st.integers(0, 3),
)
findings = st.tuples(
    st.sampled_from(LEVELS), st.just("R1"), st.just("app.py"), st.integers(1, 9), st.booleans()
)
scans = st.builds(scan, st.sampled_from(["Bandit", "Semgrep"]), st.lists(findings, max_size=3))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), history=commits(), min_approvals=st.integers(1, 2))
def test_an_independent_approval_never_turns_a_pass_into_a_fail(
    data: st.DataObject, history: list[Commit], min_approvals: int
) -> None:
    before = data.draw(st.lists(reviews(len(history)), max_size=8))
    target = data.draw(st.integers(0, len(history) - 1))
    params = IndependentReview(min_approvals=min_approvals)
    was = independent_review(facts(history, before, actors=ACTORS), params)
    added = [*before, review("indy", f"c{target}")]
    now = independent_review(facts(history, added, actors=ACTORS), params)
    if was.status is ControlStatus.PASS:
        assert now.status is ControlStatus.PASS, now.reason


@settings(max_examples=200, deadline=None)
@given(
    before=st.lists(test_runs, max_size=4),
    extra=st.integers(0, 30),
    skipped=st.integers(0, 3),
    min_tests=st.integers(0, 40),
)
def test_a_passing_test_run_never_turns_a_pass_into_a_fail(
    before: list[EvidenceFact], extra: int, skipped: int, min_tests: int
) -> None:
    params = TestsPassed(min_tests=min_tests)
    was = check_tests(facts([commit("c0")], before), params)
    now = check_tests(facts([commit("c0")], [*before, junit(extra, skipped=skipped)]), params)
    if was.status is ControlStatus.PASS:
        assert now.status is ControlStatus.PASS, now.reason


@settings(max_examples=200, deadline=None)
@given(
    before=st.lists(scans, max_size=3),
    level=st.sampled_from(["error", "warning", "note"]),
    tools=st.lists(st.sampled_from(["bandit", "semgrep", "BAN"]), max_size=2),
    tool=st.sampled_from(["Bandit", "Semgrep"]),
    below=st.lists(findings, max_size=3),
)
def test_a_clean_scan_never_turns_a_pass_into_a_fail(
    before: list[EvidenceFact],
    level: str,
    tools: list[str],
    tool: str,
    below: list[tuple[str, str, str, int, bool]],
) -> None:
    params = ScanClean.model_validate({"level": level, "tools": tools})
    rank = LEVELS[::-1].index
    clean = [f for f in below if f[4] or rank(f[0]) < rank(level)]
    was = scan_clean(facts([commit("c0")], before), params)
    now = scan_clean(facts([commit("c0")], [*before, scan(tool, clean)]), params)
    if was.status is ControlStatus.PASS:
        assert now.status is ControlStatus.PASS, now.reason
