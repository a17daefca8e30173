"""Shared by the ticket mapping tests and the ticketing integration test: an RFC shaped like
`change open` writes one, and a checker of Atlassian Document Format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["adf_problems", "rfc"]


def rfc(**changes: Any) -> dict[str, Any]:
    """An RFC document shaped like `change open` writes one, with `changes` applied."""
    document: dict[str, Any] = {
        "id": "CHG-57",
        "title": "Deploy payments/1.4.0 to production",
        "release": "payments/1.4.0",
        "environment": "production",
        "classification": "normal",
        "urgent": False,
        "urgent_reason": None,
        "risk": {"level": "high", "reasons": ["1 schema migration file(s) change"]},
        "why": {
            "tickets": [
                {
                    "key": "PAY-12",
                    "system": "jira",
                    "url": "https://jira.example.com/browse/PAY-12",
                    "commits": ["0123456789abcdef"],
                }
            ],
            "untracked_commits": [],
        },
        "what": {
            "commits": [
                {
                    "sha": "0123456789abcdef0123456789abcdef01234567",
                    "subject": "Round *half* to even in [ledger]",
                    "author": "ana@example.com",
                    "tickets": ["PAY-12"],
                }
            ],
            "paths": [
                {"path": "src/ledger.py", "added": 3, "deleted": 1, "high_risk": ["payments"]},
                {"path": "README.md", "added": 1, "deleted": 0, "high_risk": []},
            ],
            "migrations": ["migrations/0007_index.sql"],
            "artifacts": [{"seq": 8, "name": "payments.tar.gz", "size": 10, "sha256": "ab" * 32}],
        },
        "evidence": [
            {
                "seq": 4,
                "kind": "test-run",
                "format": "junit",
                "sha256": "cd" * 32,
                "summary": {"tests": 120, "failures": 0, "suites": ["a", "b"]},
            }
        ],
        "gate": {
            "policy_digest": "ef" * 32,
            "decisions": [
                {
                    "seq": 9,
                    "allowed": False,
                    "classification": "normal",
                    "failed": [{"id": "change-approval", "reason": "no approval yet"}],
                }
            ],
        },
        "plan": "1. deploy the canary\n\n2. watch the dashboards",
        "rollback": "helm rollback payments",
        "dry_run_output": "3 resources to change",
        "schedule": {"start": "2026-03-02T22:00:00+01:00", "end": "2026-03-02T23:30:00Z"},
        "digest": "12" * 32,
        "url": "https://changeproof.example.com/changes/CHG-57",
        "state": "open",  # keys the reader does not take are ignored
    }
    document.update(changes)
    return document


_BLOCKS: Final = {"paragraph", "heading", "bulletList", "codeBlock"}
_MARKS: Final = {"code", "link"}


def adf_problems(node: Any, where: str = "description") -> list[str]:
    """What is wrong with an ADF document, by the nodes this mapping uses (ADF's JSON schema:
    doc > blocks; paragraph and heading > inline; bulletList > listItem > paragraph;
    codeBlock > text without marks; text non-empty, marks code and link with an http(s) href)."""
    if not isinstance(node, Mapping):
        return [f"{where} is not an object"]
    if where == "description":
        if node.get("type") != "doc" or node.get("version") != 1:
            return [f"{where} is not a version 1 doc"]
        return _children(node, where, _BLOCKS, _block_problems)
    return [f"{where}: unexpected node"]


def _children(node: Mapping[str, Any], where: str, allowed: set[str], check: Any) -> list[str]:
    content = node.get("content")
    if not isinstance(content, list):
        return [f"{where}.content is not a list"]
    problems: list[str] = []
    for i, child in enumerate(content):
        at = f"{where}.content[{i}]"
        if not isinstance(child, Mapping) or child.get("type") not in allowed:
            problems.append(f"{at} is not one of {sorted(allowed)}")
            continue
        problems += check(child, at)
    return problems


def _block_problems(node: Mapping[str, Any], where: str) -> list[str]:
    kind = node["type"]
    if kind == "heading":
        attrs = node.get("attrs")
        if not isinstance(attrs, Mapping) or attrs.get("level") not in range(1, 7):
            return [f"{where} heading without a level 1-6"]
        return _children(node, where, {"text"}, _inline_problems)
    if kind == "paragraph":
        return _children(node, where, {"text", "hardBreak"}, _inline_problems)
    if kind == "bulletList":
        return _children(node, where, {"listItem"}, _item_problems)
    problems = _children(node, where, {"text"}, _inline_problems)
    return problems + [f"{where} code text has marks" for c in node["content"] if "marks" in c]


def _item_problems(node: Mapping[str, Any], where: str) -> list[str]:
    return _children(node, where, {"paragraph"}, _block_problems)


def _inline_problems(node: Mapping[str, Any], where: str) -> list[str]:
    if node["type"] == "hardBreak":
        return []
    text = node.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where} text is empty"]
    problems = []
    for mark in node.get("marks", []):
        if mark.get("type") not in _MARKS:
            problems.append(f"{where} has mark {mark.get('type')}")
        if mark.get("type") == "link":
            href = mark.get("attrs", {}).get("href", "")
            if not href.startswith(("https://", "http://")):
                problems.append(f"{where} links to {href!r}")
    return problems
