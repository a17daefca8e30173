"""`ledger audit`: the ledger checked for meaning, not only for bytes.

`ledger verify` proves that nobody edited, removed or reordered an entry. It cannot tell
whether the entries make sense together: a database administrator who hid a failing test
run's row for one gate decision, or flipped a decision's row while a deployment was
recorded, and then put everything back, leaves a ledger whose every byte verifies. The
audit reads the ledger itself, never the live tables:

1. **Bytes.** The whole ledger is verified first (`ledger verify`); meaning is only
   checked on a ledger that holds.
2. **Facts.** Every projection is rebuilt from the ledger alone into a scratch database,
   so what follows sees what was recorded, whatever the live tables say now.
3. **Decisions.** Every `gate.decided` entry is replayed against the facts recorded before
   it, under the policy it names; a decision that does not replay to itself is named.
4. **Deployments.** Every deployment recorded as authorized must cite a decision that
   allowed exactly that release, environment and artifact, for that deployer (role and
   authorship), under the policy that was active when it was made.
5. **Approvals.** Every approval a passing `change-approval` control counted must be a
   `change.approved` entry of that change, by that actor, for the digest the decision
   names; and every approval must be of a digest the change's RFC had before it.
6. **Activations.** Every policy activation must have been allowed as it says: alone only
   while no admin existed (setup) or by the single admin of a one-person instance; else by
   a second person, holding the approver role, independent of the proposal it cites.

Each finding names the entry that does not hold. Replay uses today's controls: a decision
recorded by an older changeproof whose controls judged differently is named too, which is
what an auditor needs to know before relying on it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from changeproof.domain.changes import parse_change_id
from changeproof.domain.decisions import ControlResult, ControlStatus, GateDecided
from changeproof.domain.errors import ChangeproofError
from changeproof.domain.events import decode_body
from changeproof.domain.policies import ActivationMode, PolicyActivated
from changeproof.domain.records import DecisionRecord, DeploymentRecord
from changeproof.policy.evaluation import evaluate
from changeproof.services.deployments import why_not_authorized
from changeproof.services.gate import Replay, facts_as_of, recorded_policy, recorded_request
from changeproof.services.ledger import LedgerService
from changeproof.services.policies import alone, governance_as_of, second_person
from changeproof.store import changes as change_queries
from changeproof.store import decisions as recorded
from changeproof.store.actors import directory
from changeproof.store.database import Database
from changeproof.store.driver import chunks
from changeproof.store.projections import rebuilt
from changeproof.store.schema import ledger_events, policy_activations

__all__ = ["AuditFinding", "AuditReport", "LedgerAudit"]


@dataclass(frozen=True, slots=True)
class AuditFinding:
    seq: int
    kind: str  # ledger | decision | deployment | approval | activation
    message: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    entries: int
    decisions: int  # replayed
    deployments: int  # authorized ones checked
    approvals: int  # counted approvals checked
    findings: tuple[AuditFinding, ...]
    activations: int = 0  # policy activations checked

    @property
    def ok(self) -> bool:
        return not self.findings


class LedgerAudit:
    def __init__(self, db: Database, ledger: LedgerService) -> None:
        self._db = db
        self._ledger = ledger

    def run(self) -> AuditReport:
        verified = self._ledger.verify()
        if not verified.ok:
            return AuditReport(
                verified.entries,
                0,
                0,
                0,
                tuple(
                    AuditFinding(f.seq if f.seq is not None else 0, "ledger", f.message)
                    for f in verified.findings
                ),
            )
        findings: list[AuditFinding] = []
        with self._db.read() as conn, rebuilt(conn) as facts:
            decisions = list(recorded.decisions_since(facts, None, None))
            for entry in decisions:
                findings.extend(_replayed(facts, entry.seq, entry.document))
            deployments = 0
            for deployment in change_queries.list_deployments(facts, environment=None, since=None):
                if deployment.authorized:
                    deployments += 1
                    findings.extend(_authorized(facts, deployment))
            approvals = 0
            for entry in decisions:
                counted, problems = _counted_approvals(facts, entry.seq, entry.document)
                approvals += counted
                findings.extend(problems)
            findings.extend(_approvals_of_known_digests(facts))
            activations = 0
            for activation in _activations(conn, facts):
                activations += 1
                findings.extend(_activation_allowed(facts, *activation))
        return AuditReport(
            verified.entries,
            len(decisions),
            deployments,
            approvals,
            tuple(sorted(findings, key=lambda f: f.seq)),
            activations,
        )


def _replayed(facts: Connection, seq: int, decided: GateDecided) -> Iterator[AuditFinding]:
    try:
        digest = decided.policy_digest
        loaded = recorded_policy(facts, digest, f"that decided entry {seq}")
        request, now = recorded_request(decided)
        replayed = evaluate(
            loaded.policy,
            digest,
            facts_as_of(facts, request, loaded, decided.as_of_seq, now),
            declared=decided.declared,
        )
    except ChangeproofError as e:
        yield AuditFinding(seq, "decision", f"the decision cannot be replayed: {e.message}")
        return
    if Replay(seq, decided, replayed).same:
        return
    was = "allowed" if decided.allowed else "blocked"
    now_is = "allowed" if replayed.allowed else "blocked"
    differing = _differing_controls(decided, replayed.controls)
    yield AuditFinding(
        seq,
        "decision",
        f"the decision does not replay from the facts recorded before it: recorded {was}, "
        f"replays {now_is}" + (f" ({'; '.join(differing)})" if differing else ""),
    )


def _differing_controls(decided: GateDecided, controls: Sequence[ControlResult]) -> list[str]:
    before = {c.id: c.status for c in decided.controls}
    return [
        f"{control.id}: recorded {before.get(control.id)}, replays {control.status}"
        for control in controls
        if before.get(control.id) != control.status
    ]


def _authorized(facts: Connection, deployment: DeploymentRecord) -> Iterator[AuditFinding]:
    seq, cited = deployment.seq, deployment.decision_seq
    where = f"the deployment is recorded as authorized by decision {cited}"
    rows = {
        d.seq: d for d in recorded.decisions_for(facts, deployment.release, deployment.environment)
    }
    decision: DecisionRecord | None = None if cited is None else rows.get(cited)
    if decision is None:
        yield AuditFinding(
            seq,
            "deployment",
            f"{where}, which is no gate decision for {deployment.release} into "
            f"{deployment.environment}",
        )
        return
    if not decision.allowed:
        yield AuditFinding(seq, "deployment", f"{where}, which blocked the release")
        return
    people = directory(facts, seq)
    deployer = people.resolve(deployment.actor)
    try:
        problem = why_not_authorized(
            facts, None, decision, deployment.artifact, deployer, deployment.actor, people
        )
    except ChangeproofError as e:
        problem = e.message
    if problem is not None:
        yield AuditFinding(seq, "deployment", f"{where}, but {problem}")


def _counted_approvals(
    facts: Connection, seq: int, decided: GateDecided
) -> tuple[int, list[AuditFinding]]:
    """The approvals a passing change-approval control counted, each checked."""
    counted = 0
    problems: list[AuditFinding] = []
    for control in decided.controls:
        if control.id != "change-approval" or control.status is not ControlStatus.PASS:
            continue
        change = next((r for r in control.evidence if r.kind == "change"), None)
        change_seq = None if change is None else parse_change_id(change.ref)
        digest = None if change is None else (change.note or "").removeprefix("digest ")
        verdicts = (
            {}
            if change_seq is None
            else {v.seq: v for v in change_queries.verdicts_of(facts, change_seq)}
        )
        for ref in control.evidence:
            if ref.kind != "approval":
                continue
            counted += 1
            at = ref.ref
            verdict = verdicts.get(int(at)) if at.isdigit() else None
            if verdict is None or verdict.verdict != "approved":
                problems.append(
                    AuditFinding(
                        seq,
                        "approval",
                        f"the decision counts approval {at}, which is no approval of "
                        f"CHG-{change_seq}",
                    )
                )
            elif verdict.actor != ref.note or verdict.digest != digest:
                problems.append(
                    AuditFinding(
                        seq,
                        "approval",
                        f"the decision counts approval {at} by {ref.note} of digest "
                        f"{digest}, but entry {at} is {verdict.actor}'s approval of digest "
                        f"{verdict.digest}",
                    )
                )
    return counted, problems


def _approvals_of_known_digests(facts: Connection) -> Iterator[AuditFinding]:
    """Every approval is of a digest its change's RFC had before it."""
    for change in change_queries.list_changes(facts, environment=None, overdue_at=None):
        for verdict in change_queries.verdicts_of(facts, change.seq):
            if verdict.verdict != "approved":
                continue
            revision = change_queries.revision_before(facts, change.seq, verdict.seq)
            digests = {revision[1]} if revision is not None else set()
            if verdict.digest not in digests:
                yield AuditFinding(
                    verdict.seq,
                    "approval",
                    f"{verdict.actor} approved digest {verdict.digest} of CHG-{change.seq}, "
                    "which was not its RFC's digest then",
                )


def _activations(
    ledger: Connection, facts: Connection
) -> Iterator[tuple[int, str, PolicyActivated]]:
    """(seq, actor, payload) of every `policy.activated` entry, read from the verified ledger."""
    a = policy_activations.c
    seqs = [int(seq) for (seq,) in facts.execute(select(a.seq).order_by(a.seq))]
    for chunk in chunks(seqs):
        rows = ledger.execute(
            select(ledger_events.c.seq, ledger_events.c.body)
            .where(ledger_events.c.seq.in_(chunk))
            .order_by(ledger_events.c.seq)
        )
        for seq, body in rows:
            event = decode_body(bytes(body), seq=int(seq))
            yield int(seq), str(event.actor), event.as_(PolicyActivated)


def _activation_allowed(
    facts: Connection, seq: int, actor: str, activated: PolicyActivated
) -> Iterator[AuditFinding]:
    """An activation is allowed as its mode says, by the directory as it stood then."""
    mode = activated.mode
    if mode is None or mode is ActivationMode.LEGACY:
        return  # recorded before activations needed a proposal
    people = directory(facts, seq)
    rules = governance_as_of(facts, people, seq)
    if mode in (ActivationMode.SETUP, ActivationMode.ONE_PERSON):
        if alone(rules, people, actor) != mode:
            yield AuditFinding(
                seq,
                "activation",
                f"policy {activated.digest[:12]}… was activated by {actor} alone "
                f"({mode}), but the instance was then {rules.describe()}",
            )
        return
    proposal_seq = activated.proposal
    proposal = None if proposal_seq is None else recorded.find_proposal(facts, proposal_seq)
    if proposal is None or proposal.digest != activated.digest:
        yield AuditFinding(
            seq,
            "activation",
            f"the activation cites proposal {proposal_seq}, which did not propose policy "
            f"{activated.digest[:12]}…",
        )
        return
    try:
        second_person(people, rules, proposal, actor)
    except ChangeproofError as e:
        yield AuditFinding(seq, "activation", f"the second person does not count: {e.message}")
