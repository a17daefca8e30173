"""Path globs: CODEOWNERS/.gitignore semantics over repository-relative paths."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changeproof.policy.globs import GlobError, compile_glob, glob_problem, matches

CASES = [
    # `**` as a whole segment: any number of directories, or everything below when last
    ("db/migrations/**", "db/migrations/0001_init.sql", True),
    ("db/migrations/**", "db/migrations/2026/0002.sql", True),
    ("db/migrations/**", "db/migrations", False),
    ("db/migrations/**", "db/migrations-old/0001.sql", False),
    ("db/migrations/**", "src/db/migrations/0001.sql", False),
    ("**/migrations/*.sql", "migrations/1.sql", True),
    ("**/migrations/*.sql", "a/b/migrations/1.sql", True),
    ("**/migrations/*.sql", "a/b/migrations/x/1.sql", False),
    ("**/migrations/*.sql", "a/migrations/y.sql/1.txt", True),  # the directory rule below
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("a/**/b", "a/x/y/bb", False),
    ("**", "anything/at/all.txt", True),
    # `*` and `?` stay within one segment
    ("src/*.py", "src/app.py", True),
    ("src/*.py", "src/pkg/app.py", False),
    ("src/?.py", "src/a.py", True),
    ("src/?.py", "src/ab.py", False),
    ("src/?.py", "src//.py", False),
    # no '/': a name at any depth
    ("*.md", "README.md", True),
    ("*.md", "docs/guide/intro.md", True),
    ("*.md", "docs/guide/intro.mdx", False),
    ("Dockerfile", "services/api/Dockerfile", True),
    ("Dockerfile", "services/api/Dockerfile.dev", False),
    # a pattern matching a directory matches everything inside it
    ("payments", "payments/api/charge.py", True),
    ("payments", "src/payments/charge.py", True),
    ("payments", "payments-old/charge.py", False),
    ("payments/api", "payments/api/v1/charge.py", True),
    ("payments/api", "x/payments/api/charge.py", False),  # a '/' anchors to the root
    # everything else is literal
    ("app/[id].tsx", "app/[id].tsx", True),
    ("app/[id].tsx", "app/i.tsx", False),
    ("a+b/(x)", "a+b/(x)", True),
    ("a.b", "aXb", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), CASES)
def test_matching(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("", "empty"),
        ("/db/migrations/**", "write 'db/migrations/**'"),
        ("/docs/", "write 'docs/**'"),
        ("docs/", "write 'docs/**'"),
        ("a//b", "empty path segment"),
        ("./a", "'.' segments"),
        ("a/../b", "'..' segments"),
        ("a/***", "'***'"),
        ("a**", "whole segment"),
        ("docs/**.md", "'**/*.md'"),
        ("!docs/**", "negation"),
        ("docs\\x.md", "'/'"),
        ("docs/\nx", "control characters"),
    ],
)
def test_patterns_that_could_never_match_are_refused_with_a_fix(pattern: str, words: str) -> None:
    problem = glob_problem(pattern)
    assert problem is not None
    assert words in problem
    with pytest.raises(GlobError) as caught:
        compile_glob(pattern)
    assert str(caught.value) == f"{pattern!r}: {problem}"
    with pytest.raises(GlobError):
        matches(pattern, "a/b")


def test_compiled_patterns_are_cached() -> None:
    assert compile_glob("db/migrations/**") is compile_glob("db/migrations/**")


_segment = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/\\!\x7f", min_codepoint=0x20),
    min_size=1,
    max_size=8,
).filter(lambda s: s not in (".", "..") and "**" not in s)
_paths = st.lists(_segment, min_size=1, max_size=5).map("/".join)


@given(_paths)
def test_a_path_matches_itself_everything_and_its_parents(path: str) -> None:
    literal = path.replace("*", "?")  # '*' and '?' in names: wildcards still match them
    assert matches(literal, path)
    assert matches("**", path)
    parts = path.split("/")
    if len(parts) > 1:
        parent = "/".join(parts[:-1]).replace("*", "?")
        assert matches(parent + "/**", path)
        assert matches(parent, path)
        assert not matches(path.replace("*", "?") + "/**", parent)


@given(_paths, _segment)
def test_a_name_pattern_matches_at_any_depth(path: str, name: str) -> None:
    assert matches(name.replace("*", "?"), f"{path}/{name}")
