"""The instance's policy: which one is active, proposing and approving a new one, and a
proposed one's impact.

Only the active policy's decisions count (a policy file given to the gate is a dry run), so
changing it is a change too: `activate` records `policy.proposed`, and a second person
holding the approver role (admin unless configured) records `policy.activated` by
approving it (`approve`). An instance being set up (no admin yet) activates at once; one
with a single admin may configure one-person activation (`set_governance`), recorded and
shown by `status`. Every activation carries the policy itself, so decisions under it replay
from the ledger alone.

`simulate` re-evaluates recorded gate decisions under a proposed policy, each with the
facts as of the decision's own ledger position, and reports the verdicts that would change;
a proposal may carry that report for its approver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from sqlalchemy import Connection

from changeproof.domain.actors import Directory, Role
from changeproof.domain.canonical import JsonValue
from changeproof.domain.clock import Clock
from changeproof.domain.decisions import Classification, ControlResult, GateDecided
from changeproof.domain.errors import (
    ConflictError,
    Field,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    UsageError,
    operation,
)
from changeproof.domain.events import Event, format_time
from changeproof.domain.identity import Sameness
from changeproof.domain.policies import (
    ActivationMode,
    ChangedControl,
    PolicyActivated,
    PolicyGovernanceSet,
    PolicyProposed,
    PolicyRejected,
    ProposalSimulation,
    SimulatedVerdict,
    Verdict,
    parse_proposal_id,
    proposal_id,
)
from changeproof.domain.records import GovernanceRecord, ProposalRecord
from changeproof.policy.evaluation import evaluate
from changeproof.policy.loader import LoadedPolicy, load_policy, load_policy_file
from changeproof.policy.model import ROLE_NAMES
from changeproof.services.authority import acting, require_admin
from changeproof.services.gate import active_policy_or_none, facts_as_of, recorded_request
from changeproof.store import decisions as recorded
from changeproof.store.actors import checked_directory, directory
from changeproof.store.database import Database
from changeproof.store.entry_check import EntryChecks
from changeproof.store.unit_of_work import UnitOfWork

__all__ = [
    "DEFAULT_POLICY_FILE",
    "Activated",
    "ActivePolicy",
    "ChangedVerdict",
    "Governance",
    "PolicyService",
    "PolicyStatus",
    "Simulation",
    "governance_as_of",
    "parse_since",
    "policy_file_for",
    "policy_from_text",
]

DEFAULT_POLICY_FILE: Final = Path("changeproof.yaml")


def policy_file_for(explicit: Path | None, cwd: Path) -> Path | None:
    """The gate's policy: --policy, else ./changeproof.yaml if there is one, else None
    (the instance's active policy)."""
    if explicit is not None:
        return explicit
    return DEFAULT_POLICY_FILE if (cwd / DEFAULT_POLICY_FILE).is_file() else None


def parse_since(text: str, field: str = "since") -> datetime:
    """`2026-11-01` (midnight UTC) or an ISO 8601 time (UTC when it names no zone); `field`
    is the request field the error names (`until` reads times the same way)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{Field(field)} {text!r} is not a date or time; "
            "write 2026-11-01 or 2026-11-01T09:00:00Z"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Activated:
    """What `activate` did: proposed the policy, activated it at once, or nothing."""

    digest: str
    previous_digest: str | None
    source: str
    seq: int | None  # None: the policy was already the active one; nothing was recorded
    proposal: int | None = None  # the proposal's seq, when it awaits a second person
    mode: ActivationMode | None = None  # how it became active, when it did

    @property
    def recorded(self) -> bool:
        return self.seq is not None

    @property
    def active(self) -> bool:
        return self.mode is not None


@dataclass(frozen=True, slots=True)
class Governance:
    """Who may make a policy active, as the instance stands now."""

    mode: ActivationMode  # what the next activation needs: SETUP, ONE_PERSON or TWO_PERSON
    approver_role: str
    one_person: bool  # configured; it applies only while the instance has a single admin
    admins: tuple[str, ...]
    setting: GovernanceRecord | None  # the entry that configured it, if any

    def describe(self) -> str:
        if self.mode is ActivationMode.SETUP:
            return (
                "setup: no actor holds admin yet, so a policy is active as soon as it is "
                f"proposed; make the first admin with {operation('actor add', '…', role='admin')}"
            )
        if self.mode is ActivationMode.ONE_PERSON:
            where = "" if self.setting is None else f" (configured at entry {self.setting.seq})"
            return (
                f"one-person: {self.admins[0]}, the only admin, activates alone{where}; "
                "a second admin turns this off"
            )
        extra = (
            " (one-person activation is configured but does not apply: the instance has "
            f"{len(self.admins)} admins)"
            if self.one_person
            else ""
        )
        return (
            f"two-person: a proposal becomes active when someone other than its proposer "
            f"holding role {self.approver_role} approves it{extra}"
        )


@dataclass(frozen=True, slots=True)
class PolicyStatus:
    active: recorded.Activation | None
    activations: int  # how many times the active policy was changed
    governance: Governance
    pending: tuple[ProposalRecord, ...]


@dataclass(frozen=True, slots=True)
class ActivePolicy:
    activation: recorded.Activation
    policy: LoadedPolicy


@dataclass(frozen=True, slots=True)
class ChangedVerdict:
    seq: int
    decided_at: str
    release: str
    environment: str
    old_digest: str
    old_allowed: bool
    new_allowed: bool
    old_classification: Classification
    new_classification: Classification
    controls: tuple[ChangedControl, ...]

    def simulated(self) -> SimulatedVerdict:
        """As a proposal records it (and `policy simulate` reports it)."""
        return SimulatedVerdict(
            seq=self.seq,
            decided_at=self.decided_at,
            release=self.release,
            environment=self.environment,
            policy_digest=self.old_digest,
            old=Verdict(self.old_allowed, self.old_classification),
            new=Verdict(self.new_allowed, self.new_classification),
            controls=self.controls,
        )

    def to_data(self) -> dict[str, JsonValue]:
        return self.simulated().to_data()


@dataclass(frozen=True, slots=True)
class Simulation:
    policy: LoadedPolicy
    since: datetime | None
    environment: str | None
    examined: int
    changed: tuple[ChangedVerdict, ...]


class PolicyService:
    def __init__(
        self,
        db: Database,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        checks: EntryChecks,
    ) -> None:
        self._db = db
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._checks = checks

    def activate(
        self,
        policy_file: Path,
        *,
        actor: str,
        simulate: bool = False,
        since: datetime | None = None,
    ) -> Activated:
        """Propose the policy in `policy_file` as the instance's active one.

        It becomes active at once only while the instance is being set up (no admin yet) or
        when its single admin configured one-person activation; otherwise it waits for a
        second person (`approve`). With `simulate`, the proposal carries what the policy
        would have decided differently, for the approver to read.
        """
        by = acting(actor)
        return self._activate(load_policy_file(policy_file), by, simulate, since)

    def activate_text(
        self,
        text: str,
        *,
        source: str,
        actor: str,
        simulate: bool = False,
        since: datetime | None = None,
    ) -> Activated:
        """`activate` for a policy given as its text (YAML, or JSON, which YAML reads),
        not a file: `source` is the name its errors and its ledger entry give it."""
        by = acting(actor)
        return self._activate(policy_from_text(text, source), by, simulate, since)

    def _activate(
        self, loaded: LoadedPolicy, by: str, simulate: bool, since: datetime | None
    ) -> Activated:
        now = self._clock.now()
        with self._unit_of_work() as uow:
            conn = uow.conn
            # The unit of work holds the head's lock: one activation at a time, so
            # `previous` is still the active policy when this one is recorded.
            current = recorded.active_policy(conn)
            previous = None if current is None else current.digest
            if previous == loaded.digest:
                return Activated(loaded.digest, previous, loaded.source, None)
            people = self._people(conn)
            rules = governance_as_of(conn, people)
            policy = loaded.policy.model_dump(mode="json")
            mode = alone(rules, people, by)
            proposed = False
            if mode is not None:
                activated = PolicyActivated(
                    loaded.digest, previous, policy, loaded.source, proposal=None, mode=mode
                )
                uow.record(Event.of(activated, by, now))
            else:
                for pending in recorded.list_proposals(conn, state="pending"):
                    if (pending.digest, pending.previous_digest) == (loaded.digest, previous):
                        return Activated(loaded.digest, previous, loaded.source, None, pending.seq)
                proposed = self._propose(uow, loaded, previous, by, simulate, since)
        seq = uow.recorded[-1].seq
        return Activated(
            loaded.digest, previous, loaded.source, seq, seq if proposed else None, mode
        )

    def _propose(
        self,
        uow: UnitOfWork,
        loaded: LoadedPolicy,
        previous: str | None,
        by: str,
        simulate: bool,
        since: datetime | None,
    ) -> bool:
        evidence = None
        if simulate:
            evidence = _simulation_data(self._simulate(uow.conn, loaded, since, None))
        policy = loaded.policy.model_dump(mode="json")
        proposed = PolicyProposed(loaded.digest, previous, policy, loaded.source, evidence)
        uow.record(Event.of(proposed, by, self._clock.now()))
        return True

    def approve(self, ident: str, *, by: str, digest: str | None = None) -> Activated:
        """A second person approves a proposal: the policy becomes the active one.

        The approver holds the governance's approver role, is not the proposer (whichever
        alias either used), and was not made an actor or given that role by the proposer.
        `digest`, when given, must be the proposed policy's: the approver approves what
        they read.
        """
        by = acting(by)
        now = self._clock.now()
        with self._unit_of_work() as uow:
            conn = uow.conn
            proposal = _pending(conn, ident)
            if digest is not None and digest.removeprefix("sha256:").lower() != proposal.digest:
                raise ConflictError(
                    f"{proposal_id(proposal.seq)} proposes policy {proposal.digest}, not "
                    f"{digest}: the policy differs from the one you read",
                    hint=f"read it again with {operation('policy status')}",
                )
            current = recorded.active_policy(conn)
            previous = None if current is None else current.digest
            if previous != proposal.previous_digest:
                raise ConflictError(
                    f"{proposal_id(proposal.seq)} was proposed to replace policy "
                    f"{proposal.previous_digest or 'none'}, but the active policy is now "
                    f"{previous or 'none'}: approving it would undo that activation",
                    hint="propose the policy again against the active one",
                )
            people = self._people(conn)
            rules = governance_as_of(conn, people)
            approver = second_person(people, rules, proposal, by)
            document = recorded.policy_document(conn, proposal.digest)
            if document is None:
                raise IntegrityError(
                    f"the policy {proposal.digest} of {proposal_id(proposal.seq)} is not recorded"
                )
            activated = PolicyActivated(
                proposal.digest,
                previous,
                document,
                proposal.source,
                proposal=proposal.seq,
                mode=ActivationMode.TWO_PERSON,
            )
            uow.record(Event.of(activated, approver, now))
        return Activated(
            proposal.digest,
            previous,
            proposal.source or "",
            uow.recorded[-1].seq,
            proposal.seq,
            ActivationMode.TWO_PERSON,
        )

    def reject(self, ident: str, *, by: str, reason: str) -> ProposalRecord:
        """Turn a proposal down (a holder of the approver role) or withdraw it (its proposer)."""
        by = acting(by)
        if not reason.strip():
            raise UsageError("a rejection needs a reason")
        now = self._clock.now()
        with self._unit_of_work() as uow:
            conn = uow.conn
            proposal = _pending(conn, ident)
            people = self._people(conn)
            rules = governance_as_of(conn, people)
            me = people.identify(by)
            own = _same(people, by, proposal.actor)
            if not own and (me is None or rules.approver_role not in me.roles):
                raise PermissionDeniedError(
                    f"{by} cannot reject {proposal_id(proposal.seq)}: only its proposer or an "
                    f"actor holding role {rules.approver_role} may"
                )
            rejected = PolicyRejected(proposal.seq, reason.strip())
            uow.record(Event.of(rejected, me.name if me is not None else by, now))
        return self.proposal(str(proposal.seq))

    def proposal(self, ident: str) -> ProposalRecord:
        with self._db.read() as conn:
            return _proposal(conn, ident)

    def set_governance(
        self, *, one_person: bool | None = None, approver_role: str | None = None, by: str
    ) -> Governance:
        """Record who may activate a policy: one-person activation (only for an instance with
        a single admin) and the role a second person must hold; either left None stays as
        it is, read under the ledger's lock."""
        by = acting(by)
        if one_person is None and approver_role is None:
            raise UsageError(f"give {Field('one_person')}, or {Field('approver_role')}, or both")
        now = self._clock.now()
        with self._unit_of_work() as uow:
            conn = uow.conn
            people = self._people(conn)
            require_admin(by, people, action="change how policies are activated")
            before = governance_as_of(conn, people)
            role = approver_role if approver_role is not None else before.approver_role
            if one_person is None:
                one_person = before.one_person
            if role not in ROLE_NAMES:
                raise UsageError(
                    f"the approver role must be one of {', '.join(ROLE_NAMES)}, not {role!r}"
                )
            admins = people.holders(Role.ADMIN)
            if one_person and len(admins) > 1:
                raise ConflictError(
                    f"one-person activation is for an instance with a single admin, and "
                    f"{', '.join(admins)} hold admin: a second admin approves instead",
                    hint=f"{operation('policy approve', 'POL-N')} by another admin",
                )
            if (before.one_person, before.approver_role) == (one_person, role) and (
                before.setting is not None
            ):
                return before
            uow.record(Event.of(PolicyGovernanceSet(one_person, role), by, now))
        with self._db.read() as conn:
            return governance_as_of(conn, directory(conn))

    def status(self) -> PolicyStatus:
        with self._db.read() as conn:
            return PolicyStatus(
                recorded.active_policy(conn),
                recorded.count_activations(conn),
                governance_as_of(conn, directory(conn)),
                tuple(recorded.list_proposals(conn, state="pending")),
            )

    def _people(self, conn: Connection) -> Directory:
        """The directory, held to its entries: who is an admin decides who may activate."""
        check = self._checks(conn)
        people = checked_directory(conn, check)
        check.confirm()
        return people

    def simulate(
        self, policy_file: Path, *, since: datetime | None = None, environment: str | None = None
    ) -> Simulation:
        """Every recorded gate decision (decided at or after `since`, in `environment`)
        re-evaluated under the proposed policy; those whose verdict would change."""
        proposed = load_policy_file(policy_file)
        with self._db.read() as conn:
            return self._simulate(conn, proposed, since, environment)

    def simulate_text(
        self,
        text: str,
        *,
        source: str,
        since: datetime | None = None,
        environment: str | None = None,
    ) -> Simulation:
        """`simulate` for a policy given as its text (see `activate_text`)."""
        proposed = policy_from_text(text, source)
        with self._db.read() as conn:
            return self._simulate(conn, proposed, since, environment)

    def history(self) -> tuple[recorded.Activation | ProposalRecord, ...]:
        """Every activation and every proposal (whatever became of it), oldest first."""
        with self._db.read() as conn:
            found: list[recorded.Activation | ProposalRecord] = [
                *recorded.list_activations(conn),
                *recorded.list_proposals(conn),
            ]
        return tuple(sorted(found, key=lambda item: item.seq))

    def active(self) -> ActivePolicy:
        """The active policy as the gate reads it: the activation held to its ledger entry,
        the recorded document to its digest."""
        with self._db.read() as conn:
            loaded = active_policy_or_none(conn, self._checks(conn))
            activation = recorded.active_policy(conn)
        if loaded is None or activation is None:
            raise NotFoundError(
                "no active policy: none was ever activated",
                hint=f"propose one with {operation('policy activate', 'FILE')}",
            )
        return ActivePolicy(activation, loaded)

    @staticmethod
    def _simulate(
        conn: Connection,
        proposed: LoadedPolicy,
        since: datetime | None,
        environment: str | None,
    ) -> Simulation:
        changed: list[ChangedVerdict] = []
        examined = 0
        after = None if since is None else format_time(since)
        for entry in recorded.decisions_since(conn, after, environment):
            examined += 1
            document = entry.document
            request, now = recorded_request(document)
            facts = facts_as_of(conn, request, proposed, document.as_of_seq, now)
            new = evaluate(proposed.policy, proposed.digest, facts, declared=document.declared)
            old_allowed = document.allowed
            old_class = document.classification
            if new.allowed == old_allowed and new.classification is old_class:
                continue
            changed.append(
                ChangedVerdict(
                    seq=entry.seq,
                    decided_at=entry.decided_at,
                    release=str(request.release),
                    environment=request.environment,
                    old_digest=document.policy_digest,
                    old_allowed=old_allowed,
                    new_allowed=new.allowed,
                    old_classification=old_class,
                    new_classification=new.classification,
                    controls=_changed_controls(document, new.controls),
                )
            )
        return Simulation(proposed, since, environment, examined, tuple(changed))


def policy_from_text(text: str, source: str) -> LoadedPolicy:
    """A policy given as its text, validated as a policy file is (`load_policy`); `source`
    names it in its errors and its ledger entry, as a file's path does."""
    # A lone surrogate (JSON may carry one) is kept as bytes UTF-8 refuses, so the reader
    # names it as it names any text that is not UTF-8.
    return load_policy(text.encode("utf-8", "surrogatepass"), source)


def governance_as_of(
    conn: Connection, people: Directory, before_seq: int | None = None
) -> Governance:
    """Who may make a policy active (just before entry `before_seq`, when given), `people`
    being the directory as it stood then."""
    setting = recorded.governance(conn, before_seq)
    admins = people.holders(Role.ADMIN)
    one_person = setting is not None and setting.one_person
    role = setting.approver_role if setting is not None else str(Role.ADMIN)
    if not admins:
        mode = ActivationMode.SETUP
    elif one_person and len(admins) == 1:
        mode = ActivationMode.ONE_PERSON
    else:
        mode = ActivationMode.TWO_PERSON
    return Governance(mode, role, one_person, admins, setting)


_MAX_ATTACHED: Final = 200  # changed verdicts a proposal carries; the count says how many more


def _simulation_data(simulation: Simulation) -> ProposalSimulation:
    """The simulation attached to a proposal: what it examined and what would change."""
    return ProposalSimulation(
        since=None if simulation.since is None else format_time(simulation.since),
        environment=simulation.environment,
        examined=simulation.examined,
        changed_count=len(simulation.changed),
        changed=tuple(c.simulated() for c in simulation.changed[:_MAX_ATTACHED]),
    )


def alone(rules: Governance, people: Directory, by: str) -> ActivationMode | None:
    """The mode under which `by` activates without a second person, or None when one is needed."""
    if rules.mode is ActivationMode.SETUP:
        return ActivationMode.SETUP
    if rules.mode is ActivationMode.ONE_PERSON:
        me = people.identify(by)
        if me is not None and me.name == rules.admins[0]:
            return ActivationMode.ONE_PERSON
    return None


def _proposal(conn: Connection, ident: str) -> ProposalRecord:
    seq = parse_proposal_id(ident)
    if seq is None:
        raise UsageError(f"{ident!r} is not a policy proposal id (POL-<number>)")
    found = recorded.find_proposal(conn, seq)
    if found is None:
        raise NotFoundError(
            f"no policy proposal {proposal_id(seq)}",
            hint=f"{operation('policy status')} lists the pending ones",
        )
    return found


def _pending(conn: Connection, ident: str) -> ProposalRecord:
    proposal = _proposal(conn, ident)
    if proposal.state != "pending":
        raise ConflictError(
            f"{proposal_id(proposal.seq)} was {proposal.state} already, by "
            f"{proposal.decided_by} at entry {proposal.decided_seq}"
        )
    return proposal


def _same(people: Directory, one: str, other: str) -> bool:
    """Whether `one` and `other`, as whoever acted recorded them, may be one person: the
    identity engine's answer, "cannot tell" counting as the same (fail closed)."""
    return people.who_acting(one).same_as(people.who_acting(other)) is not Sameness.DIFFERENT


def second_person(
    people: Directory,
    rules: Governance,
    proposal: ProposalRecord,
    by: str,
) -> str:
    """The name of the actor `by` is, refused unless they may approve `proposal`."""
    what = proposal_id(proposal.seq)
    me = people.identify(by)
    if me is None:
        raise PermissionDeniedError(
            f"{by} is not a known actor and cannot approve {what}",
            hint=f"add them with {operation('actor add')}",
        )
    if rules.approver_role not in me.roles:
        raise PermissionDeniedError(
            f"{me.name} cannot approve {what}: it needs role {rules.approver_role}, and they "
            f"hold {', '.join(sorted(me.roles)) or 'no role'}",
        )
    if _same(people, by, proposal.actor):
        raise PermissionDeniedError(
            f"{me.name} cannot approve {what}: they proposed it (as {proposal.actor}); a "
            "second person must",
            hint="separation of duties: someone else holding role "
            f"{rules.approver_role} approves it",
        )
    # The grant chain: an approver the proposer made, or gave the role, is not independent.
    for what_made, made_by in people.makers(me, rules.approver_role):
        if _same(people, made_by, proposal.actor):
            raise PermissionDeniedError(
                f"{me.name} cannot approve {what}: its proposer {proposal.actor} "
                f"{what_made}, so they are not independent of the proposer",
                hint="an approver whose role someone else granted must approve it",
            )
    return me.name


def _changed_controls(
    document: GateDecided, new: tuple[ControlResult, ...]
) -> tuple[ChangedControl, ...]:
    """Controls whose status differs, or that only one of the two policies requires."""
    old = {c.id: (c.status, c.reason) for c in document.controls}
    result: list[ChangedControl] = []
    for control in new:
        before = old.pop(control.id, None)
        if before is None or before[0] is not control.status:
            was = None if before is None else before[0]
            result.append(ChangedControl(control.id, was, control.status, control.reason))
    result.extend(ChangedControl(name, was, None, why) for name, (was, why) in old.items())
    return tuple(result)
