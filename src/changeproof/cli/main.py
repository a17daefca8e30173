"""The `changeproof` command: wiring of sub-commands and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, MutableMapping
from functools import cache
from typing import TYPE_CHECKING, Annotated, Final

import typer
import typer.main
from typer.core import TyperGroup, TyperOption

from changeproof import __version__
from changeproof.cli.exits import EXIT_CLOSED_PIPE, EXIT_CODES, OutputClosed
from changeproof.cli.names import CLI_NAMES
from changeproof.cli.remote import use_server
from changeproof.domain.errors import ChangeproofError

if TYPE_CHECKING:
    from rich.console import Console
    from typer import _click as click  # Typer's vendored click, named for the types only

__all__ = ["EXIT_CLOSED_PIPE", "app", "command", "main", "run"]

app = typer.Typer(
    name="changeproof",
    help=f"Compliance as code for continuous delivery.\n\n{EXIT_CODES}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Every sub-command, in help order: the module that defines it and its Typer app (a group)
# or function (a command). A module is imported only when its command runs (or --help lists
# it), so `changeproof ledger status` never loads the readers, git or the policy engine.
SUBCOMMANDS: Final = {
    "init": ("changeproof.cli.init", "init"),
    "demo": ("changeproof.cli.demo", "demo"),
    "gate": ("changeproof.cli.gate", "gate"),
    "ledger": ("changeproof.cli.ledger", "app"),
    "attest": ("changeproof.cli.attest", "app"),
    "release": ("changeproof.cli.release", "app"),
    "decision": ("changeproof.cli.decision", "app"),
    "policy": ("changeproof.cli.policy", "app"),
    "actor": ("changeproof.cli.actor", "app"),
    "change": ("changeproof.cli.change", "app"),
    "deploy": ("changeproof.cli.deploy", "app"),
    "token": ("changeproof.cli.token", "app"),
    "serve": ("changeproof.cli.serve", "serve"),
}


def _load(name: str) -> click.Command:
    module, attribute = SUBCOMMANDS[name]
    target = getattr(importlib.import_module(module), attribute)
    built: click.Command
    if isinstance(target, typer.Typer):
        built = typer.main.get_group(target)  # as add_typer would: no completion options
    else:  # a plain command function
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        built = typer.main.get_command(single)
    built.name = name
    return built


class _LazyCommands(MutableMapping[str, "click.Command"]):
    """The root group's commands: every name known up front, each built on first use."""

    def __init__(self, load: Callable[[str], click.Command]) -> None:
        self._load = load
        self._built: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._built:
            if name not in SUBCOMMANDS:
                raise KeyError(name)
            self._built[name] = self._load(name)
        return self._built[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(SUBCOMMANDS)

    def __len__(self) -> int:
        return len(SUBCOMMANDS)


_debug = False

_typed = TyperOption.display_type_rich


def _flag_untyped(self: TyperOption, ctx: typer.Context) -> str | None:
    """A flag takes no value, so its help shows none: `--urgent`, not `--urgent <bool>`
    (Typer's Rich help prints every option's type, --help's own included)."""
    return None if self.is_flag else _typed(self, ctx)


# One place for every command and every future flag; tests/e2e/test_cli_help.py walks the
# command tree and fails on a flag rendered with a value, should Typer change under it.
# The method is typed with Typer's private vendored click Context, typer.Context's base.
TyperOption.display_type_rich = _flag_untyped  # type: ignore[method-assign,assignment]


def _version(value: bool) -> None:
    if value:
        print(f"changeproof {__version__}")  # noqa: T201 - the CLI's own output
        raise typer.Exit


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            metavar="URL",
            help="Call this changeproof server (default: $CHANGEPROOF_URL) with the token in "
            "$CHANGEPROOF_TOKEN, instead of opening a local instance.",
            show_default=False,
        ),
    ] = None,
) -> None:
    global _debug
    use_server(server)
    _debug = debug or bool(os.environ.get("CHANGEPROOF_DEBUG"))
    logging.basicConfig(level=logging.DEBUG if _debug else logging.WARNING, stream=sys.stderr)
    # Alembic's INFO lines (one per migration step) are noise under --debug, which is for
    # changeproof's own story and tracebacks; its warnings still show.
    logging.getLogger("alembic").setLevel(logging.WARNING)


@cache
def command() -> TyperGroup:
    """The click command tree, built once per process (Typer would rebuild it every call)."""
    root = typer.main.get_group(app)
    root.commands = _LazyCommands(_load)
    return root


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (for the entry point, the demo and tests)."""
    try:
        result = command().main(args=argv, prog_name="changeproof", standalone_mode=False)
    except (OutputClosed, BrokenPipeError):
        _silence_stdout()
        return EXIT_CLOSED_PIPE
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        _err().print("Aborted.")
        return 130
    except typer.TyperException as e:
        # Typer's (vendored click) usage errors: bad option, missing argument, bad value.
        show = getattr(e, "show", None)
        if callable(show):
            show()
        else:
            _err().print(f"error: {e}", markup=False)
        return 2
    except ChangeproofError as e:
        if _debug:
            _err().print_exception()
        message, hint = e.rendered(CLI_NAMES)
        _err().print(f"error: {message}", markup=False)
        if hint:
            _err().print(f"hint: {hint}", markup=False)
        return e.exit_code
    except Exception as e:
        if _debug:
            _err().print_exception()
        _err().print(
            f"internal error ({type(e).__name__}): this is a bug in changeproof; "
            "rerun with --debug for the traceback",
            markup=False,
        )
        return 70
    return result if isinstance(result, int) else 0


def _err() -> Console:
    from changeproof.cli.render import err  # Rich loads only when there is something to say

    return err


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's last flush of what is still
    buffered does not fail again on the closed pipe (and print a traceback)."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # not a real file (a test's capture): nothing to silence
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def main() -> None:
    code = run()
    try:
        # A reader gone away shows first here when the output fitted in the buffer.
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        # A command that already failed keeps its own code; only a success is overridden.
        code = EXIT_CLOSED_PIPE if code == 0 else code
    sys.exit(code)
