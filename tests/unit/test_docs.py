"""Docs that are tests: every command, option, exit code and linked page must be documented.

docs/cli.md has one heading per command, such as "### `changeproof ledger verify`"; every
long option of that command must appear in the section under its heading. Pages linked
from README.md, and relative links between pages, must exist. docs/evidence.md's table of
readers is the one the reader registry makes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
import typer.core

from changeproof.cli.main import command as cli_command
from changeproof.cli.reference import BEGIN, END, reader_table, with_reader_table
from changeproof.domain.errors import ChangeproofError
from changeproof.verify.__main__ import main as verify_main

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CLI_MD = DOCS / "cli.md"
EVIDENCE_MD = DOCS / "evidence.md"
VERIFIER = "python -m changeproof.verify"
HOUSE_EXIT_CODES = {0, 1, 2, 3, 4, 70}

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
_LINK = re.compile(r"\]\(([^)\s]+)\)")


def _commands() -> list[tuple[str, list[str]]]:
    """Every visible command path of the Typer app ("" is the root) with its long options."""
    found: list[tuple[str, list[str]]] = []
    stack: list[tuple[str, object]] = [("", cli_command())]
    while stack:
        path, command = stack.pop()
        options = sorted(
            {
                name
                for param in getattr(command, "params", [])
                if isinstance(param, typer.core.TyperOption)
                for name in [*param.opts, *param.secondary_opts]
                if name.startswith("--")
            }
        )
        found.append((path, options))
        if isinstance(command, typer.core.TyperGroup):
            stack.extend(
                (f"{path} {name}".strip(), sub)
                for name, sub in command.commands.items()
                if not sub.hidden
            )
    return sorted(found)


COMMANDS = _commands()


def _prose(text: str) -> list[str]:
    """The lines of a Markdown page with fenced code blanked out (a `# comment` is no heading)."""
    lines: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            lines.append("")
        else:
            lines.append("" if fenced else line)
    return lines


def _sections(text: str) -> dict[str, str]:
    """Heading title (backticks removed) -> the text up to the next heading of its level.

    Code blocks stay in a section's text: an option shown only in an example counts.
    """
    lines = text.splitlines()
    prose = _prose(text)
    headings = [
        (number, len(match[1]), match[2].replace("`", "").strip())
        for number, line in enumerate(prose)
        if (match := _HEADING.match(line))
    ]
    sections: dict[str, str] = {}
    for position, (start, level, title) in enumerate(headings):
        end = next(
            (line for line, other, _ in headings[position + 1 :] if other <= level), len(lines)
        )
        sections[title] = "\n".join(lines[start:end])
    return sections


def _mentions(section: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", section) is not None


def _slug(title: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


@pytest.fixture(scope="module")
def cli_sections() -> dict[str, str]:
    return _sections(CLI_MD.read_text(encoding="utf-8"))


def test_the_walk_finds_the_commands() -> None:
    paths = [path for path, _ in COMMANDS]
    assert "ledger verify" in paths
    assert {"--checkpoint", "--home", "--output"} <= set(dict(COMMANDS)["ledger verify"])


@pytest.mark.parametrize(
    ("path", "options"), COMMANDS, ids=[p or "changeproof" for p, _ in COMMANDS]
)
def test_command_and_its_options_are_documented(
    path: str, options: list[str], cli_sections: dict[str, str]
) -> None:
    title = f"changeproof {path}".strip()
    assert title in cli_sections, f"docs/cli.md has no heading for `{title}`"
    section = cli_sections[title]
    missing = [option for option in options if not _mentions(section, option)]
    assert not missing, f"docs/cli.md does not document {missing} under `{title}`"


def test_offline_verifier_options_are_documented(
    cli_sections: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        verify_main(["--help"])
    assert exit_info.value.code == 0
    options = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", capsys.readouterr().out)) - {"--help"}
    assert "--public-key" in options
    assert VERIFIER in cli_sections, f"docs/cli.md has no heading for `{VERIFIER}`"
    missing = sorted(o for o in options if not _mentions(cli_sections[VERIFIER], o))
    assert not missing, f"docs/cli.md does not document {missing} under `{VERIFIER}`"


def test_every_exit_code_is_documented() -> None:
    text = CLI_MD.read_text(encoding="utf-8")
    codes = set(HOUSE_EXIT_CODES)
    pending: list[type[ChangeproofError]] = [ChangeproofError]
    while pending:
        error = pending.pop()
        codes.add(error.exit_code)
        pending.extend(error.__subclasses__())
    missing = sorted(c for c in codes if not re.search(rf"^\|\s*{c}\s*\|", text, re.MULTILINE))
    assert not missing, f"docs/cli.md's exit-code table lacks {missing}"


def test_pages_linked_from_the_readme_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = sorted(
        {link.split("#")[0] for link in _LINK.findall(readme) if link.startswith("docs/")}
    )
    assert linked, "README.md links no page under docs/"
    missing = [link for link in linked if not (ROOT / link).is_file()]
    assert not missing, f"README.md links pages that do not exist: {missing}"


@pytest.mark.parametrize("page", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_relative_links_between_pages_resolve(page: Path) -> None:
    broken: list[str] = []
    for link in _LINK.findall("\n".join(_prose(page.read_text(encoding="utf-8")))):
        if re.match(r"[a-z][a-z0-9+.-]*:", link):  # https:, mailto: …
            continue
        target_name, _, anchor = link.partition("#")
        target = (page.parent / target_name) if target_name else page
        if not target.is_file():
            broken.append(link)
        elif anchor:
            titles = _sections(target.read_text(encoding="utf-8"))
            if anchor not in {_slug(title) for title in titles}:
                broken.append(link)
    assert not broken, f"{page.name} has broken links: {broken}"


def test_the_reader_table_is_the_one_the_registry_makes() -> None:
    page = EVIDENCE_MD.read_text(encoding="utf-8")
    assert page.count(BEGIN) == page.count(END) == 1, "docs/evidence.md lost its reader table"
    assert with_reader_table(page) == page, (
        "docs/evidence.md's reader table is out of date with the reader registry; rewrite it "
        "with `python tools/readers_table.py` and review the difference"
    )


def test_the_reader_table_has_a_row_per_reader_and_a_stale_one_is_caught() -> None:
    table = reader_table()
    assert "| `attest test-results` | `pytest-json` | `test-run` |" in table
    page = EVIDENCE_MD.read_text(encoding="utf-8")
    stale = page.replace("| `attest scan` | `sarif` |", "| `attest scan` | `sarif-2` |")
    assert stale != page
    assert with_reader_table(stale) == page
    with pytest.raises(ValueError, match="the page has no"):
        with_reader_table("# a page without the markers")
