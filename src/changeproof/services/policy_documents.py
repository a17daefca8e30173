"""The instance's policy as every interface shows it: what `policy … -o json` prints and
the API answers, one builder per result of `PolicyService`."""

from __future__ import annotations

from changeproof.domain.canonical import JsonValue
from changeproof.domain.policies import proposal_id
from changeproof.domain.records import ProposalRecord
from changeproof.services.policies import (
    Activated,
    ActivePolicy,
    Governance,
    PolicyStatus,
    Simulation,
)
from changeproof.store.decisions import Activation

__all__ = [
    "activated_document",
    "activation_document",
    "active_document",
    "approved_document",
    "governance_document",
    "history_document",
    "proposal_document",
    "simulation_document",
    "status_document",
]


def activated_document(done: Activated) -> dict[str, JsonValue]:
    """What proposing a policy did: recorded or not, active at once or waiting."""
    return {
        "ok": True,
        "policy": done.source,
        "digest": done.digest,
        "previous_digest": done.previous_digest,
        "recorded": done.recorded,
        "seq": done.seq,
        "proposal": None if done.proposal is None else proposal_id(done.proposal),
        # Nothing recorded and no pending proposal: it was the active policy already.
        "active": done.active or (not done.recorded and done.proposal is None),
        "mode": None if done.mode is None else str(done.mode),
    }


def approved_document(done: Activated) -> dict[str, JsonValue]:
    """A proposal a second person approved: the policy it made active."""
    return {
        "ok": True,
        "proposal": None if done.proposal is None else proposal_id(done.proposal),
        "digest": done.digest,
        "previous_digest": done.previous_digest,
        "seq": done.seq,
        "mode": None if done.mode is None else str(done.mode),
    }


def simulation_document(s: Simulation) -> dict[str, JsonValue]:
    """The recorded decisions a policy would have decided differently."""
    return {
        "policy": s.policy.source,
        "digest": s.policy.digest,
        "since": None if s.since is None else s.since.isoformat(),
        "environment": s.environment,
        "examined": s.examined,
        "changed": [c.to_data() for c in s.changed],
    }


def activation_document(a: Activation) -> dict[str, JsonValue]:
    return {
        "digest": a.digest,
        "previous_digest": a.previous_digest,
        "source": a.source,
        "seq": a.seq,
        "actor": a.actor,
        "activated_at": a.activated_at,
    }


def active_document(active: ActivePolicy) -> dict[str, JsonValue]:
    """The active policy's activation and the policy itself, as recorded (its JSON)."""
    policy: JsonValue = active.policy.policy.model_dump(mode="json")
    return {**activation_document(active.activation), "policy": policy}


def governance_document(rules: Governance) -> dict[str, JsonValue]:
    return {
        "mode": str(rules.mode),
        "one_person": rules.one_person,
        "approver_role": rules.approver_role,
        "admins": list(rules.admins),
        "set_at_seq": None if rules.setting is None else rules.setting.seq,
        "description": rules.describe(),
    }


def proposal_document(p: ProposalRecord) -> dict[str, JsonValue]:
    return {
        "id": proposal_id(p.seq),
        "seq": p.seq,
        "digest": p.digest,
        "previous_digest": p.previous_digest,
        "source": p.source,
        "proposed_by": p.actor,
        "proposed_at": p.proposed_at,
        "state": p.state,
        "decided_seq": p.decided_seq,
        "decided_by": p.decided_by,
        "reason": p.reason,
        "simulation": p.simulation,
    }


def status_document(state: PolicyStatus) -> dict[str, JsonValue]:
    a = state.active
    return {
        "active": None if a is None else activation_document(a),
        "activations": state.activations,
        "governance": governance_document(state.governance),
        "pending": [proposal_document(p) for p in state.pending],
    }


def history_document(item: Activation | ProposalRecord) -> dict[str, JsonValue]:
    """One item of the policy's history: an activation, or a proposal (any state)."""
    if isinstance(item, Activation):
        return {"kind": "activation", **activation_document(item)}
    return {"kind": "proposal", **proposal_document(item)}
