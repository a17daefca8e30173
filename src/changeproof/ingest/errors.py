"""The error every reader raises, and only that: it names the file and where in it."""

from __future__ import annotations

from changeproof.domain.errors import InputError

__all__ = ["ReadError"]


class ReadError(InputError):
    """A file a reader cannot accept. `where` is `line N[, column M]` or a JSON pointer."""

    def __init__(
        self,
        source: str,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
        pointer: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = ""
        if line is not None:
            where = f":{line}" + (f":{column}" if column is not None else "")
        elif pointer is not None:
            where = f" at {pointer or '/'}"
        super().__init__(f"{source}{where}: {problem}", hint=hint)
        self.source = source
        self.problem = problem
        self.line = line
        self.column = column
        self.pointer = pointer
