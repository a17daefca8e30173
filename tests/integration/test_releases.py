"""Traceability on real git repositories: ranges, merges, reverts, co-authors, tickets."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pygit2
import pytest

from changeproof.bootstrap import open_instance
from changeproof.ingest.git import (
    changed_paths,
    open_repository,
    read_commits,
    read_range,
    resolve_range,
)
from changeproof.ingest.tickets import TicketMatcher, parse_ticket_spec
from changeproof.services import releases as releases_service
from tests.conftest import Cli
from tests.integration.gitrepo import GitRepo, every_kind_of_change


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def _create(cli: Cli, home: Path, repo: GitRepo | Path, name: str, *args: str) -> dict[str, object]:
    where = repo.path if isinstance(repo, GitRepo) else repo
    result = cli(
        "release",
        "create",
        "--service",
        "payments",
        "--name",
        name,
        "--repo",
        where,
        *args,
        "--home",
        home,
        "--output",
        "json",
    )
    assert result.code == 0, result.err
    document: dict[str, object] = json.loads(result.out)
    return document


def _commits(doc: dict[str, object]) -> list[dict[str, object]]:
    commits = doc["commits"]
    assert isinstance(commits, list)
    return commits


def test_linear_history_with_tickets_and_an_untracked_commit(
    home: Path, repo: GitRepo, cli: Cli
) -> None:
    first = repo.commit("PAY-1 add the ledger", {"ledger.py": "a\nb\n"})
    second = repo.commit("tidy whitespace", {"ledger.py": "a\nb\nc\n"})
    third = repo.commit("Fix rounding\n\nRefs PAY-2 and OPS-7.", {"money.py": "x\n"})
    doc = _create(cli, home, repo, "1.0", "--to", "main")

    assert doc["from"] is None
    assert doc["to"] == third
    assert doc["from_source"] == "root"
    assert [c["sha"] for c in _commits(doc)] == [first, second, third]
    assert doc["tickets"] == ["OPS-7", "PAY-1", "PAY-2"]
    assert doc["untracked_commits"] == [second]
    by_sha = {c["sha"]: c for c in _commits(doc)}
    assert by_sha[first]["tickets"] == ["PAY-1"]
    assert by_sha[third]["ticket_refs"] == [
        {"key": "PAY-2", "system": "jira", "source": "body", "closes": False},
        {"key": "OPS-7", "system": "jira", "source": "body", "closes": False},
    ]
    assert by_sha[first]["author"] == {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "time": repo.git("log", "-1", "--format=%aI", first),
    }
    assert by_sha[first]["paths"] == ["ledger.py"]
    assert by_sha[first]["merge"] is False


def test_changed_lines_match_git_numstat(home: Path, repo: GitRepo, cli: Cli) -> None:
    repo.commit("PAY-1 start", {"a.txt": "1\n2\n3\n", "logo.png": b"\x89PNG\x00\x01"})
    repo.commit("PAY-2 edit", {"a.txt": "1\nTWO\n3\n4\n", "logo.png": b"\x89PNG\x00\x02"})
    repo.git("mv", "a.txt", "b.txt")
    repo.commit("PAY-3 rename", {"c.txt": "new\n"})
    doc = _create(cli, home, repo, "1.0", "--to", "main")

    for commit in _commits(doc):
        changes = commit["changes"]
        assert isinstance(changes, list)
        ours = sorted(
            (
                "-" if c["added"] is None else str(c["added"]),
                "-" if c["deleted"] is None else str(c["deleted"]),
                c["path"],
            )
            for c in changes
        )
        theirs = sorted(
            (added, deleted, path.split(" => ")[-1].rstrip("}").replace("{", ""))
            for added, deleted, path in repo.numstat(str(commit["sha"]))
        )
        assert ours == theirs
    renamed = _commits(doc)[2]["changes"]
    assert {"path": "b.txt", "added": 0, "deleted": 0, "old_path": "a.txt"} in renamed  # type: ignore[operator]


def test_merges_squash_merges_and_branch_tickets(home: Path, repo: GitRepo, cli: Cli) -> None:
    repo.commit("PAY-1 base")
    repo.git("checkout", "-q", "-b", "feature/pay-42-refunds")
    work = repo.commit("add refunds")
    repo.git("checkout", "-q", "main")
    repo.commit("PAY-2 unrelated fix")
    repo.git(
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge branch 'feature/pay-42-refunds'",
        "feature/pay-42-refunds",
    )
    merge = repo.head()
    squash = repo.commit("Add audit export (#12)")
    doc = _create(cli, home, repo, "1.0", "--to", "main", "--tickets", "jira:PAY,github")
    by_sha = {c["sha"]: c for c in _commits(doc)}

    assert by_sha[merge]["merge"] is True
    assert by_sha[merge]["paths"] == []
    assert len(by_sha[merge]["parents"]) == 2  # type: ignore[arg-type]
    assert by_sha[merge]["ticket_refs"] == [
        {"key": "PAY-42", "system": "jira", "source": "branch", "closes": False}
    ]
    assert by_sha[squash]["tickets"] == ["#12"]
    assert by_sha[work]["tickets"] == []
    # No ticket of its own: it inherits the merge's, which brought it in.
    assert by_sha[work]["inherited_tickets"] == [{"merge": merge, "tickets": ["PAY-42"]}]
    assert work not in doc["untracked_commits"]  # type: ignore[operator]


def test_reverts_and_co_authors(home: Path, repo: GitRepo, cli: Cli) -> None:
    repo.commit("PAY-1 base")
    bad = repo.commit(
        "PAY-2 risky change\n\nCo-authored-by: Grace Hopper <grace@example.com>\n"
        "co-authored-by: Alan Turing <alan@example.com>",
        {"risky.py": "boom\n"},
    )
    repo.git("revert", "--no-edit", bad)
    revert = repo.head()
    doc = _create(cli, home, repo, "1.0", "--to", "main")
    by_sha = {c["sha"]: c for c in _commits(doc)}

    assert by_sha[bad]["co_authors"] == [
        {"name": "Grace Hopper", "email": "grace@example.com"},
        {"name": "Alan Turing", "email": "alan@example.com"},
    ]
    assert by_sha[revert]["reverts"] == bad
    assert str(by_sha[revert]["subject"]).startswith('Revert "PAY-2 risky change"')


def test_from_defaults_to_the_previous_release_of_the_service(
    home: Path, repo: GitRepo, cli: Cli
) -> None:
    first = repo.commit("PAY-1 one")
    _create(cli, home, repo, "1.0", "--to", "main")
    second = repo.commit("PAY-2 two")
    doc = _create(cli, home, repo, "1.1", "--to", "main")
    assert doc["from"] == first
    assert doc["from_source"] == "last-created"
    assert [c["sha"] for c in _commits(doc)] == [second]


def test_range_across_a_merge_base_is_what_git_means_by_from_to(
    home: Path, repo: GitRepo, cli: Cli
) -> None:
    repo.commit("PAY-1 base")
    repo.git("checkout", "-q", "-b", "hotfix")
    hot = repo.commit("PAY-9 hotfix")
    repo.git("checkout", "-q", "main")
    main_work = repo.commit("PAY-3 feature")
    doc = _create(cli, home, repo, "2.0", "--from", "hotfix", "--to", "main")
    assert doc["range"] == {
        "ancestor": False,
        "meaning": "commits reachable from `to` and not from `from` (git's FROM..TO); "
        "`from` is not an ancestor of `to`, so the range starts at their merge base",
    }
    assert [c["sha"] for c in _commits(doc)] == [main_work]
    assert hot not in [c["sha"] for c in _commits(doc)]


def test_a_bare_repository_reads_the_same(
    home: Path, repo: GitRepo, cli: Cli, tmp_path: Path
) -> None:
    repo.commit("PAY-1 one")
    repo.commit("PAY-2 two")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)], check=True)
    doc = _create(cli, home, bare, "1.0", "--to", "main")
    assert doc["tickets"] == ["PAY-1", "PAY-2"]


def test_missing_ref_and_missing_repository_are_clear_errors(
    home: Path, repo: GitRepo, cli: Cli, tmp_path: Path
) -> None:
    repo.commit("PAY-1 one")
    missing = cli(
        "release",
        "create",
        "--service",
        "payments",
        "--name",
        "1",
        "--repo",
        repo.path,
        "--to",
        "v9.9",
        "--home",
        home,
    )
    assert missing.code == 2
    assert "ref 'v9.9' does not name a commit" in missing.err
    nowhere = cli(
        "release",
        "create",
        "--service",
        "payments",
        "--name",
        "1",
        "--repo",
        tmp_path / "nowhere",
        "--to",
        "main",
        "--home",
        home,
    )
    assert nowhere.code == 2
    assert "is not a git repository" in nowhere.err
    assert cli("release", "show", "payments/1", "--home", home).code == 2


def test_ticket_presets_and_overrides(home: Path, repo: GitRepo, cli: Cli) -> None:
    repo.commit("LANG-5 and NOPE-6 in one")
    repo.commit("Fixed #31: trac style")
    repo.commit("fixes octo/cat#4 and GH-8")
    jira = _create(cli, home, repo, "a", "--to", "main", "--tickets", "jira:LANG,IO")
    assert jira["tickets"] == ["LANG-5"]
    everything = _create(
        cli, home, repo, "b", "--from", "main~2", "--to", "main", "--tickets", "trac,github"
    )
    commits = _commits(everything)
    assert commits[0]["ticket_refs"] == [
        {"key": "#31", "system": "trac", "source": "subject", "closes": True},
        {"key": "#31", "system": "github", "source": "subject", "closes": True},
    ]
    assert commits[1]["ticket_refs"] == [
        {"key": "octo/cat#4", "system": "github", "source": "subject", "closes": True},
        {"key": "GH-8", "system": "github", "source": "subject", "closes": False},
    ]
    bad = cli(
        "release",
        "create",
        "--service",
        "payments",
        "--name",
        "c",
        "--repo",
        repo.path,
        "--to",
        "main",
        "--tickets",
        "redmine",
        "--home",
        home,
    )
    assert bad.code == 2
    assert "'redmine' is neither a preset (jira, github, trac)" in bad.err


def test_recreating_a_release_is_idempotent_and_a_different_range_conflicts(
    home: Path, repo: GitRepo, cli: Cli
) -> None:
    repo.commit("PAY-1 one")
    created = _create(cli, home, repo, "1.0", "--from", "main", "--to", "main")
    assert created["created"] is True
    again = _create(cli, home, repo, "1.0", "--from", "main", "--to", "main")
    assert again["created"] is False
    assert again["seq"] == created["seq"]
    repo.commit("PAY-2 two")
    clash = cli(
        "release",
        "create",
        "--service",
        "payments",
        "--name",
        "1.0",
        "--repo",
        repo.path,
        "--from",
        "main~1",
        "--to",
        "main",
        "--home",
        home,
    )
    assert clash.code == 2
    assert "already exists" in clash.err
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0
    assert cli("ledger", "verify", "--home", home).code == 0


def test_recreating_the_newest_release_without_from_is_idempotent(
    home: Path, repo: GitRepo, cli: Cli
) -> None:
    repo.commit("PAY-1 one")
    _create(cli, home, repo, "1.0", "--to", "main")
    second = repo.commit("PAY-2 two")
    created = _create(cli, home, repo, "1.1", "--to", "main")
    # A pipeline re-run asks again with the same arguments: the range it was made from.
    again = _create(cli, home, repo, "1.1", "--to", "main")
    assert again["created"] is False
    assert again["seq"] == created["seq"]
    assert [c["sha"] for c in _commits(again)] == [second]
    first_again = _create(cli, home, repo, "1.0", "--to", "main~1")
    assert first_again["created"] is False
    assert first_again["from_source"] == "root"


def test_from_root_reads_every_commit_even_after_an_earlier_release(
    home: Path, repo: GitRepo, cli: Cli
) -> None:
    first = repo.commit("PAY-1 one")
    _create(cli, home, repo, "1.0", "--to", "main")
    second = repo.commit("PAY-2 two")
    doc = _create(cli, home, repo, "full", "--from-root", "--to", "main")
    assert doc["from"] is None
    assert doc["from_source"] == "root"
    assert [c["sha"] for c in _commits(doc)] == [first, second]
    both = cli(
        "release",
        "create",
        "--service",
        "payments",
        "--name",
        "x",
        "--repo",
        repo.path,
        "--to",
        "main",
        "--from",
        "main~1",
        "--from-root",
        "--home",
        home,
    )
    assert both.code == 2
    assert "give --from or --from-root, not both" in both.err


def test_show_lists_the_artifacts_recorded_for_the_release(
    home: Path, repo: GitRepo, cli: Cli, tmp_path: Path
) -> None:
    repo.commit("PAY-1 one")
    _create(cli, home, repo, "1.0", "--to", "main")
    bundle = tmp_path / "payments-1.0.tar.gz"
    bundle.write_bytes(b"payments 1.0\n")
    other = tmp_path / "unbound.tar.gz"
    other.write_bytes(b"not this release\n")
    bound = cli("attest", "artifact", bundle, "--release", "payments/1.0", "--home", home)
    assert bound.code == 0, bound.err
    free = cli("attest", "artifact", other, "--service", "payments", "--home", home)
    assert free.code == 0, free.err
    shown = cli("release", "show", "payments/1.0", "--home", home, "--output", "json")
    artifacts = json.loads(shown.out)["artifacts"]
    assert [(a["name"], a["size"], a["sha256"]) for a in artifacts] == [
        (bundle.name, 13, hashlib.sha256(b"payments 1.0\n").hexdigest())
    ]
    text = cli("release", "show", "payments/1.0", "--home", home)
    assert f"{bundle.name} (13 bytes) sha256:{artifacts[0]['sha256']}" in text.out
    assert other.name not in text.out


def test_an_earlier_release_keeps_its_commits_when_a_later_one_records_them_again(
    home: Path, repo: GitRepo, cli: Cli
) -> None:
    shared = repo.commit("LANG-5 and PAY-6 in one")
    narrow = _create(cli, home, repo, "1.0", "--to", "main", "--tickets", "jira:LANG")
    wide = _create(cli, home, repo, "full", "--from-root", "--to", "main", "--tickets", "jira")
    assert _commits(narrow)[0]["tickets"] == ["LANG-5"]
    assert _commits(wide)[0]["tickets"] == ["LANG-5", "PAY-6"]
    third = _create(
        cli, home, repo, "again", "--from-root", "--to", "main", "--tickets", "jira:PAY"
    )
    assert _commits(third)[0]["tickets"] == ["PAY-6"]

    def shown(name: str) -> object:
        result = cli("release", "show", f"payments/{name}", "--home", home, "--output", "json")
        return json.loads(result.out)["commits"][0]["tickets"]

    assert (shown("1.0"), shown("full"), shown("again")) == (
        ["LANG-5"],
        ["LANG-5", "PAY-6"],
        ["PAY-6"],
    )
    assert _commits(narrow)[0]["sha"] == shared
    rebuilt = cli("ledger", "rebuild", "--check", "--home", home)
    assert rebuilt.code == 0, rebuilt.out + rebuilt.err


@pytest.mark.parametrize("renames", [None, "copies", "false"])
def test_changed_paths_read_with_git_log_are_those_of_the_tree_diff(
    repo: GitRepo, renames: str | None
) -> None:
    every_kind_of_change(repo)
    (repo.path / ".git" / "info" / "attributes").write_text("*.md binary\nlogo.png diff\n")
    if renames is not None:
        repo.git("config", "diff.renames", renames)
    git = open_repository(repo.path)
    matcher = TicketMatcher(parse_ticket_spec("jira"))
    ends = resolve_range(git, "main", None)
    logged = list(read_commits(git, ends, matcher))  # git log's answers where they are exact
    assert len(logged) == 11
    for commit in logged:
        exact = changed_paths(_git_commit(git, commit.sha), fast=False)  # libgit2's tree diff
        assert commit.paths == exact, commit.subject
    assert list(read_commits(git, ends, matcher, git=None)) == logged  # libgit2 alone
    assert read_range(git, "main", None, matcher).commits == tuple(logged)


def _git_commit(git: pygit2.Repository, sha: str) -> pygit2.Commit:
    commit = git[sha]
    assert isinstance(commit, pygit2.Commit)
    return commit


def test_a_range_recorded_over_several_units_of_work_is_one_release(
    home: Path, repo: GitRepo, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(releases_service, "COMMITS_PER_UNIT", 2)
    shas = [repo.commit(f"PAY-{n} change {n}") for n in range(5)]
    with open_instance(home) as instance:
        before = instance.ledger.size()
    doc = _create(cli, home, repo, "1.0", "--to", "main")
    assert [c["sha"] for c in _commits(doc)] == shas
    shown = cli("release", "show", "payments/1.0", "--home", home, "--output", "json")
    assert json.loads(shown.out)["commits"] == doc["commits"]
    with open_instance(home) as instance:
        assert instance.ledger.size() == before + 6  # five commits, then the release
    again = _create(cli, home, repo, "1.0-again", "--from", f"{shas[0]}~0", "--to", "main")
    assert len(_commits(again)) == 4
    with open_instance(home) as instance:
        assert instance.ledger.size() == before + 7  # the commits were recorded already
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0
    assert cli("ledger", "verify", "--home", home).code == 0
