"""Reference tables the docs show, made from the registries so they cannot drift from the code.

`reader_table` is the table of evidence readers in docs/evidence.md, kept between `BEGIN` and
`END`: tests/unit/test_docs.py fails when the page holds another one, and
`python tools/readers_table.py` writes the current one into the page.
"""

from __future__ import annotations

from typing import Final

from changeproof.ingest.readers import ReaderSpec, readers
from changeproof.services.evidence_limits import EvidenceLimits

__all__ = ["BEGIN", "END", "reader_table", "with_reader_table"]

BEGIN: Final = (
    "<!-- generated from the reader registry by tools/readers_table.py: "
    "change the readers, not this table -->"
)
END: Final = "<!-- end of the generated reader table -->"

_HEADER: Final = (
    "| command | reader | kind | one record per | reads | `--format` | recorded `format` "
    "| size limit |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
)


def _code(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in names) if names else "—"


def _row(spec: ReaderSpec) -> str:
    per = "call: every file given is one reading" if spec.many_files else "file"
    # The kind's default; [evidence.limits] KIND or [evidence] max_file_bytes replace it.
    limit = f"{EvidenceLimits().of(spec.kind) / 2**20:g} MiB (`{spec.kind}`)"
    if spec.max_bytes is not None:
        limit = f"{spec.max_bytes / 2**20:g} MiB, and the kind's {limit}"
    cells = (
        f"`attest {spec.command}`",
        f"`{spec.name}`",
        f"`{spec.kind}`",
        per,
        spec.summary,
        _code(spec.formats),
        _code(spec.records),
        limit,
    )
    return "| " + " | ".join(cells) + " |"


def reader_table() -> str:
    """Every registered reader, one row each, in the registry's order."""
    return "\n".join([*_HEADER, *(_row(spec) for spec in readers())])


def with_reader_table(page: str) -> str:
    """`page` with the current table between its markers; ValueError when it has none."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the page has no {BEGIN!r} … {END!r} block")
    # Blank lines around the table: Markdown must not read the comments as part of it.
    return f"{page[: start + len(BEGIN)]}\n\n{reader_table()}\n\n{page[end:]}"
