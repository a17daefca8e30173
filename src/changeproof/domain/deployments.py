"""Deployments: who pushed which artifact of which release into which environment, and how
it went. A deployment no allowed decision explains is recorded all the same, flagged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Final

from pydantic import MISSING, StrictBool, StrictInt

from changeproof.domain.payloads import EventPayload

__all__ = [
    "DEPLOYMENT_CHECKED",
    "DEPLOYMENT_EVENTS",
    "DEPLOYMENT_RECORDED",
    "DEPLOYMENT_UPDATED",
    "CheckStatus",
    "DeploymentChecked",
    "DeploymentFact",
    "DeploymentRecorded",
    "DeploymentStatus",
    "DeploymentUpdated",
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


@dataclass(frozen=True, slots=True)
class DeploymentFact:
    """A deployment of an artifact as a gate decision sees it: as it stood at the decision's
    ledger position (its status then, the checks recorded by then)."""

    id: str  # DEP-<n>
    environment: str
    release: str
    artifact: str  # sha256 hex
    authorized: bool
    status: str  # its newest status as of then
    succeeded_at: datetime | None  # when it first said succeeded, if it did
    checks: Mapping[str, str] = field(default_factory=dict)  # each check's newest status

    @property
    def checks_passed(self) -> bool:
        """At least one post-deployment check, and each one's newest outcome a pass."""
        return bool(self.checks) and all(s == CheckStatus.PASS for s in self.checks.values())


@dataclass(frozen=True, slots=True)
class DeploymentRecorded(EventPayload):
    """A deployment and the verdict on it: which allowing decision explains it, if any."""

    TYPE: ClassVar[str] = DEPLOYMENT_RECORDED

    release: str
    environment: str
    artifact: str  # sha256 hex
    status: DeploymentStatus
    pipeline_run: str | None
    authorized: StrictBool
    reason: str
    decision: StrictInt | None
    change: StrictInt | None
    urgent: StrictBool
    # Entries written before policy governance (migration 0009) carry neither key, and must
    # read back without them; since, an unauthorized deployment writes both as null.
    policy_digest: str | MISSING | None = MISSING
    policy_active: StrictBool | MISSING | None = MISSING

    @property
    def under_policy(self) -> tuple[str | None, bool | None]:
        """The policy the allowing decision was made under, and whether it was the active one
        (None for both when nothing allowed it, or the entry predates governance)."""
        digest = None if self.policy_digest is MISSING else self.policy_digest
        active = None if self.policy_active is MISSING else self.policy_active
        return digest, active


@dataclass(frozen=True, slots=True)
class DeploymentUpdated(EventPayload):
    TYPE: ClassVar[str] = DEPLOYMENT_UPDATED

    deployment: StrictInt  # the seq of its deployment.recorded entry
    status: DeploymentStatus


@dataclass(frozen=True, slots=True)
class DeploymentChecked(EventPayload):
    TYPE: ClassVar[str] = DEPLOYMENT_CHECKED

    deployment: StrictInt
    name: str
    status: CheckStatus
    details: str | None
    details_sha256: str | None
