"""Bad input gets a one-line error naming the thing, the documented exit code, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli, ints

CHANGEPROOF = str(Path(sys.executable).parent / "changeproof")


def _error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, f"expected one error line (and a hint), got: {stderr!r}"
    assert lines[0].startswith("error: ")
    return lines[0]


def _size(home: Path) -> int:
    return ints(home, "SELECT tree_size FROM ledger_head")[0]


def test_unknown_instance_is_a_usage_error_naming_the_folder(tmp_path: Path, cli: Cli) -> None:
    missing = tmp_path / "nowhere"
    result = cli("ledger", "status", "--home", missing)
    assert result.code == 2
    assert str(missing) in _error_line(result.err)


def test_instance_is_found_through_the_environment_then_the_working_folder(
    sqlite_home: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHANGEPROOF_HOME", str(sqlite_home))
    assert json.loads(cli("ledger", "status", "-o", "json").out)["tree_size"] == 1
    monkeypatch.delenv("CHANGEPROOF_HOME")
    monkeypatch.chdir(tmp_path)
    result = cli("ledger", "status")
    assert result.code == 2
    assert ".changeproof" in _error_line(result.err)
    sqlite_home.rename(tmp_path / ".changeproof")
    assert cli("ledger", "status").code == 0


@pytest.mark.parametrize("problem", ["missing", "directory", "unreadable"])
def test_attest_rejects_a_bad_file_and_records_nothing(
    sqlite_home: Path, tmp_path: Path, cli: Cli, problem: str
) -> None:
    good = tmp_path / "good.bin"
    good.write_bytes(b"fine")
    bad = {
        "missing": tmp_path / "missing.bin",
        "directory": tmp_path,
        # Root reads any file mode; the kernel still refuses reads of this one (EIO).
        "unreadable": Path("/proc/self/mem"),
    }[problem]
    before = _size(sqlite_home)
    result = cli("attest", "artifact", good, bad, "--service", "s", "--home", sqlite_home)
    assert result.code == 2
    assert str(bad) in _error_line(result.err)
    assert _size(sqlite_home) == before


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("garbage\n", "is not a signed checkpoint"),
        ("origin\n1\nAAAA\n\n\u2014 test.example/ledger AAAAAAAA\n", "is not a signed checkpoint"),
    ],
)
def test_malformed_checkpoint_files_are_input_errors(
    sqlite_home: Path, tmp_path: Path, cli: Cli, content: str, words: str
) -> None:
    note = tmp_path / "bad-checkpoint.txt"
    note.write_text(content)
    for args in (
        ["ledger", "verify", "--checkpoint", note],
        ["ledger", "prove", "0", "--checkpoint", note],
    ):
        result = cli(*args, "--home", sqlite_home)
        assert result.code == 2
        line = _error_line(result.err)
        assert str(note) in line
        assert words in line


def test_checkpoint_path_that_is_a_directory_or_missing(
    sqlite_home: Path, tmp_path: Path, cli: Cli
) -> None:
    for path, words in ((tmp_path, "is a directory"), (tmp_path / "nope.txt", "does not exist")):
        result = cli("ledger", "verify", "--checkpoint", path, "--home", sqlite_home)
        assert result.code == 2
        assert words in _error_line(result.err)


def test_checkpoint_signed_by_another_instance_is_a_wrong_key(
    sqlite_home: Path, tmp_path: Path, cli: Cli
) -> None:
    other = tmp_path / "other"
    assert cli("init", "--home", other, "--origin", "test.example/ledger").code == 0
    foreign = tmp_path / "foreign.txt"
    assert cli("ledger", "checkpoint", "--out", foreign, "--home", other).code == 0
    result = cli("ledger", "consistency", "--old", foreign, "--home", sqlite_home)
    assert result.code == 2
    assert "not signed by this instance's key" in _error_line(result.err)


def test_unreachable_database_exits_3_and_init_leaves_nothing(tmp_path: Path, cli: Cli) -> None:
    home = tmp_path / "pg-instance"
    result = cli("init", "--home", home, "--database-url", "postgresql://postgres@127.0.0.1:1/test")
    assert result.code == 3
    assert "cannot reach the database" in _error_line(result.err)
    assert not home.exists()


def test_existing_instance_with_database_gone_exits_3(sqlite_home: Path, cli: Cli) -> None:
    config = sqlite_home / "config.toml"
    config.write_text(
        config.read_text().replace(
            "sqlite:///changeproof.db", "postgresql://postgres@127.0.0.1:1/x"
        )
    )
    result = cli("ledger", "verify", "--home", sqlite_home)
    assert result.code == 3
    assert "127.0.0.1:1" in _error_line(result.err)


def test_init_refuses_to_overwrite_a_signing_key(sqlite_home: Path, cli: Cli) -> None:
    key = sqlite_home / "signing-key.pem"
    original = key.read_bytes()
    assert key.stat().st_mode & 0o777 == 0o600
    result = cli("init", "--home", sqlite_home)
    assert result.code == 2
    assert "refusing to overwrite" in _error_line(result.err)
    assert key.read_bytes() == original


def test_init_upgrade_migrates_an_existing_instance(sqlite_home: Path, cli: Cli) -> None:
    result = cli("init", "--upgrade", "--home", sqlite_home, "-o", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["created"] is False


@pytest.mark.parametrize("seq", ["-1", "5", "abc"])
def test_prove_rejects_an_entry_outside_the_tree(sqlite_home: Path, cli: Cli, seq: str) -> None:
    result = cli("ledger", "prove", seq, "--home", sqlite_home)
    assert result.code == 2


def test_exit_codes_through_the_installed_entry_point(tmp_path: Path) -> None:
    version = subprocess.run(
        [CHANGEPROOF, "--version"], capture_output=True, text=True, check=False
    )
    assert version.returncode == 0
    assert version.stdout.startswith("changeproof ")
    unknown = subprocess.run(
        [CHANGEPROOF, "frobnicate"], capture_output=True, text=True, check=False
    )
    assert unknown.returncode == 2
    missing = subprocess.run(
        [CHANGEPROOF, "ledger", "verify", "--home", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2
    assert "no changeproof instance" in missing.stderr
