"""Writing results: JSON or Rich text to stdout; progress and errors to stderr.

Text from outside (commit messages, names, file names, payload fields, reasons quoting
them) is shown as it is, never obeyed:
- Every string Rich renders, through `out`, `err` or a Table cell, has its control
  characters written as visible escapes (`show_controls`): an ESC, an OSC 8 hyperlink, a
  BEL, a carriage return in a commit subject reach the terminal as `\\x1b`, never raw.
- Rich markup is ours alone: outside text interpolated into a markup string goes through
  `safe()`, so `[/bold]` in a subject prints as typed instead of crashing the command, and
  `[link=…]` shows instead of hiding a hyperlink. Prints with `markup=False` need nothing.
- JSON writes C1 controls and bidirectional overrides as `\\u` escapes (json.dumps already
  escapes C0): the same value for a program, nothing a terminal obeys.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.text import Text

from changeproof.cli.exits import OutputClosed
from changeproof.domain.text import show_controls

__all__ = [
    "OutputClosed",
    "emit_json",
    "emit_text",
    "err",
    "out",
    "progress_bar",
    "safe",
    "show_controls",
]


class _Console(Console):
    def on_broken_pipe(self) -> None:
        # Rich's own answer is SystemExit(1), the code for "denied by policy": hand the
        # closed pipe to the CLI's entry point instead, which exits with its own code.
        raise OutputClosed

    def render_str(self, text: str, **options: Any) -> Text:
        # Every str Rich renders passes here (print's arguments, Table cells, titles): the
        # one place controls are neutralised. Our own markup never holds a control character.
        return super().render_str(show_controls(text), **options)


# emoji=False: `:warning:` in a commit subject is text, not an icon.
out = _Console(highlight=False, soft_wrap=True, emoji=False)
err = _Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def safe(value: object) -> str:
    """Outside text ready to interpolate into Rich markup: shown as typed, never styling.

    Rich's `escape` doubles a trailing backslash, in case a tag follows; no `safe()` value is
    followed directly by a tag here, so the doubling would only print a backslash twice.
    """
    shown = show_controls(str(value))
    escaped = escape(shown)
    if shown.endswith("\\") and escaped.endswith("\\\\") and not shown.endswith("\\\\"):
        return escaped[:-1]
    return escaped


def emit_json(document: object) -> None:
    emit_text(
        _JSON_CONTROLS.sub(_json_escape, json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
    )


# Outside JSON strings nothing but ASCII is written, so every match is inside a string.
_JSON_CONTROLS = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


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
