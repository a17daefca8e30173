"""The same `release create` run at once by several pipelines records one release, and each
run answers with it; a different range under the same name is still a conflict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli, ints
from tests.integration.gitrepo import GitRepo

CHANGEPROOF = str(Path(sys.executable).parent / "changeproof")


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    for n in range(150):
        repo.commit(f"PAY-{n} change {n}")
    return repo


def _create_at_once(
    home: Path, repo: GitRepo, targets: list[str], name: str = "1.0"
) -> list[tuple[int, str, str]]:
    args = ["release", "create", "--service", "pay", "--name", name, "--repo", str(repo.path)]
    args += ["--home", str(home), "--actor", "tester", "-o", "json"]
    processes = [
        subprocess.Popen(
            [CHANGEPROOF, *args, "--to", target],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for target in targets
    ]
    done = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        done.append((process.returncode, out, err))
    return done


@pytest.mark.slow
def test_three_identical_creates_at_once_all_answer_with_the_one_release(
    home: Path, repo: GitRepo, cli: Cli
) -> None:
    # Three rounds: the race is timing's to lose, and each round is a fresh chance to lose it.
    start = None
    for round_, name in enumerate(("1.0", "1.1", "1.2")):
        results = _create_at_once(home, repo, ["HEAD", "HEAD", "HEAD"], name)
        for code, _, err in results:
            assert code == 0, err
        docs = [json.loads(out) for _, out, _ in results]
        expected = (docs[0]["seq"], start, repo.head(), 150 if round_ == 0 else 20)
        assert {(d["seq"], d["from"], d["to"], len(d["commits"])) for d in docs} == {expected}
        assert sum(d["created"] for d in docs) == 1  # one run recorded it; the others found it
        start = repo.head()
        for n in range(20):
            repo.commit(f"PAY-{n} round {round_} change {n}")
    assert ints(home, "SELECT count(*) FROM releases") == [3]
    assert cli("ledger", "verify", "--home", home).code == 0


@pytest.mark.slow
def test_a_different_range_under_the_same_name_at_once_is_still_a_conflict(
    home: Path, repo: GitRepo
) -> None:
    results = _create_at_once(home, repo, ["HEAD", "HEAD~1"])
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    refused = next(err for code, _, err in results if code == 2)
    assert "release pay/1.0 already exists" in refused
    assert ints(home, "SELECT count(*) FROM releases") == [1]
