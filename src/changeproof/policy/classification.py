"""Classifying a change: standard (a pre-approved kind), normal (needs approval) or urgent.

Standard only when every changed path lies outside every high-risk area, one declared
standard-change kind covers all of them, and the release is within that kind's size.
A change declared standard that is not is normal, and the reason says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from changeproof.domain.decisions import Classification
from changeproof.policy.facts import Facts
from changeproof.policy.globs import matches
from changeproof.policy.model import Policy

__all__ = ["Classified", "classify"]


@dataclass(frozen=True, slots=True)
class Classified:
    classification: Classification
    reason: str


def classify(policy: Policy, facts: Facts, declared: Classification | None = None) -> Classified:
    if facts.urgent:
        why = facts.urgent_reason or "no reason given"
        return Classified(Classification.URGENT, f"declared urgent: {why}")
    paths = facts.paths()
    risky = [
        (path, area.name)
        for path in paths
        for area in policy.high_risk
        if any(matches(glob, path) for glob in area.paths)
    ]
    if risky:
        path, area = risky[0]
        return _normal(declared, f"it changes {path}, a high-risk path ({area})")
    lines = sum((c.added or 0) + (c.deleted or 0) for commit in facts.commits for c in commit.paths)
    for kind in policy.standard_changes:
        outside = [p for p in paths if not any(matches(glob, p) for glob in kind.paths)]
        if outside or not paths:
            continue
        if lines > kind.max_changed_lines:
            return _normal(
                declared,
                f"it changes {lines} lines, more than the {kind.max_changed_lines} a "
                f"standard '{kind.kind}' change may",
            )
        if len(facts.commits) > kind.max_commits:
            return _normal(
                declared,
                f"it has {len(facts.commits)} commits, more than the {kind.max_commits} a "
                f"standard '{kind.kind}' change may",
            )
        return Classified(
            Classification.STANDARD,
            f"a standard '{kind.kind}' change: {len(paths)} paths, {lines} changed lines",
        )
    if not paths:
        return _normal(declared, "it changes no paths a standard kind covers")
    return _normal(declared, f"no standard-change kind covers {paths[0]}")


def _normal(declared: Classification | None, why: str) -> Classified:
    if declared is Classification.STANDARD:
        return Classified(Classification.NORMAL, f"declared standard, but {why}")
    return Classified(Classification.NORMAL, f"a normal change: {why}")
