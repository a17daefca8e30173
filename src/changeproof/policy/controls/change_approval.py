"""change-approval: a normal or urgent change goes out only with a valid approval quorum.

The release needs a change (`changeproof change open`) for this environment whose RFC is
current (no commit, evidence or artifact recorded since it was written), that nobody
rejected, and that a quorum approved: approvals of this RFC's digest, at most
`valid_for_hours` old, from actors holding `role` now (each actor counted once), one of
them from each group the rule asks for when migrations or high-risk paths change.
An urgent change is held to the `urgent` rule; a standard change needs no approval.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from changeproof.domain.changes import ApprovalRecord, ChangeFact, ChangeState, approval_status
from changeproof.domain.decisions import Classification, ControlResult, ControlStatus, EvidenceRef
from changeproof.domain.rfc import ApprovalRule, GroupRequirement
from changeproof.policy.facts import Facts
from changeproof.policy.model import RoleName
from changeproof.policy.registry import Params, control

__all__ = ["CHANGE_APPROVAL", "ApprovalParams", "ChangeApproval", "GroupParams", "change_approval"]

CHANGE_APPROVAL: Final = "change-approval"


class GroupParams(Params):
    group: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]*$", description="An actor group one approver belongs to."
    )
    when: Literal["always", "migrations", "high-risk"] = Field(
        default="always",
        description="When the group is needed: always, when schema migrations change, or "
        "when a high-risk area's paths change.",
    )


class ApprovalParams(Params):
    # At least one: a quorum of none would make the control pass for any change, which an
    # environment that lists change-approval cannot mean.
    quorum: int = Field(ge=1, le=20, description="How many distinct actors must approve.")
    role: RoleName = Field(default="approver", description="The role each must hold.")
    valid_for_hours: int = Field(
        default=24, ge=1, le=24 * 90, description="How long an approval counts."
    )
    groups: tuple[GroupParams, ...] = ()

    def rule(self) -> ApprovalRule:
        return ApprovalRule(
            self.quorum,
            self.role,
            self.valid_for_hours,
            tuple(GroupRequirement(g.group, g.when) for g in self.groups),
        )


class ChangeApproval(Params):
    normal: ApprovalParams = Field(
        default=ApprovalParams(quorum=1), description="The rule for normal changes."
    )
    urgent: ApprovalParams = Field(
        default=ApprovalParams(quorum=1, role="emergency-approver"),
        description="The rule for urgent changes before they deploy (at least one approver).",
    )
    urgent_review_business_days: int = Field(
        default=2,
        ge=0,
        le=30,
        description="Working days within which an urgent change must be reviewed after it.",
    )
    overdue_blocks_urgent: Literal["requester", "team", "nobody"] = Field(
        default="requester",
        description="Whose overdue after-the-fact review stops a requester opening another "
        "urgent change: their own (requester), their own or that of anyone sharing a group "
        "with them (team), or nobody's. Urgent changes must not become the normal path.",
    )


@control(
    CHANGE_APPROVAL,
    params=ChangeApproval,
    summary="a change request for the release was approved by a valid quorum",
    safety=True,
    classifications=frozenset({Classification.NORMAL, Classification.URGENT}),
)
def change_approval(facts: Facts, params: ChangeApproval) -> ControlResult:
    change = facts.change
    if change is None:
        return _fail(
            f"no change request for {facts.release} to {facts.environment}: open one with "
            f"`changeproof change open --release {facts.release} --env {facts.environment}`, "
            "then have it approved",
            (),
        )
    refs = (EvidenceRef("change", change.id, f"digest {change.digest}"),)
    if change.state is ChangeState.REJECTED:
        return _fail(
            f"change {change.id} was rejected by {change.rejected_by}: {change.rejected_reason}; "
            "a rejected change never deploys: open a new one",
            refs,
        )
    if facts.urgent and not change.urgent:
        return _fail(
            f"change {change.id} was not opened as urgent; open an urgent change "
            "(`change open --urgent --reason TEXT`) or deploy it as a normal change",
            refs,
        )
    newer = change.out_of_date(
        (c.sha for c in facts.commits),
        (e.seq for e in facts.evidence),
        (a.seq for a in facts.artifacts),
    )
    rule = (params.urgent if change.urgent else params.normal).rule()
    status = approval_status(
        rule,
        change.approvals,
        digest=change.digest,
        now=facts.now,
        directory=facts.directory,
        migrations=change.migrations,
        high_risk=change.high_risk,
        parties=change.parties,
    )
    if newer:
        return _fail(
            f"change {change.id}'s RFC (digest {change.digest[:12]}) was written before "
            f"{'; '.join(newer)}: run `changeproof change refresh {change.id}`, then "
            f"{_who_again(status.counted, rule)} must approve the new digest",
            refs,
        )
    if not status.satisfied:
        reason = f"change {change.id} needs {' and '.join(status.missing)}"
        reason += _not_counting(status.stale, status.expired, status.unqualified, change, rule)
        reason += "".join(
            f"; not counting {a.actor}: {why}, so they are not independent of the change"
            for a, why in status.dependent
        )
        if status.counted:
            reason += f"; counted so far: {_names(status.counted)}"
        return _fail(reason, refs)
    return ControlResult(
        CHANGE_APPROVAL,
        ControlStatus.PASS,
        f"change {change.id} approved by {_names(status.counted)} "
        f"(quorum {rule.quorum} of role {rule.role}) for digest {change.digest[:12]}",
        refs + tuple(EvidenceRef("approval", str(a.seq), a.actor) for a in status.counted),
        {"approvals": len(status.counted), "quorum": rule.quorum, "urgent": change.urgent},
    )


def _fail(reason: str, refs: tuple[EvidenceRef, ...]) -> ControlResult:
    return ControlResult(CHANGE_APPROVAL, ControlStatus.FAIL, reason, refs, {"approvals": 0})


def _names(approvals: tuple[ApprovalRecord, ...]) -> str:
    return ", ".join(sorted(a.actor for a in approvals))


def _who_again(counted: tuple[ApprovalRecord, ...], rule: ApprovalRule) -> str:
    if counted:
        return f"{_names(counted)} (or others of role {rule.role}, {rule.quorum} in all)"
    return f"{rule.quorum} of role {rule.role}"


def _not_counting(
    stale: tuple[ApprovalRecord, ...],
    expired: tuple[ApprovalRecord, ...],
    unqualified: tuple[ApprovalRecord, ...],
    change: ChangeFact,
    rule: ApprovalRule,
) -> str:
    parts: list[str] = []
    if stale:
        parts.append(
            f"{_names(stale)} approved an earlier RFC (digest "
            f"{', '.join(sorted({a.digest[:12] for a in stale}))}, now {change.digest[:12]}) "
            "and must approve again"
        )
    if expired:
        parts.append(f"{_names(expired)} approved more than {rule.valid_for_hours} hours ago")
    if unqualified:
        parts.append(f"{_names(unqualified)} do not hold role {rule.role}")
    return "; not counting: " + "; ".join(parts) if parts else ""
