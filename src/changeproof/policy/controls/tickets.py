"""ticket-reference: every commit says which ticket asked for it.

Rule: every commit of the release references at least one ticket (the policy's ticket
patterns were applied when the release was recorded, so `Commit.tickets` holds the
matches); with `allow_merges_without_ticket`, merge commits are exempt. A commit with no
ticket of its own inherits the tickets of the merges that brought it in (see
`changeproof.domain.history`), unless `inherit_tickets` is off (or the policy's `tickets:`
spec says `no-inherit`).
"""

from __future__ import annotations

from typing import Final

from pydantic import Field

from changeproof.domain.decisions import ControlResult, ControlStatus, EvidenceRef
from changeproof.domain.history import Inherited
from changeproof.domain.releases import Commit
from changeproof.policy.controls.wording import (
    Refs,
    capped,
    commit_label,
    counted,
    each,
    listing,
    short,
)
from changeproof.policy.facts import Facts
from changeproof.policy.registry import Params, control

__all__ = ["ID", "TicketReference", "ticket_reference"]

ID: Final = "ticket-reference"


class TicketReference(Params):
    allow_merges_without_ticket: bool = Field(
        default=False, description="Merge commits need no ticket of their own."
    )
    inherit_tickets: bool = Field(
        default=True,
        description=(
            "A commit with no ticket of its own counts the tickets of the merges that brought "
            "it in (the merge on the tip's first-parent chain, and any merge in between)."
        ),
    )


def _tickets_of(commit: Commit, inherited: tuple[Inherited, ...] = ()) -> EvidenceRef:
    if commit.tickets or not inherited:
        return EvidenceRef("commit", commit.sha, ", ".join([t.key for t in commit.tickets]))
    via = "; ".join(
        f"{', '.join(t.key for t in i.tickets)} inherited via merge {short(i.merge)}"
        for i in inherited
    )
    return EvidenceRef("commit", commit.sha, via)


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
    through: dict[str, tuple[Inherited, ...]] = {}  # by SHA: what a checked commit inherits
    inherited = facts.inherited if params.inherit_tickets else {}
    for i, c in enumerate(facts.commits):  # one pass: a release may have 10,000 commits
        merge = c.merge
        merges += merge
        if not (merge and params.allow_merges_without_ticket):
            checked.append(c)
            if not c.tickets:
                got = inherited.get(i)
                if got:
                    through[c.sha] = got
                else:
                    untracked.append(c)
    tickets = {t.key for c in facts.commits for t in c.tickets}
    facts_out = {
        "commits": len(facts.commits),
        "merges": merges,
        "checked": len(checked),
        "untracked": len(untracked),
        "inherited": len(through),
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
    inheriting = (
        f", {len(through)} through the merge that brought {'it' if len(through) == 1 else 'them'}"
        " in"
        if through
        else ""
    )
    if not untracked:
        keys = listing(sorted(tickets))
        return ControlResult(
            ID,
            ControlStatus.PASS,
            f"{each(len(checked), 'commit')}{exempt} references a ticket{inheriting} ({keys})",
            capped(Refs(checked, lambda c: _tickets_of(c, through.get(c.sha, ())))),
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
