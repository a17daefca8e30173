"""ticket-reference: every commit names its ticket."""

from __future__ import annotations

from changeproof.domain.decisions import ControlStatus
from changeproof.policy.controls.tickets import TicketReference, ticket_reference
from tests.unit.policy.controls.factsbuilder import commit, facts, sha

C1 = commit("c1", tickets=["PAY-1"])
C2 = commit("c2", "Fix typo", tickets=[])
MERGE = commit("m", "Merge branch 'main'", tickets=[], merge=True)


def test_every_commit_with_a_ticket_passes() -> None:
    result = ticket_reference(facts([C1, commit("c3", tickets=["PAY-2"])]), TicketReference())
    assert result.status is ControlStatus.PASS
    assert result.reason == "each of the 2 commits references a ticket (PAY-1 and PAY-2)"
    assert result.facts == {
        "commits": 2,
        "merges": 0,
        "checked": 2,
        "untracked": 0,
        "inherited": 0,
        "tickets": 2,
    }


def test_a_commit_without_a_ticket_fails_naming_it() -> None:
    result = ticket_reference(facts([C1, C2]), TicketReference())
    assert result.status is ControlStatus.FAIL
    assert result.reason == f'1 of 2 commits references no ticket: {sha("c2")[:7]} "Fix typo"'
    assert [(e.kind, e.ref) for e in result.evidence] == [("commit", C2.sha)]
    assert result.facts["untracked"] == 1


def test_merges_need_a_ticket_unless_allowed() -> None:
    strict = ticket_reference(facts([C1, MERGE]), TicketReference())
    assert strict.status is ControlStatus.FAIL
    assert "Merge branch 'main'" in strict.reason
    lenient = ticket_reference(
        facts([C1, MERGE]), TicketReference(allow_merges_without_ticket=True)
    )
    assert lenient.status is ControlStatus.PASS
    assert lenient.reason == ("the commit (1 merge commit exempt) references a ticket (PAY-1)")


def test_an_empty_release_is_not_applicable() -> None:
    assert ticket_reference(facts([]), TicketReference()).status is ControlStatus.NOT_APPLICABLE
