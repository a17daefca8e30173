"""The `changeproof` command: wiring of sub-commands and the one place errors become exit codes."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer
from typer.core import TyperOption

from changeproof import __version__
from changeproof.cli import actor, attest, change, decision, demo, deploy, ledger, policy, release
from changeproof.cli.gate import gate
from changeproof.cli.init import init
from changeproof.cli.render import OutputClosed, err
from changeproof.cli.token import app as token_app
from changeproof.domain.errors import ChangeproofError

__all__ = ["EXIT_CLOSED_PIPE", "app", "main", "run"]

EXIT_CODES = """Exit codes: 0 done; 1 denied by policy; 2 usage, configuration or input error;
3 a store or service is unavailable; 4 integrity failure; 70 internal bug; 141 the reader
of standard output went away (a closed pipe)."""

# What a shell reports for a process SIGPIPE killed (128 + 13): a pipeline's reader that
# stopped early (`| head -1`) is not the policy's "denied", which Python's default 1 would say.
EXIT_CLOSED_PIPE = 141

app = typer.Typer(
    name="changeproof",
    help=f"Compliance as code for continuous delivery.\n\n{EXIT_CODES}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("init")(init)
app.command("demo")(demo.demo)
app.command("gate")(gate)
app.add_typer(ledger.app, name="ledger")
app.add_typer(attest.app, name="attest")
app.add_typer(release.app, name="release")
app.add_typer(decision.app, name="decision")
app.add_typer(policy.app, name="policy")
app.add_typer(actor.app, name="actor")
app.add_typer(change.app, name="change")
app.add_typer(deploy.app, name="deploy")
app.add_typer(token_app, name="token")

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
) -> None:
    global _debug
    _debug = debug or bool(os.environ.get("CHANGEPROOF_DEBUG"))
    logging.basicConfig(level=logging.DEBUG if _debug else logging.WARNING, stream=sys.stderr)
    # Alembic's INFO lines (one per migration step) are noise under --debug, which is for
    # changeproof's own story and tracebacks; its warnings still show.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (for the entry point, the demo and tests)."""
    try:
        result = app(args=argv, prog_name="changeproof", standalone_mode=False)
    except (OutputClosed, BrokenPipeError):
        _silence_stdout()
        return EXIT_CLOSED_PIPE
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        err.print("Aborted.")
        return 130
    except typer.TyperException as e:
        # Typer's (vendored click) usage errors: bad option, missing argument, bad value.
        show = getattr(e, "show", None)
        if callable(show):
            show()
        else:
            err.print(f"error: {e}", markup=False)
        return 2
    except ChangeproofError as e:
        if _debug:
            err.print_exception()
        err.print(f"error: {e.message}", markup=False)
        if e.hint():
            err.print(f"hint: {e.hint()}", markup=False)
        return e.exit_code
    except Exception as e:
        if _debug:
            err.print_exception()
        err.print(
            f"internal error ({type(e).__name__}): this is a bug in changeproof; "
            "rerun with --debug for the traceback",
            markup=False,
        )
        return 70
    return result if isinstance(result, int) else 0


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
