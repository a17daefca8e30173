"""What the CLI's exit codes mean, and the one exception a closed standard output raises.

Kept apart from `render` so the entry point can catch it without importing Rich first.
"""

from __future__ import annotations

from typing import Final

__all__ = ["EXIT_CLOSED_PIPE", "EXIT_CODES", "OutputClosed"]

EXIT_CODES: Final = (
    "Exit codes: 0 done; 1 denied by policy; 2 usage, configuration or input error;\n"
    "3 a store or service is unavailable; 4 integrity failure; 70 internal bug; 141 the reader\n"
    "of standard output went away (a closed pipe)."
)

# What a shell reports for a process SIGPIPE killed (128 + 13): a pipeline's reader that
# stopped early (`| head -1`) is not the policy's "denied", which Python's default 1 would say.
EXIT_CLOSED_PIPE: Final = 141


class OutputClosed(Exception):
    """The reader of standard output (or error) went away, as `| head -1` does.

    Not an OSError on purpose: Typer turns an EPIPE OSError into exit 1, "denied by policy".
    """
