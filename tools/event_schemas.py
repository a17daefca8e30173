"""Write docs/schemas/events/<type>.schema.json for every event type, from the payload types.

    .venv/bin/python tools/event_schemas.py

tests/unit/domain/test_event_schemas.py fails when a committed schema differs from what this
writes, so run it after changing a payload type and commit the result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from changeproof.domain.payloads import event_schema, event_types

FOLDER = Path(__file__).resolve().parents[1] / "docs" / "schemas" / "events"


def schema_text(event_type: str) -> str:
    return json.dumps(event_schema(event_type), indent=2, sort_keys=True) + "\n"


def main() -> int:
    FOLDER.mkdir(parents=True, exist_ok=True)
    wanted = {f"{kind}.schema.json": schema_text(kind) for kind in event_types()}
    for stale in sorted({p.name for p in FOLDER.glob("*.schema.json")} - set(wanted)):
        (FOLDER / stale).unlink()
        print(f"removed {stale}")  # noqa: T201
    for name, text in wanted.items():
        path = FOLDER / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {name}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
