"""Which commits a review covers, in real repositories with pull requests merged into main:
a pull request's review covers its own commits (base..head), not every commit before its
head; an outstanding request for changes blocks the commits it covers."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.gitrepo import GitRepo
from tests.integration.scenario import ADA, Scenario, failing

_HERE = Path(__file__).resolve()
CORPUS = next(
    (
        found
        for up in (3, 4)
        if (found := _HERE.parents[up] / "shared" / "corpus" / "webhooks").is_dir()
    ),
    _HERE.parents[3] / "shared" / "corpus" / "webhooks",
)
APPROVED = CORPUS / (
    "legacy-2016__pull_request_review.submitted.approved__probot-minimum-reviews.json"
)
needs_corpus = pytest.mark.skipif(
    not APPROVED.is_file(), reason=f"the shared evidence corpus is not at {CORPUS}"
)

BOB = "Bob Builder <bob@example.com>"


class Pulls:
    """main: a root, then pull request 1 (two commits by Ada) merged, then pull request 2
    (two commits by Bob) merged; the release is everything after the root."""

    def __init__(self, scenario: Scenario) -> None:
        repo: GitRepo = scenario.repo
        self.root = repo.commit("PAY-0 start", {"README": "r\n"}, author=ADA)
        repo.git("checkout", "-q", "-b", "pr1")
        self.a1 = repo.commit("PAY-1 refunds", {"refunds.py": "a = 1\n"}, author=ADA)
        self.a2 = repo.commit("PAY-1 refund limits", {"refunds.py": "a = 2\n"}, author=ADA)
        repo.git("checkout", "-q", "main")
        repo.git("merge", "-q", "--no-ff", "pr1", "-m", "Merge pull request #1", author=ADA)
        self.m1 = repo.head()
        repo.git("checkout", "-q", "-b", "pr2")
        self.b1 = repo.commit("PAY-2 money", {"money.py": "b = 1\n"}, author=BOB)
        self.b2 = repo.commit("PAY-2 half-even", {"money.py": "b = 2\n"}, author=BOB)
        repo.git("checkout", "-q", "main")
        repo.git("merge", "-q", "--no-ff", "pr2", "-m", "Merge pull request #2", author=ADA)
        self.m2 = repo.head()
        scenario.run_ok("release", "create", "--service", "payments", "--name", "2.0",
                        "--repo", repo.path, "--from", self.root, "--to", "main")  # fmt: skip
        self.release = "payments/2.0"


def _github(
    tmp: Path, name: str, *, reviewer: str, state: str, head: str, base: str | None, number: int
) -> Path:
    """The real approved-review webhook payload, pointed at this repository's pull request."""
    doc = json.loads(APPROVED.read_text())
    doc = copy.deepcopy(doc)
    doc["review"]["id"] = sum(name.encode())  # each review of GitHub's has its own id
    doc["review"]["user"]["login"] = reviewer
    doc["review"]["state"] = state
    doc["pull_request"]["head"]["sha"] = head
    doc["pull_request"]["number"] = number
    doc["pull_request"]["user"]["login"] = "ada-l" if number == 1 else "bob-b"
    if base is None:
        del doc["pull_request"]["base"]
    else:
        doc["pull_request"]["base"]["sha"] = base
    path = tmp / name
    path.write_text(json.dumps(doc))
    return path


def _policy(s: Scenario, controls: str = "      - independent-review\n") -> Path:
    path = s.tmp / "review-policy.yaml"
    path.write_text(f"version: 1\nenvironments:\n  production:\n    controls:\n{controls}")
    return path


def _gate(s: Scenario, release: str, policy: Path) -> tuple[int, dict[str, object]]:
    result = s.cli("gate", "--release", release, "--env", "production", "--policy", policy,
                   "--home", s.home, "--output", "json")  # fmt: skip
    assert result.code in (0, 1), result.err
    doc: dict[str, object] = json.loads(result.out)
    return result.code, doc


@pytest.fixture
def pulls(scenario_home: Scenario) -> Pulls:
    scenario_home.run_ok("actor", "add", "bob", "--email", "bob@example.com", "--github",
                         "bob-b", "--actor", "admin")  # fmt: skip
    return Pulls(scenario_home)


@pytest.fixture
def scenario_home(home: Path, tmp_path: Path, cli: Cli) -> Scenario:
    return Scenario(home, tmp_path, cli)


@needs_corpus
def test_a_pull_requests_review_covers_its_own_commits_only(
    scenario_home: Scenario, pulls: Pulls
) -> None:
    s = scenario_home
    s.run_ok("attest", "review", _github(s.tmp, "pr2.json", reviewer="carol-c", state="approved",
             head=pulls.b2, base=pulls.m1, number=2), "--release", pulls.release)  # fmt: skip
    code, doc = _gate(s, pulls.release, _policy(s))
    assert code == 1
    reason = failing(doc)["independent-review"]
    assert reason.startswith("2 of 4 commits (2 merge commits not checked) lack")
    assert f'{pulls.a1[:7]} "PAY-1 refunds"' in reason
    assert f'{pulls.a2[:7]} "PAY-1 refund limits"' in reason
    assert f'{pulls.b1[:7]} "PAY-2 money"' not in reason
    assert f'{pulls.b2[:7]} "PAY-2 half-even"' not in reason
    assert f"carol approved {pulls.b2[:7]}, whose change does not include it" in reason

    s.run_ok("attest", "review", _github(s.tmp, "pr1.json", reviewer="carol-c", state="approved",
             head=pulls.a2, base=pulls.root, number=1), "--release", pulls.release)  # fmt: skip
    code, doc = _gate(s, pulls.release, _policy(s))
    assert code == 0, failing(doc)


@needs_corpus
def test_a_review_whose_base_is_unknown_covers_its_head_only(
    scenario_home: Scenario, pulls: Pulls
) -> None:
    s = scenario_home
    s.run_ok("attest", "review", _github(s.tmp, "pr2.json", reviewer="carol-c", state="approved",
             head=pulls.b2, base=None, number=2), "--release", pulls.release)  # fmt: skip
    unknown = "1" * 40  # a base the release never saw: what it reaches cannot be told
    s.run_ok("attest", "review", _github(s.tmp, "pr2b.json", reviewer="grace-h", state="approved",
             head=pulls.b2, base=unknown, number=2), "--release", pulls.release)  # fmt: skip
    code, doc = _gate(s, pulls.release, _policy(s))
    assert code == 1
    reason = failing(doc)["independent-review"]
    assert reason.startswith("3 of 4 commits (2 merge commits not checked) lack")
    assert f'{pulls.b1[:7]} "PAY-2 money"' in reason
    assert f'{pulls.b2[:7]} "PAY-2 half-even"' not in reason


def test_a_generic_review_covers_the_commits_it_names_or_its_sha_alone(
    scenario_home: Scenario, pulls: Pulls
) -> None:
    s = scenario_home
    tip = {"reviewer": "carol-c", "state": "approved", "reviewed_sha": pulls.m2}
    s.evidence("review", pulls.release, json.dumps(tip))
    code, doc = _gate(s, pulls.release, _policy(s))
    assert code == 1
    assert failing(doc)["independent-review"].startswith("4 of 4 commits")

    named = {**tip, "reviewed_sha": pulls.b2, "commits": [pulls.b1, pulls.b2]}
    ranged = {**tip, "reviewed_sha": pulls.a2, "base_sha": pulls.root}
    s.evidence("review", pulls.release, json.dumps(named))
    s.evidence("review", pulls.release, json.dumps(ranged))
    code, doc = _gate(s, pulls.release, _policy(s))
    assert code == 0, failing(doc)


@needs_corpus
def test_an_outstanding_request_for_changes_blocks_until_approved_or_dismissed(
    scenario_home: Scenario, pulls: Pulls
) -> None:
    s = scenario_home
    attest = ("--release", pulls.release)
    for number, head, base in ((1, pulls.a2, pulls.root), (2, pulls.b2, pulls.m1)):
        s.run_ok("attest", "review", _github(s.tmp, f"ok{number}.json", reviewer="carol-c",
                 state="approved", head=head, base=base, number=number), *attest)  # fmt: skip
    changes = _github(s.tmp, "changes.json", reviewer="grace-h", state="changes_requested",
                      head=pulls.b2, base=pulls.m1, number=2)  # fmt: skip
    s.run_ok("attest", "review", changes, *attest)
    code, doc = _gate(s, pulls.release, _policy(s))
    assert code == 1
    reason = failing(doc)["independent-review"]
    assert reason.startswith("2 of 4 commits")
    assert "grace requested changes (review " in reason
    assert "#2, evidence " in reason
    assert "has not approved since nor been dismissed" in reason
    assert f'{pulls.a1[:7]} "PAY-1 refunds"' not in reason
    assert f'{pulls.b1[:7]} "PAY-2 money"' in reason

    relaxed = _policy(s, "      - independent-review: {block_on_changes_requested: false}\n")
    code, doc = _gate(s, pulls.release, relaxed)
    assert code == 0, failing(doc)

    doc_ = json.loads(changes.read_text())
    doc_["action"] = "dismissed"
    doc_["review"]["state"] = "dismissed"
    changes.write_text(json.dumps(doc_))
    s.run_ok("attest", "review", changes, *attest)
    code, doc = _gate(s, pulls.release, _policy(s))
    assert code == 0, failing(doc)


@needs_corpus
def test_a_request_for_changes_is_lifted_by_the_same_reviewers_later_approval(
    scenario_home: Scenario, pulls: Pulls
) -> None:
    s = scenario_home
    attest = ("--release", pulls.release)
    for state in ("approved", "changes_requested"):
        s.run_ok("attest", "review", _github(s.tmp, f"{state}.json", reviewer="grace-h",
                 state=state, head=pulls.b2, base=pulls.m1, number=2), *attest)  # fmt: skip
    s.run_ok("attest", "review", _github(s.tmp, "carol.json", reviewer="carol-c",
             state="approved", head=pulls.a2, base=pulls.root, number=1), *attest)  # fmt: skip
    code, doc = _gate(s, pulls.release, _policy(s))
    assert code == 1
    assert "grace requested changes" in failing(doc)["independent-review"]
    s.run_ok("attest", "review", _github(s.tmp, "again.json", reviewer="grace-h",
             state="approved", head=pulls.b2, base=pulls.m1, number=2), *attest)  # fmt: skip
    code, doc = _gate(s, pulls.release, _policy(s))
    assert code == 0, failing(doc)
