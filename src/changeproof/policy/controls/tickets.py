"""ticket-reference: every commit says which ticket asked for it.

Rule: every commit of the release references at least one ticket (the policy's ticket
patterns were applied when the release was recorded, so `Commit.tickets` holds the
matches); with `allow_merges_without_ticket`, merge commits are exempt.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field

from changeproof.domain.decisions import ControlResult, ControlStatus, EvidenceRef
from changeproof.domain.releases import Commit
from changeproof.policy.controls.wording import (
    Refs,
    capped,
    commit_label,
    counted,
    each,
    listing,
)
from changeproof.policy.facts import Facts
from changeproof.policy.registry import Params, control

__all__ = ["ID", "TicketReference", "ticket_reference"]

ID: Final = "ticket-reference"


class TicketReference(Params):
    allow_merges_without_ticket: bool = Field(
        default=False, description="Merge commits need no ticket of their own."
    )


def _tickets_of(commit: Commit) -> EvidenceRef:
    return EvidenceRef("commit", commit.sha, ", ".join([t.key for t in commit.tickets]))


@control(
    ID,
    params=TicketReference,
    summary="every commit references a ticket matching the policy's ticket patterns",
)
def ticket_reference(facts: Facts, params: TicketReference) -> ControlResult:
    """Every commit (merges too, unless allowed) references a ticket."""
    merges = 0
    checked: list[Commit] = []
    untracked: list[Commit] = []
    for c in facts.commits:  # one pass: a release may have 10,000 commits
        merge = c.merge
        merges += merge
        if not (merge and params.allow_merges_without_ticket):
            checked.append(c)
            if not c.tickets:
                untracked.append(c)
    tickets = {t.key for c in facts.commits for t in c.tickets}
    facts_out = {
        "commits": len(facts.commits),
        "merges": merges,
        "checked": len(checked),
        "untracked": len(untracked),
        "tickets": len(tickets),
    }
    if not facts.commits:
        return ControlResult(
            ID, ControlStatus.NOT_APPLICABLE, "the release has no commits", (), facts_out
        )
    exempt = (
        f" ({counted(merges, 'merge commit')} exempt)"
        if merges and params.allow_merges_without_ticket
        else ""
    )
    if not untracked:
        keys = listing(sorted(tickets))
        return ControlResult(
            ID,
            ControlStatus.PASS,
            f"{each(len(checked), 'commit')}{exempt} references a ticket ({keys})",
            capped(Refs(checked, _tickets_of)),
            facts_out,
        )
    verb = "references" if len(untracked) == 1 else "reference"
    return ControlResult(
        ID,
        ControlStatus.FAIL,
        f"{len(untracked)} of {counted(len(checked), 'commit')}{exempt} {verb} no ticket: "
        f"{listing([commit_label(c) for c in untracked])}",
        capped(EvidenceRef("commit", c.sha, "references no ticket") for c in untracked),
        facts_out,
    )
