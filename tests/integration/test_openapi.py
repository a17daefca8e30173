"""The OpenAPI document the server publishes is the one checked in, and docs/server.md
documents every route and every problem type."""

from __future__ import annotations

import json
from pathlib import Path

from changeproof.api.problems import PROBLEMS
from tests.integration.api_scenario import client

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "docs" / "api" / "openapi.json"
SERVER_DOC = ROOT / "docs" / "server.md"


def test_the_published_openapi_document_is_the_checked_in_one(sqlite_home: Path) -> None:
    with client(sqlite_home) as api:
        published = api.get("/api/v1/openapi.json").json()
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert published["openapi"] == "3.1.0"
    # The version moves with every release; everything else must be rewritten by
    # `tools/openapi.py` when a route changes.
    published["info"].pop("version")
    golden["info"].pop("version")
    assert published == golden, "run .venv/bin/python tools/openapi.py and commit the result"


def test_every_route_and_problem_is_documented() -> None:
    text = SERVER_DOC.read_text(encoding="utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for path, operations in golden["paths"].items():
        for method in operations:
            assert f"`{method.upper()} {path}`" in text, f"docs/server.md lacks {method} {path}"
    for kind in PROBLEMS.values():
        assert f"`{kind.type}` | {kind.status} |" in text, f"docs/server.md lacks {kind.slug}"
