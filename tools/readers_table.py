"""Write the reader table generated from the reader registry into docs/evidence.md.

    python tools/readers_table.py [PAGE]

tests/unit/test_docs.py fails until the page holds the table the registry makes.
"""

from __future__ import annotations

import sys
from pathlib import Path

from changeproof.cli.reference import with_reader_table

PAGE = Path(__file__).resolve().parents[1] / "docs" / "evidence.md"


def main() -> None:
    page = Path(sys.argv[1]) if len(sys.argv) > 1 else PAGE
    page.write_text(with_reader_table(page.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    main()
