"""Path globs as CODEOWNERS and .gitignore write them, over repository-relative paths.

    *          any characters within one path segment (never '/')
    ?          one character within a segment
    **         a whole segment only: any number of directories (`a/**/b`, `**/x`), or, last,
               everything below (`db/migrations/**`)
    no '/'     a pattern without '/' matches a name at any depth (`*.sql`, `Dockerfile`)
    directory  a pattern that matches a directory matches everything inside it
               (`db/migrations` matches `db/migrations/0001.sql`), as in .gitignore

Everything else is literal (as in CODEOWNERS: no `[a-z]` classes, no `!` negation).
Patterns that could never match a path git reports are refused: a leading '/', a
trailing '/', '.' or '..' segments, empty segments ('a//b'), '***' and '**' inside a segment.
"""

from __future__ import annotations

import re
from functools import lru_cache

from changeproof.policy.errors import excerpt

__all__ = ["GlobError", "compile_glob", "glob_problem", "matches"]


class GlobError(ValueError):
    """A pattern that is malformed or could never match; the message says why and what to write."""


def glob_problem(pattern: str) -> str | None:
    """Why `pattern` is refused, in words with a fix; None when it is well-formed."""
    if not pattern:
        return "a path pattern cannot be empty"
    if any(ord(c) < 0x20 or c == "\x7f" for c in pattern):
        return "a path pattern cannot hold control characters"
    if "\\" in pattern:
        return "use '/' between directories; '\\' is not a path separator here"
    if pattern.startswith("!"):
        return "negation ('!') is not supported; list the paths that are in the area instead"
    if pattern.startswith("/"):
        return (
            "paths are relative to the repository root and never start with '/'; "
            f"write '{excerpt(_suggest(pattern))}'"
        )
    if pattern.endswith("/"):
        return f"a trailing '/' never matches a file; write '{excerpt(_suggest(pattern))}'"
    if "***" in pattern:
        return "'***' is not a pattern; use '*' within a name or '**' for any directories"
    for segment in pattern.split("/"):
        if segment == "":
            return "empty path segment ('//'); paths have none"
        if segment in (".", ".."):
            return f"'{excerpt(segment)}' segments never occur in repository paths; drop them"
        if "**" in segment and segment != "**":
            single = excerpt(segment.replace("**", "*"))
            return (
                f"'**' must be a whole segment ('a/**/b', '**/{single}'); "
                f"within '{excerpt(segment)}' write '*'"
            )
    return None


def _suggest(pattern: str) -> str:
    """The well-formed pattern someone writing `/docs/` most likely meant: `docs/**`."""
    segments = [s for s in pattern.split("/") if s not in ("", ".")]
    if pattern.endswith("/"):
        segments.append("**")
    return "/".join(segments) or "**"


@lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """The regular expression a whole path must match; GlobError when the pattern is refused."""
    problem = glob_problem(pattern)
    if problem is not None:
        raise GlobError(f"{excerpt(pattern)!r}: {problem}")
    segments = pattern.split("/")
    parts = [] if "/" in pattern else ["(?:[^/]+/)*"]  # no '/': at any depth
    for number, segment in enumerate(segments):
        last = number == len(segments) - 1
        if segment == "**":
            parts.append("[^/]+(?:/[^/]+)*" if last else "(?:[^/]+/)*")
        else:
            parts.append(_segment(segment) + ("" if last else "/"))
    # Matching a directory matches everything inside it.
    return re.compile("".join(parts) + "(?:/.*)?", re.DOTALL)


def _segment(segment: str) -> str:
    return "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in segment)


def matches(pattern: str, path: str) -> bool:
    """Does repository-relative `path` fall under `pattern`? GlobError for a refused pattern."""
    return compile_glob(pattern).fullmatch(path) is not None
