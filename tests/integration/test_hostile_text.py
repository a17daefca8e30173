"""Text from outside is shown as typed: never Rich markup, never terminal control, never HTML.

Commit subjects, author emails, artifact names and evidence fields are whatever their
authors typed. The CLI prints them verbatim (brackets included), writes control characters
as visible escapes, and the RFC's Markdown and HTML show them without rendering them.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.gitrepo import GitRepo
from tests.integration.scenario import Changes

DEPENDABOT = "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>"
CLOSING_TAG = "PAY-1 fix [/bold] parser"
HIDDEN_LINK = "PAY-2 [link=https://evil.example]see[/link] docs"
EMOJI = "PAY-3 :warning: not an icon"
# ESC [2J clears the screen; ESC ] 8 ;; URL BEL is an OSC 8 hyperlink; 0x9b is a one-byte CSI;
# U+202E reverses what follows; a carriage return overwrites the line's start.
CONTROLS = (
    "PAY-4 \x1b[2Jwiped \x1b]8;;https://evil.example\x07click\x1b]8;;\x07 \x9b31mred "
    "\u202eesrever\rover \x07bell"
)
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\r")
CHANGEPROOF = str(Path(sys.executable).parent / "changeproof")


def _shown(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The real entry point on a wide terminal, so no table cell is folded mid-subject."""
    return subprocess.run(
        [CHANGEPROOF, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "400"},
    )


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit(CLOSING_TAG, author=DEPENDABOT)
    repo.commit(HIDDEN_LINK)
    repo.commit(EMOJI)
    repo.commit(CONTROLS)
    return repo


def _create(home: Path, repo: GitRepo, *extra: str) -> tuple[int, str, str]:
    result = _shown(
        "release", "create", "--service", "pay", "--name", "1.0", "--repo", repo.path,
        "--to", "HEAD", "--home", home, "--actor", "tester", *extra,
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr


def _assert_shown_as_typed(text: str) -> None:
    assert CLOSING_TAG in text
    assert "49699333+dependabot[bot]@users.noreply.github.com" in text
    assert HIDDEN_LINK in text
    assert EMOJI in text
    for char in RAW:
        assert char not in text, f"{char!r} reached the terminal raw"
    for escape in (r"\x1b[2Jwiped", r"\x1b]8;;https://evil.example\x07click", r"\x9b31m"):
        assert escape in text
    assert r"\u202eesrever\x0dover" in text


def test_markup_and_controls_in_commits_are_printed_verbatim(
    sqlite_home: Path, repo: GitRepo, cli: Cli
) -> None:
    code, out, err = _create(sqlite_home, repo)
    assert code == 0, err
    _assert_shown_as_typed(out)
    shown = _shown("release", "show", "pay/1.0", "--home", sqlite_home)
    assert shown.returncode == 0, shown.stderr
    _assert_shown_as_typed(shown.stdout)


def test_json_keeps_the_text_itself_and_escapes_what_a_terminal_would_obey(
    sqlite_home: Path, repo: GitRepo, cli: Cli
) -> None:
    code, out, err = _create(sqlite_home, repo, "-o", "json")
    assert code == 0, err
    for char in ("\x9b", "\u202e"):
        assert char not in out
    doc = json.loads(out)
    subjects = {c["subject"] for c in doc["commits"]}
    assert subjects == {CLOSING_TAG, HIDDEN_LINK, EMOJI, CONTROLS}
    bot = next(c for c in doc["commits"] if c["subject"] == CLOSING_TAG)
    assert bot["author"]["email"] == "49699333+dependabot[bot]@users.noreply.github.com"


def test_artifact_and_evidence_names_are_not_markup(
    sqlite_home: Path, repo: GitRepo, tmp_path: Path, cli: Cli
) -> None:
    assert _create(sqlite_home, repo)[0] == 0
    artifact = tmp_path / "build [red]x [link=https:evil.example]y \x1b[31m.tar"
    artifact.write_bytes(b"build\n")
    result = _shown("attest", "artifact", artifact, "--release", "pay/1.0", "--home", sqlite_home)
    assert result.returncode == 0, result.stderr
    assert "build [red]x [link=https:evil.example]y \\x1b[31m.tar" in result.stdout
    assert "\x1b" not in result.stdout
    shown = _shown("release", "show", "pay/1.0", "--home", sqlite_home)
    assert "build [red]x [link=https:evil.example]y \\x1b[31m.tar" in shown.stdout


def test_an_error_naming_a_hostile_file_shows_its_controls(
    sqlite_home: Path, tmp_path: Path, cli: Cli
) -> None:
    missing = tmp_path / "no\x1b]8;;https:evil.example\x07such [/bold] file"
    result = cli("attest", "artifact", missing, "--service", "pay", "--home", sqlite_home)
    assert result.code == 2
    assert "\x1b" not in result.err
    assert "no\\x1b]8;;https:evil.example\\x07such [/bold] file" in result.err


NAME = "<img src=x onerror=alert(1)>"


def test_the_rfc_in_markdown_and_html_shows_hostile_names_as_text(
    sqlite_home: Path, tmp_path: Path, cli: Cli
) -> None:
    changes = Changes(sqlite_home, tmp_path, cli)
    release, _ = changes.ready()
    artifact = tmp_path / NAME
    artifact.write_bytes(b"other build\n")
    changes.run_ok("attest", "artifact", artifact, "--release", release)
    plan = tmp_path / "plan.md"
    plan.write_text("step 1\n```\n</pre><script>alert(1)</script>\n````\nstep \x1b[2J 2\n")
    change = changes.open(release, "--plan", plan)
    md = changes.run_ok("change", "show", change, "--format", "md")
    assert NAME not in md
    rendered = [line for line in md.splitlines() if line.startswith(("|", "#"))]
    assert not [line for line in rendered if re.search(r"(?<!\\)<", line)], "a raw < in Markdown"
    assert r"\<img src=x onerror=alert(1)\>" in md
    assert "\x1b" not in md
    # The plan is fenced by more backticks than it holds: it cannot close its own fence.
    fence = re.search(r"^(`{3,})$", md, re.MULTILINE)
    assert fence is not None
    assert len(fence.group(1)) == 5
    page = changes.run_ok("change", "show", change, "--format", "html")
    assert "<img" not in page
    assert "<script>" not in page
    assert "\x1b" not in page
    assert html.escape(NAME) in page
