"""Services speak no interface's language; the CLI can name everything they name.

Every string in the services and the layers under them is read from the source: none may
spell a CLI flag or command. Every field (`Field("status")`) and operation
(`operation("change review", ...)`) they name instead must map, through the CLI's names,
to a flag or command that exists, with every option the operation gives.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import typer.core

from changeproof.cli.main import command as cli_command
from changeproof.cli.names import CLI_NAMES, flag
from changeproof.domain.errors import Field, UsageError, operation

SRC = Path(__file__).resolve().parents[2] / "src" / "changeproof"
# Where services and what they call live. Control reasons (policy/controls) are recorded in
# decisions as prose and policy/templates.py writes a commented policy file for people to
# edit, and domain/identity.py words those reasons' advice on aliases; none of it reaches a
# person as an error.
LAYERS = ("services", "store", "domain", "ledger", "policy", "reports")
EXEMPT = (
    "policy/controls/",
    "policy/templates.py",
    "store/migrations/",
    "domain/identity.py",
)
CLI_FLAG = re.compile(r"(?<![\w`-])--[a-z][a-z-]*")
CLI_COMMAND = re.compile(r"`changeproof [a-z]")


def _modules() -> list[Path]:
    return sorted(
        path
        for layer in LAYERS
        for path in (SRC / layer).rglob("*.py")
        if not any(part in path.as_posix() for part in EXEMPT)
    )


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def _imports_marker(tree: ast.Module, name: str) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "changeproof.domain.errors"
        and any(alias.name == name for alias in node.names)
        for node in tree.body
    )


def _calls(name: str) -> list[tuple[Path, ast.Call]]:
    """Calls of the marker `name` (errors' Field or operation, not pydantic's Field)."""
    found: list[tuple[Path, ast.Call]] = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if _imports_marker(tree, name):
            found.extend(
                (path, node)
                for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == name
            )
    return found


def _cli() -> dict[str, set[str]]:
    """Every command path ("" is the root) with its long options."""
    found: dict[str, set[str]] = {}
    stack: list[tuple[str, object]] = [("", cli_command())]
    while stack:
        path, command = stack.pop()
        found[path] = {"--help"} | {
            name
            for param in getattr(command, "params", [])
            if isinstance(param, typer.core.TyperOption)
            for name in [*param.opts, *param.secondary_opts]
        }
        children = getattr(command, "commands", {})
        stack.extend((f"{path} {name}".strip(), child) for name, child in children.items())
    return found


CLI = _cli()
ALL_FLAGS = set().union(*CLI.values())


def test_the_scan_finds_the_services_and_their_markers() -> None:
    assert SRC / "services" / "gate.py" in _modules()
    assert len(_calls("Field")) > 30
    assert len(_calls("operation")) > 30


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.relative_to(SRC).as_posix())
def test_no_string_names_a_cli_flag_or_command(path: Path) -> None:
    for line, text in _strings(path):
        assert CLI_FLAG.search(text) is None, f"{path.name}:{line}: {text!r}"
        assert CLI_COMMAND.search(text) is None, f"{path.name}:{line}: {text!r}"


def _literal(node: ast.expr, where: str) -> str:
    assert isinstance(node, ast.Constant), where
    assert isinstance(node.value, str), where
    return node.value


def test_every_field_a_service_names_is_a_flag_of_the_cli() -> None:
    for path, call in _calls("Field"):
        where = f"{path.name}:{call.lineno}"
        if isinstance(call.args[0], ast.Name):  # a parameter: its callers pass literals
            continue
        name = _literal(call.args[0], where)
        assert flag(name) in ALL_FLAGS, f"{where}: field {name!r} is no flag ({flag(name)})"


def test_every_operation_a_service_names_is_a_command_with_those_options() -> None:
    for path, call in _calls("operation"):
        where = f"{path.name}:{call.lineno}"
        words = _literal(call.args[0], where)
        assert words in CLI, f"{where}: no command `changeproof {words}`"
        for keyword in call.keywords:
            assert keyword.arg is not None, where  # **options: checked where they are built
            assert flag(keyword.arg) in CLI[words], f"{where}: {words} has no {flag(keyword.arg)}"


def test_an_error_renders_its_fields_and_operations_in_each_interface() -> None:
    error = UsageError(
        f"{Field('pipeline_run')} must be an URL; {Field('environment')} too",
        hint=f"see {operation('actor grant', 'bob', role='admin', pipeline=None)}",
    )
    assert error.message == "pipeline_run must be an URL; environment too"
    assert error.hint() == "see `actor grant bob role=admin pipeline`"
    assert error.fields == ["pipeline_run", "environment"]
    assert error.rendered(CLI_NAMES) == (
        "--pipeline-run must be an URL; --env too",
        "see `changeproof actor grant bob --role admin --pipeline`",
    )
    assert str(error) == error.message


def test_quoted_outside_text_cannot_forge_a_marker() -> None:
    forged = "evil\x1fo:ledger rebuild\x1f.sarif"
    error = UsageError(f"{forged}: not valid JSON ({Field('format')})")
    message, _ = error.rendered(CLI_NAMES)
    assert message == f"{forged}: not valid JSON (--format)"
    assert "changeproof ledger rebuild" not in message
