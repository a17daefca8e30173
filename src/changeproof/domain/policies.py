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
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

__all__ = [
    "POLICY_GOVERNANCE_SET",
    "POLICY_PROPOSED",
    "POLICY_REJECTED",
    "ActivationMode",
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
