"""Writing results: JSON or Rich text to stdout; progress and errors to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

__all__ = ["OutputClosed", "emit_json", "emit_text", "err", "out", "progress_bar"]


class OutputClosed(Exception):
    """The reader of standard output (or error) went away, as `| head -1` does.

    Not an OSError on purpose: Typer turns an EPIPE OSError into exit 1, "denied by policy".
    """


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # Rich's own answer is SystemExit(1), the code for "denied by policy": hand the
        # closed pipe to the CLI's entry point instead, which exits with its own code.
        raise OutputClosed


out = _Console(highlight=False, soft_wrap=True)
err = _Console(stderr=True, highlight=False, soft_wrap=True)


def emit_json(document: object) -> None:
    emit_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def emit_text(text: str) -> None:
    """A document as it is (JSON, Markdown, HTML), with no styling."""
    try:
        sys.stdout.write(text)
    except BrokenPipeError as e:
        raise OutputClosed from e


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when it is a terminal; nothing in pipes and CI logs."""
    if not err.is_terminal or total < 10_000:
        yield None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)
