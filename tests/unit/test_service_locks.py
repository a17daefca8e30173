"""The write unit of work takes the ledger head's lock when it opens: no service takes it
itself (a service that forgot to would be a race on PostgreSQL only)."""

from __future__ import annotations

import ast
from pathlib import Path

import changeproof.services

SERVICES = Path(changeproof.services.__file__).parent


def _locking_reads(path: Path) -> list[str]:
    """`read_head(...)` calls in `path` that pass `lock` anything but a literal False."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name != "read_head":
            continue
        for keyword in node.keywords:
            lock = keyword.value
            if keyword.arg in ("lock", None) and not (
                isinstance(lock, ast.Constant) and lock.value is False
            ):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_service_locks_the_ledger_head_itself() -> None:
    modules = sorted(SERVICES.rglob("*.py"))
    assert len(modules) > 10  # the services, not an empty folder
    assert [hit for module in modules for hit in _locking_reads(module)] == []
    assert not [m.name for m in modules if "FOR UPDATE" in m.read_text(encoding="utf-8")]


def test_the_check_finds_a_locking_read(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "ledger.read_head(conn, lock=True)\n"
        "read_head(conn, lock=not optimistic)\n"
        "read_head(conn, **options)\n"
        "read_head(conn)\n"
        "read_head(conn, lock=False)\n",
        encoding="utf-8",
    )
    assert _locking_reads(sample) == ["sample.py:1", "sample.py:2", "sample.py:3"]
