"""A commit with no ticket of its own inherits the tickets of the merge that brought it in,
in a real repository: shown by `release show` (text and JSON) and counted by the gate's
ticket-reference; off with `no-inherit` in the ticket spec or the control's parameter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.scenario import ADA, Scenario, failing


class Merged:
    """main: a root; a direct commit without a ticket; pull request #31 (branch
    PAY-7-refunds: two commits without tickets, and a merge of main into the branch) merged
    with GitHub's subject."""

    def __init__(self, s: Scenario) -> None:
        repo = s.repo
        self.root = repo.commit("PAY-1 start", {"README": "r\n"}, author=ADA)
        repo.git("checkout", "-q", "-b", "PAY-7-refunds")
        self.a1 = repo.commit("add refunds", {"refunds.py": "a = 1\n"}, author=ADA)
        repo.git("checkout", "-q", "main")
        self.direct = repo.commit("tidy imports", {"x.py": "x\n"}, author=ADA)
        repo.git("checkout", "-q", "PAY-7-refunds")
        repo.git("merge", "-q", "--no-ff", "main", "-m", "Merge branch 'main' into refunds",
                 author=ADA)  # fmt: skip
        self.inner = repo.head()
        self.a2 = repo.commit("refund limits", {"refunds.py": "a = 2\n"}, author=ADA)
        repo.git("checkout", "-q", "main")
        repo.git("merge", "-q", "--no-ff", "PAY-7-refunds", "-m",
                 "Merge pull request #31 from acme/PAY-7-refunds", author=ADA)  # fmt: skip
        self.merge = repo.head()
        s.run_ok("release", "create", "--service", "payments", "--name", "3.0", "--repo",
                 repo.path, "--from", self.root, "--to", "main",
                 "--tickets", "jira:PAY")  # fmt: skip
        self.release = "payments/3.0"


@pytest.fixture
def merged(home: Path, tmp_path: Path, cli: Cli) -> tuple[Scenario, Merged]:
    s = Scenario(home, tmp_path, cli)
    return s, Merged(s)


def _gate(s: Scenario, release: str, policy: str) -> tuple[int, dict[str, object]]:
    path = s.tmp / "tickets-policy.yaml"
    path.write_text(policy)
    result = s.cli("gate", "--release", release, "--env", "production", "--policy", path,
                   "--home", s.home, "--output", "json")  # fmt: skip
    assert result.code in (0, 1), result.err
    doc: dict[str, object] = json.loads(result.out)
    return result.code, doc


POLICY = "version: 1\ntickets: {tickets}\nenvironments:\n  production:\n    controls:\n{control}"


def test_commits_of_a_ticketed_merge_inherit_its_tickets_in_release_show(
    merged: tuple[Scenario, Merged],
) -> None:
    s, m = merged
    doc = json.loads(s.run_ok("release", "show", m.release, "-o", "json"))
    by_sha = {c["sha"]: c for c in doc["commits"]}
    expected = [{"merge": m.merge, "tickets": ["PAY-7"]}]
    assert by_sha[m.a1]["tickets"] == []
    assert by_sha[m.a1]["inherited_tickets"] == expected
    assert by_sha[m.a2]["inherited_tickets"] == expected
    assert by_sha[m.inner]["inherited_tickets"] == expected  # a merge in between
    # On main before the pull request was merged: the merge of main into the branch did
    # not bring it into main.
    assert by_sha[m.direct]["inherited_tickets"] == []
    assert by_sha[m.merge]["inherited_tickets"] == []
    assert doc["untracked_commits"] == [m.direct]

    text = s.run_ok("release", "show", m.release)  # a narrow table: the cell wraps
    assert "PAY-7 (inherited" in text
    assert f"{m.merge[:12]})" in text
    assert "Commits with no ticket: 1" in text


def test_ticket_reference_counts_inherited_tickets_unless_switched_off(
    merged: tuple[Scenario, Merged],
) -> None:
    s, m = merged
    s.run_ok("release", "create", "--service", "payments", "--name", "3.1", "--repo", s.repo.path,
             "--from", m.direct, "--to", "main", "--tickets", "jira:PAY")  # fmt: skip
    release = "payments/3.1"  # the pull request's commits and merges only
    control = "      - ticket-reference\n"
    code, doc = _gate(s, release, POLICY.format(tickets="jira:PAY", control=control))
    assert code == 0, failing(doc)
    controls = doc["controls"]
    assert isinstance(controls, list)
    reason = controls[0]["reason"]
    assert reason == (
        "each of the 4 commits references a ticket, 3 through the merge that brought them in "
        "(PAY-7)"
    )

    code, doc = _gate(s, release, POLICY.format(tickets="jira:PAY,no-inherit", control=control))
    assert code == 1
    assert failing(doc)["ticket-reference"].startswith("3 of 4 commits reference no ticket: ")

    off = "      - ticket-reference: {inherit_tickets: false}\n"
    code, doc = _gate(s, release, POLICY.format(tickets="jira:PAY", control=off))
    assert code == 1
    assert m.a1[:7] in failing(doc)["ticket-reference"]


def test_no_inherit_in_the_ticket_spec_turns_it_off_for_release_create(
    merged: tuple[Scenario, Merged],
) -> None:
    s, m = merged
    out = s.run_ok("release", "create", "--service", "payments", "--name", "3.2", "--repo",
                   s.repo.path, "--from", m.root, "--to", "main", "--tickets",
                   "jira:PAY,no-inherit", "-o", "json")  # fmt: skip
    doc = json.loads(out)
    assert set(doc["untracked_commits"]) == {m.a1, m.a2, m.inner, m.direct}
    assert all(c["inherited_tickets"] == [] for c in doc["commits"])
