"""Outside text shown as typed: controls become visible escapes, the rest is untouched."""

from __future__ import annotations

import io
import re

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from changeproof.cli.render import safe
from changeproof.domain.text import show_controls
from changeproof.reports.rfc import _md_cell

OBEYED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def test_each_kind_of_control_is_written_as_an_escape() -> None:
    assert show_controls("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert show_controls("\x1b]8;;https://e\x07x") == "\\x1b]8;;https://e\\x07x"
    assert show_controls("\x9b31m \u202e \r \x00 \x7f") == "\\x9b31m \\u202e \\x0d \\x00 \\x7f"
    assert show_controls("line\n\ttab") == "line\n\ttab"


@given(st.text())
def test_no_control_survives_and_plain_text_is_untouched(text: str) -> None:
    shown = show_controls(text)
    assert OBEYED.search(shown) is None
    if OBEYED.search(text) is None:
        assert shown == text


@given(st.text().map(lambda t: t.replace("\t", " ")))  # Rich expands tabs to spaces
def test_rich_prints_safe_text_exactly_as_shown(text: str) -> None:
    console = Console(file=io.StringIO(), width=10_000, highlight=False, emoji=False)
    console.print(safe(text), end="", soft_wrap=True)
    printed = console.file.getvalue()  # type: ignore[attr-defined]  # the StringIO above
    assert printed == show_controls(text)


@given(st.text())
def test_a_markdown_cell_holds_no_active_character(text: str) -> None:
    cell = _md_cell(text)
    unescaped = re.sub(r"\\.", "", cell)
    assert not set(unescaped) & set("<>[]`*_|~\\\n\r")
    assert OBEYED.search(cell) is None
