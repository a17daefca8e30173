"""What `--help` shows and `--debug` prints (issue 10, section 9): a flag is shown as a
flag (`--urgent`, not `--urgent <bool>`) on every command, and `--debug` is not drowned in
Alembic's migration lines."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
import typer
import typer.core

from changeproof.cli.main import command as cli_command
from tests.conftest import Cli


def _command_paths() -> list[list[str]]:
    """Every command and group of the CLI, as the words a user types ([] is the root)."""
    paths: list[list[str]] = []
    stack: list[tuple[list[str], object]] = [([], cli_command())]
    while stack:
        path, command = stack.pop()
        paths.append(path)
        children = getattr(command, "commands", {})
        stack.extend(([*path, name], child) for name, child in children.items())
    return sorted(paths)


COMMANDS = _command_paths()
_FLAG_WITH_VALUE = re.compile(r"(--[a-z][a-z-]*)(?:\s+--[a-z][a-z-]*)?\s+<bool>")


def test_the_walk_finds_the_commands_with_flags() -> None:
    assert ["gate"] in COMMANDS
    assert ["change", "open"] in COMMANDS
    assert ["decision", "list"] in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "changeproof")
def test_no_flag_is_rendered_with_a_value(
    path: list[str], cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one line per option
    result = cli(*path, "--help")
    assert result.code == 0, result.err
    shown = result.out + result.err
    assert "--help" in shown
    assert _FLAG_WITH_VALUE.search(shown) is None, _FLAG_WITH_VALUE.findall(shown)


def test_every_bool_option_is_a_flag() -> None:
    """A bool option that is not a flag would take `--urgent true`; none should."""
    stack: list[tuple[str, object]] = [("", cli_command())]
    while stack:
        path, command = stack.pop()
        for param in getattr(command, "params", []):
            if isinstance(param, typer.core.TyperOption) and param.type_descriptor.annotation in (
                bool,
                bool | None,
            ):
                assert param.is_flag, f"{path} {param.opts}"
        children = getattr(command, "commands", {})
        stack.extend((f"{path} {name}", child) for name, child in children.items())


def test_debug_shows_no_alembic_info_lines(
    tmp_path: Path, cli: Cli, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result = cli("--debug", "init", "--home", tmp_path / "i", "--actor", "x")
    assert result.code == 0, result.err
    chatter = [r.getMessage() for r in caplog.records if r.name.startswith("alembic")]
    assert chatter == []
    assert "Running upgrade" not in result.err
