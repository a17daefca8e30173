"""A short command loads only what it uses: the imports are most of its wall time
(bench/cli.py measures it), so a test fails when an eager import creeps back in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("alembic", "pygit2", "httpx", "cel", "defusedxml", "yaml")


def _loaded_after(argv: list[str]) -> dict[str, object]:
    probe = (
        "import json, sys\n"
        "from changeproof.cli.main import run\n"
        f"code = run({argv!r})\n"
        "sys.stdout.flush()\n"
        f"print(json.dumps({{'code': code, 'loaded': [m for m in {HEAVY!r} if m in sys.modules],"
        " 'sqlalchemy': 'sqlalchemy' in sys.modules}), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    report: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    return report


def test_the_version_loads_no_store_and_no_reader() -> None:
    report = _loaded_after(["--version"])
    assert report == {"code": 0, "loaded": [], "sqlalchemy": False}


@pytest.mark.slow
def test_ledger_status_loads_no_migration_tool_git_policy_engine_or_reader(
    sqlite_home: Path,
) -> None:
    report = _loaded_after(["ledger", "status", "--home", str(sqlite_home)])
    assert report == {"code": 0, "loaded": [], "sqlalchemy": True}
