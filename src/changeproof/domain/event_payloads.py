"""The index of payload types: importing it registers every event type's payload.

A module that defines payloads for new event types adds one import here.
"""

from __future__ import annotations

from changeproof.domain import (
    actors,
    artifacts,
    changes,
    decisions,
    deployments,
    evidence_documents,
    hooks,
    instance,
    policies,
    releases,
    tokens,
)

__all__ = [
    "actors",
    "artifacts",
    "changes",
    "decisions",
    "deployments",
    "evidence_documents",
    "hooks",
    "instance",
    "policies",
    "releases",
    "tokens",
]
