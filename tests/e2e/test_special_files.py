"""A FIFO or a device handed to a command as a file is refused at once, never read.

Reading `/dev/zero` never ends and opening a FIFO blocks until a writer comes, so each run
has a timeout: a regression fails the test instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli, ints
from tests.integration.gitrepo import GitRepo

CHANGEPROOF = str(Path(sys.executable).parent / "changeproof")
RELEASE = "pay/1.0"


@pytest.fixture
def setup(sqlite_home: Path, tmp_path: Path, cli: Cli) -> tuple[Path, Path]:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("PAY-1 first")
    created = cli(
        "release", "create", "--service", "pay", "--name", "1.0", "--repo", repo.path,
        "--to", "HEAD", "--home", sqlite_home, "--actor", "tester",
    )  # fmt: skip
    assert created.code == 0, created.err
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    return sqlite_home, fifo


def _run(home: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHANGEPROOF, *map(str, args), "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _commands(special: Path) -> list[list[str | Path]]:
    return [
        ["attest", "artifact", special, "--service", "pay", "--release", RELEASE],
        ["attest", "test-results", special, "--release", RELEASE],
        ["gate", "--release", RELEASE, "--env", "production", "--policy", special],
        ["ledger", "verify", "--checkpoint", special],
        ["ledger", "prove", "0", "--checkpoint", special],
        ["ledger", "consistency", "--old", special],
        ["change", "open", "--release", RELEASE, "--env", "production", "--plan", special],
        ["change", "open", "--release", RELEASE, "--env", "production", "--rollback", special],
        ["change", "open", "--release", RELEASE, "--env", "production", "--dry-run-output"],
        ["actor", "sync", special],
    ]


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
@pytest.mark.parametrize("index", range(10))
def test_a_fifo_or_device_is_refused_naming_it(
    setup: tuple[Path, Path], kind: str, index: int
) -> None:
    home, fifo = setup
    special = fifo if kind == "fifo" else Path("/dev/zero")
    args = _commands(special)[index]
    if args[-1] == "--dry-run-output":
        args = [*args, special]
    before = ints(home, "SELECT tree_size FROM ledger_head")[0]
    try:
        done = _run(home, *args)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`changeproof {' '.join(map(str, args))}` hung on {special}")
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip().splitlines()[0]
    assert line.startswith("error: ")
    assert str(special) in line
    expected = "a FIFO" if kind == "fifo" else "device"
    assert expected in line
    assert ints(home, "SELECT tree_size FROM ledger_head")[0] == before


def test_policy_validate_refuses_a_fifo(setup: tuple[Path, Path]) -> None:
    _, fifo = setup
    done = subprocess.run(
        [CHANGEPROOF, "policy", "validate", "--policy", str(fifo)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert f"{fifo} is a FIFO" in done.stderr


@pytest.mark.parametrize("role", ["export", "public-key", "checkpoint"])
def test_the_offline_verifier_refuses_a_fifo_or_device(
    setup: tuple[Path, Path], tmp_path: Path, cli: Cli, role: str
) -> None:
    home, fifo = setup
    export = tmp_path / "ledger.jsonl"
    assert cli("ledger", "export", "--out", export, "--home", home).code == 0
    key = home / "public-key.pem"
    for special in (fifo, Path("/dev/zero")):
        args = {
            "export": [special, "--public-key", key],
            "public-key": [export, "--public-key", special],
            "checkpoint": [export, "--public-key", key, "--checkpoint", special],
        }[role]
        done = subprocess.run(
            [sys.executable, "-m", "changeproof.verify", *map(str, args)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert f"{special} is a" in done.stderr
        assert "Traceback" not in done.stderr
