"""Deployments: who pushed which artifact of which release into which environment, and how
it went. A deployment no allowed decision explains is recorded all the same, flagged."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

__all__ = [
    "DEPLOYMENT_CHECKED",
    "DEPLOYMENT_EVENTS",
    "DEPLOYMENT_RECORDED",
    "DEPLOYMENT_UPDATED",
    "CheckStatus",
    "DeploymentStatus",
    "deployment_id",
    "parse_deployment_id",
]

DEPLOYMENT_RECORDED: Final = "deployment.recorded"
DEPLOYMENT_UPDATED: Final = "deployment.updated"  # a later status of the same deployment
DEPLOYMENT_CHECKED: Final = "deployment.checked"  # a post-deployment check's outcome
DEPLOYMENT_EVENTS: Final = (DEPLOYMENT_RECORDED, DEPLOYMENT_UPDATED, DEPLOYMENT_CHECKED)

_ID: Final = re.compile(r"(?:DEP-)?([1-9][0-9]{0,17})", re.IGNORECASE)


class DeploymentStatus(StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"


class CheckStatus(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"


def deployment_id(seq: int) -> str:
    return f"DEP-{seq}"


def parse_deployment_id(text: str) -> int | None:
    found = _ID.fullmatch(text.strip())
    return int(found.group(1)) if found else None
