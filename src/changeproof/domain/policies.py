"""Policy governance: activating a policy is itself a change that a second person approves.

The policy governs the pipeline, so changing it needs separation of duties too:

- `policy.proposed` {digest, previous_digest, policy, source, simulation}: someone proposes
  a policy; it is not active yet. `previous_digest` is the active policy it would replace,
  so approving a proposal written against another active policy is refused.
- `policy.activated` {digest, previous_digest, policy, source, proposal, mode}: the policy
  became active, approved by the entry's actor. `proposal` is the proposal's seq (None for
  entries from before proposals existed); `mode` says how it was allowed (`Governance`).
- `policy.rejected` {proposal, reason}: a proposal was turned down or withdrawn.
- `policy.governance.set` {one_person, approver_role}: an admin chose whether a single-admin
  instance may activate alone, and which role a second person must hold.
- `policy.recorded` {digest, policy, source}: a policy a gate decision was made under, kept
  once per digest so decisions replay from the ledger alone.

Each has its payload type here. A policy travels as the JSON object its own model wrote
(`Policy.model_dump`, described by docs/schemas/policy.schema.json), never re-encoded: its
digest is over those bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Final

from pydantic import StrictBool, StrictInt

from changeproof.domain.canonical import JsonValue
from changeproof.domain.decisions import (
    POLICY_ACTIVATED,
    POLICY_RECORDED,
    Classification,
    ControlStatus,
)
from changeproof.domain.payloads import Document, EventPayload, JsonObject

__all__ = [
    "POLICY_GOVERNANCE_SET",
    "POLICY_PROPOSED",
    "POLICY_REJECTED",
    "ActivationMode",
    "ChangedControl",
    "PolicyActivated",
    "PolicyGovernanceSet",
    "PolicyProposed",
    "PolicyRecorded",
    "PolicyRejected",
    "ProposalSimulation",
    "SimulatedVerdict",
    "Verdict",
    "parse_proposal_id",
    "proposal_id",
]

POLICY_PROPOSED: Final = "policy.proposed"
POLICY_REJECTED: Final = "policy.rejected"
POLICY_GOVERNANCE_SET: Final = "policy.governance.set"

_ID: Final = re.compile(r"(?:POL-)?([0-9]{1,18})", re.IGNORECASE)


class ActivationMode(StrEnum):
    """How an activation was allowed."""

    SETUP = "setup"  # no admin existed yet: the instance was being set up
    ONE_PERSON = "one-person"  # a single-admin instance configured one-person activation
    TWO_PERSON = "two-person"  # a second person holding the approver role approved
    LEGACY = "legacy"  # recorded before activation needed a proposal


def proposal_id(seq: int) -> str:
    """A proposal is named after the ledger entry that proposed it."""
    return f"POL-{seq}"


def parse_proposal_id(text: str) -> int | None:
    """The proposing seq of `POL-57` or `57`; None when it is neither."""
    found = _ID.fullmatch(text.strip())
    return int(found.group(1)) if found else None


@dataclass(frozen=True, slots=True)
class ChangedControl(Document):
    """A control whose status a proposed policy changes, or that only one policy requires."""

    id: str
    old: ControlStatus | None  # None: the old policy did not require it
    new: ControlStatus | None  # None: the proposed policy does not require it
    reason: str  # the proposed policy's words (or the old ones when it no longer applies)


@dataclass(frozen=True, slots=True)
class Verdict(Document):
    """A gate decision's outcome: allowed or not, and how the change was classified."""

    allowed: StrictBool
    classification: Classification


@dataclass(frozen=True, slots=True)
class SimulatedVerdict(Document):
    """A recorded gate decision whose verdict the proposed policy would change."""

    seq: StrictInt  # the gate.decided entry
    decided_at: str
    release: str
    environment: str
    policy_digest: str  # the policy it was decided under
    old: Verdict
    new: Verdict
    controls: tuple[ChangedControl, ...]


@dataclass(frozen=True, slots=True)
class ProposalSimulation(Document):
    """What a proposal's policy would have decided differently, attached for its approver."""

    since: str | None  # a format_time text: decisions at or after it
    environment: str | None
    examined: StrictInt
    changed_count: StrictInt  # all of them; `changed` holds at most the first 200
    changed: tuple[SimulatedVerdict, ...]


@dataclass(frozen=True, slots=True)
class PolicyRecorded(EventPayload):
    """A policy a gate decision was made under, kept so the decision replays."""

    TYPE: ClassVar[str] = POLICY_RECORDED

    digest: str  # sha256 hex of the policy's canonical JSON
    policy: JsonObject
    source: str


@dataclass(frozen=True, slots=True)
class PolicyProposed(EventPayload):
    """A policy proposed as the active one; a second person approves or rejects it."""

    TYPE: ClassVar[str] = POLICY_PROPOSED

    digest: str
    previous_digest: str | None  # the active policy it would replace
    policy: JsonObject
    source: str
    simulation: ProposalSimulation | None


@dataclass(frozen=True, slots=True)
class PolicyActivated(EventPayload):
    """The instance's active policy changed, allowed as `mode` says (approved by the
    entry's actor when a second person was needed)."""

    TYPE: ClassVar[str] = POLICY_ACTIVATED

    digest: str
    previous_digest: str | None
    policy: JsonObject
    source: str | None
    # Entries from before proposals existed (migration 0009) carry neither key; since
    # then both, `proposal` null for an activation no second person approved.
    proposal: StrictInt | None = None
    mode: ActivationMode | None = None

    def to_data(self) -> dict[str, JsonValue]:
        data = Document.to_data(self)  # slots=True rebuilds the class: no bare super()
        if self.mode is None and self.proposal is None:
            del data["proposal"], data["mode"]
        return data


@dataclass(frozen=True, slots=True)
class PolicyRejected(EventPayload):
    """A proposal was turned down, or withdrawn by its proposer."""

    TYPE: ClassVar[str] = POLICY_REJECTED

    proposal: StrictInt  # the policy.proposed entry
    reason: str


@dataclass(frozen=True, slots=True)
class PolicyGovernanceSet(EventPayload):
    """Who may activate a policy: one-person activation for a single-admin instance, and
    the role a second person must hold."""

    TYPE: ClassVar[str] = POLICY_GOVERNANCE_SET

    one_person: StrictBool
    approver_role: str
