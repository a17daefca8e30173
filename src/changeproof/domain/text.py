"""Text from outside (commit messages, names, file names, payload fields) made safe to show.

A commit subject or an artifact name is whatever its author typed, and may hold terminal
control sequences: an ESC starting a CSI sequence that clears the screen or recolours what
follows, an OSC 8 hyperlink whose target the reader never sees, a BEL, a carriage return that
overwrites the start of the line, a right-to-left override that reorders what is read. Shown
verbatim on a terminal they are obeyed, not read. `show_controls` writes each such character
as a visible escape instead (`\\x1b`, `\\u202e`), keeping newline and tab.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["show_controls"]

# C0 controls but tab and newline, DEL, C1 controls (U+0080-U+009F: 0x9B is a one-character
# CSI, 0x9D an OSC), and the invisible bidirectional formatting characters (Trojan Source).
_CONTROLS: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def show_controls(text: str) -> str:
    """`text` with every control character but newline and tab written as a visible escape."""
    return _CONTROLS.sub(_escape, text)
