"""A reader of standard output that goes away (`changeproof … | head -1`) is not a denial."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.gitrepo import GitRepo

CHANGEPROOF = str(Path(sys.executable).parent / "changeproof")
CLOSED_PIPE = 141  # 128 + SIGPIPE, as a shell reports it


@pytest.fixture
def released(sqlite_home: Path, tmp_path: Path, cli: Cli) -> Path:
    repo = GitRepo(tmp_path / "repo")
    for n in range(60):
        repo.commit(f"PAY-{n} change {n}")
    created = cli(
        "release", "create", "--service", "pay", "--name", "1.0", "--repo", repo.path,
        "--to", "HEAD", "--home", sqlite_home, "--actor", "tester", "-o", "json",
    )  # fmt: skip
    assert created.code == 0, created.err
    return sqlite_home


def _with_reader_gone(*args: str | Path) -> tuple[int, str]:
    """Run the real entry point with its stdout's read end closed before it writes a byte."""
    process = subprocess.Popen(
        [CHANGEPROOF, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


@pytest.mark.parametrize(
    "args",
    [
        ("release", "show", "pay/1.0"),
        ("release", "show", "pay/1.0", "-o", "json"),
        ("ledger", "status"),
    ],
    ids=["text", "json", "short-text"],
)
def test_a_closed_pipe_exits_141_quietly_never_1(released: Path, args: tuple[str, ...]) -> None:
    code, stderr = _with_reader_gone(*args, "--home", released)
    assert code == CLOSED_PIPE, stderr
    assert code != 1
    assert "Traceback" not in stderr
    assert "internal error" not in stderr


def test_head_reading_one_line_of_a_long_show_is_not_a_denial(released: Path) -> None:
    process = subprocess.Popen(
        [CHANGEPROOF, "release", "show", "pay/1.0", "--home", str(released)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    assert first.startswith("Release pay/1.0: 60 commits")
    # The whole output may have fitted in the pipe before the reader left: then 0.
    assert process.returncode in (0, CLOSED_PIPE), stderr
    assert "Traceback" not in stderr
