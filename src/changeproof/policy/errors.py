"""Policy-file errors: each problem names the file, the line and the key a person must fix.

ChangeproofError
└── PolicyError     exit 2  the policy file is malformed, or means something impossible

One PolicyError carries every problem a pass found (a person fixes them in one go); its
`path`, `line` and `key` are those of the first.

A file given as a policy may be anything (`/etc/shadow`, a key file): a value from it is
echoed only as an `excerpt`, at most 40 characters, so an error never prints the file back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from changeproof.domain.errors import ChangeproofError

__all__ = ["EXCERPT_CHARS", "PolicyError", "PolicyProblem", "excerpt"]

EXCERPT_CHARS: Final = 40


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """`text`, or its first `limit` characters and "…": how a value from the file is shown."""
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One thing wrong with a policy file: `FILE:LINE: key: problem`."""

    path: str  # the file as the user named it (or where the document came from)
    line: int | None  # 1-based; None when the document has no lines (a recorded policy)
    key: str | None  # dotted key path, e.g. environments.production.controls[1]
    problem: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return (
            f"{where}: {self.problem}"
            if self.key is None
            else f"{where}: {self.key}: {self.problem}"
        )

    def to_data(self) -> dict[str, str | int | None]:
        return {"path": self.path, "line": self.line, "key": self.key, "problem": self.problem}


class PolicyError(ChangeproofError):
    """The policy file cannot be used as it is; every problem found is in `problems`."""

    exit_code = 2

    def __init__(self, problems: Iterable[PolicyProblem], *, hint: str | None = None) -> None:
        found = tuple(problems)
        if not found:
            raise ValueError("a PolicyError needs at least one problem")
        self.problems = found
        super().__init__("\n".join(str(p) for p in found), hint=hint)

    @classmethod
    def at(
        cls, path: str, line: int | None, key: str | None, problem: str, *, hint: str | None = None
    ) -> PolicyError:
        return cls([PolicyProblem(path, line, key, problem)], hint=hint)

    @property
    def path(self) -> str:
        return self.problems[0].path

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    @property
    def key(self) -> str | None:
        return self.problems[0].key
