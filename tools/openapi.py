"""Write docs/api/openapi.json, the REST API's OpenAPI document, from the app's routes.

    .venv/bin/python tools/openapi.py

Rerun after changing a route; tests/integration/test_openapi.py fails until the checked-in
document matches what the server publishes at /api/v1/openapi.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from changeproof.api.app import create_app
from changeproof.bootstrap import SystemClock, open_instance
from changeproof.services.initialize import initialize

GOLDEN = Path(__file__).resolve().parent.parent / "docs" / "api" / "openapi.json"


def document() -> str:
    """The OpenAPI document as the server publishes it, in a stable text form."""
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "instance"
        initialize(
            home, database_url=None, origin="openapi.example/doc", actor="tool", clock=SystemClock()
        )
        with open_instance(home) as instance:
            schema = create_app(instance).openapi()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    GOLDEN.write_text(document(), encoding="utf-8")
    sys.stderr.write(f"wrote {GOLDEN}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
