"""Change use cases: open a change and its RFC, refresh it, approve or reject it, review an
urgent one after the fact, list overdue reviews.

Separation of duties is enforced here, whatever interface calls: nobody approves, rejects
or reviews a change they requested or whose commits they authored, committed or co-authored.
Every step takes the ledger's write lock before it reads the change, so an approval binds
to the digest that is current when it is recorded, never to one a concurrent refresh replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final

from sqlalchemy import Connection

from changeproof.domain.actors import Directory
from changeproof.domain.canonical import JsonValue
from changeproof.domain.changes import (
    CHANGE_OPENED,
    ApprovalStatus,
    ChangeApproved,
    ChangeOpened,
    ChangeRefreshed,
    ChangeRejected,
    ChangeReviewed,
    ChangeState,
    ReviewOutcome,
    add_business_days,
    approval_status,
    change_id,
    change_parties,
    parse_change_id,
)
from changeproof.domain.clock import Clock
from changeproof.domain.environments import environment_name
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
from changeproof.domain.records import ChangeRecord, ExportRecord, VerdictRecord
from changeproof.domain.releases import ReleaseRef
from changeproof.domain.rfc import (
    ApprovalRule,
    ApprovalSummary,
    RfcApproval,
    RfcDocument,
    RfcExport,
    RfcReview,
)
from changeproof.policy.loader import LoadedPolicy
from changeproof.services.change_documents import (
    PlanTexts,
    approval_params,
    approval_record,
    build_rfc,
    expect_change,
)
from changeproof.services.environments import require_known_environment
from changeproof.services.gate import active_policy_or_none
from changeproof.services.separation import entitled, independent
from changeproof.store import changes as queries
from changeproof.store import ledger
from changeproof.store.actors import checked_directory, directory
from changeproof.store.database import Database
from changeproof.store.entry_check import ACTOR, EntryChecks
from changeproof.store.unit_of_work import UnitOfWork

__all__ = ["ChangeService", "ChangeView", "OpenRequest"]

_MAX_TEXT: Final = 200_000  # characters of a plan, rollback or dry-run output kept in the RFC


@dataclass(frozen=True, slots=True)
class OpenRequest:
    release: ReleaseRef
    environment: str
    texts: PlanTexts = field(default_factory=PlanTexts)
    urgent: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeView:
    """A change as its RFC says, with its verdicts and what its approvals add up to now."""

    row: ChangeRecord
    verdicts: tuple[VerdictRecord, ...]
    exports: tuple[ExportRecord, ...]
    status: ApprovalStatus | None  # None when the policy asks no approval of it
    rule: ApprovalRule | None
    now: datetime
    recorded: bool = True  # False when the call found nothing to record (e.g. same digest)
    voided: tuple[str, ...] = ()  # approvers whose approval a refresh voided

    @property
    def id(self) -> str:
        return change_id(self.row.seq)

    @property
    def overdue(self) -> bool:
        due = self.row.review_due
        return (
            self.row.urgent
            and self.row.reviewed_seq is None
            and due is not None
            and format_time(self.now) > due
        )

    def document(self) -> dict[str, JsonValue]:
        """The RFC with who approved it, where it stands, and its review: the JSON form."""
        return self.rfc_document().to_data()

    def rfc_document(self) -> RfcDocument:
        """The RFC with who approved it, where it stands, and its review."""
        status = self.status
        counted = set() if status is None else {a.seq for a in status.counted}
        return RfcDocument.of(
            self.row.document,
            id=self.id,
            digest=self.row.digest,
            state=self.state,
            approvals=tuple(
                RfcApproval(
                    v.seq,
                    v.actor,
                    v.verdict,
                    v.digest,
                    v.comment,
                    v.decided_at,
                    status is not None and v.seq in counted,
                )
                for v in self.verdicts
            ),
            approval_status=None
            if status is None
            else ApprovalSummary(
                status.satisfied,
                status.missing,
                tuple(sorted(a.actor for a in status.stale)),
                tuple(sorted(a.actor for a in status.expired)),
            ),
            review=None
            if not self.row.urgent
            else RfcReview(
                self.row.review_due,
                self.overdue,
                self.row.review_outcome,
                self.row.reviewed_by,
                self.row.reviewed_at,
                self.row.review_notes,
            ),
            exports=tuple(
                RfcExport(e.system, e.remote_id, e.remote_key, e.url) for e in self.exports
            ),
        )

    @property
    def state(self) -> str:
        if self.row.state == ChangeState.REJECTED:
            return "rejected"
        if self.status is None:  # the policy asks no approval: nobody approved anything
            return "no-approval-required"
        if self.status.satisfied:
            return "approved"
        return "pending-approval"


class ChangeService:
    def __init__(
        self,
        db: Database,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        ticket_links: Mapping[str, str],
        checks: EntryChecks,
    ) -> None:
        self._db = db
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._links = ticket_links
        self._checks = checks

    def open(self, request: OpenRequest, *, by: str) -> ChangeView:
        """Write the RFC from the store as it stands and record `change.opened`."""
        environment_name(request.environment)
        _check_texts(request)
        if request.urgent and not (request.reason or "").strip():
            raise UsageError(f"an urgent change needs {Field('reason')} TEXT")
        if request.reason is not None and not request.urgent:
            raise UsageError(f"{Field('reason')} goes with {Field('urgent')}")
        now = self._clock.now()
        with self._unit_of_work() as uow:
            require_known_environment(uow.conn, request.environment)
            policy = _policy_for(uow.conn, str(request.release), request.environment)
            if request.urgent:
                _refuse_while_overdue(uow.conn, policy, request.environment, by, now)
            rfc, digest = build_rfc(
                uow.conn,
                request.release,
                request.environment,
                as_of=uow.head.tree_size,
                policy=policy,
                texts=request.texts,
                urgent=request.urgent,
                urgent_reason=request.reason,
                requested_by=by,
                requested_at=now,
                ticket_links=self._links,
            )
            review_due: datetime | None = None
            if request.urgent:
                params = approval_params(policy, request.environment)
                days = params.urgent_review_business_days if params is not None else 2
                review_due = add_business_days(now, days)
            opened = ChangeOpened(
                release=str(request.release),
                environment=request.environment,
                urgent=request.urgent,
                urgent_reason=request.reason,
                review_due=review_due,
                digest=digest,
                rfc=rfc,
            )
            uow.record(Event.of(opened, by, now))
        return self.show(str(uow.recorded[0].seq))

    def show(self, ident: str) -> ChangeView:
        with self._db.read() as conn:
            return self._view(conn, _seq(ident), self._clock.now())

    def list(self, *, environment: str | None = None, overdue: bool = False) -> list[ChangeView]:
        now = self._clock.now()
        with self._db.read() as conn:
            rows = queries.list_changes(
                conn, environment=environment, overdue_at=format_time(now) if overdue else None
            )
            return [self._view(conn, row.seq, now) for row in rows]

    def refresh(self, ident: str, *, by: str) -> ChangeView:
        """Write the RFC again from the store; when its digest changes, every earlier
        approval stops counting (the view says whose)."""
        now = self._clock.now()
        with self._unit_of_work() as uow:
            row = _open_change(uow.conn, _seq(ident))
            policy = _policy_for(uow.conn, row.release, row.environment)
            rfc, digest = build_rfc(
                uow.conn,
                ReleaseRef.parse(row.release),
                row.environment,
                as_of=uow.head.tree_size,
                policy=policy,
                texts=PlanTexts.of(row.document),
                urgent=row.urgent,
                urgent_reason=row.urgent_reason,
                requested_by=row.document.requested_by,
                requested_at=row.document.requested_at,
                ticket_links=self._links,
            )
            if digest == row.digest:
                return self._view(uow.conn, row.seq, now, recorded=False)
            voided = sorted(
                {v.actor for v in queries.verdicts_of(uow.conn, row.seq) if v.verdict == "approved"}
            )
            uow.record(Event.of(ChangeRefreshed(row.seq, row.digest, digest, rfc), by, now))
        view = self.show(str(row.seq))
        return replace(view, voided=tuple(voided))

    def approve(
        self, ident: str, *, by: str, comment: str | None = None, digest: str | None = None
    ) -> ChangeView:
        """Approve the change's current RFC; `digest`, when given, must be that RFC's."""
        now = self._clock.now()
        with self._unit_of_work() as uow:
            row = _open_change(uow.conn, _seq(ident))
            if digest is not None and digest != row.digest:
                raise ConflictError(
                    f"{change_id(row.seq)}'s current RFC digest is {row.digest}, not {digest}: "
                    "the RFC differs from the one the approver read; nothing was approved",
                    hint=f"read it again with {operation('change show', change_id(row.seq))}",
                )
            people = self._checked(uow.conn, row)
            actor = entitled(people, by, row, "approve")
            already = [
                v
                for v in queries.verdicts_of(uow.conn, row.seq)
                if v.actor == actor.name and v.verdict == "approved" and v.digest == row.digest
            ]
            if already:  # counted once, however often asked
                return self._view(uow.conn, row.seq, now, recorded=False)
            approved = ChangeApproved(row.seq, row.digest, _optional(comment))
            uow.record(Event.of(approved, actor.name, now))
        return self.show(str(row.seq))

    def reject(self, ident: str, *, by: str, reason: str) -> ChangeView:
        """Reject the change for good: it never deploys; a new change must be opened."""
        if not reason.strip():
            raise UsageError(f"a rejection needs {Field('reason')} TEXT")
        now = self._clock.now()
        with self._unit_of_work() as uow:
            row = _open_change(uow.conn, _seq(ident))
            actor = entitled(self._checked(uow.conn, row), by, row, "reject")
            rejected = ChangeRejected(row.seq, row.digest, reason.strip())
            uow.record(Event.of(rejected, actor.name, now))
        return self.show(str(row.seq))

    def review(self, ident: str, *, by: str, outcome: str, notes: str) -> ChangeView:
        """Close an urgent change's after-the-fact review."""
        try:
            result = ReviewOutcome(outcome)
        except ValueError:
            raise UsageError(
                f"{Field('outcome')} must be accepted or remediate, not {outcome!r}"
            ) from None
        if not notes.strip():
            raise UsageError(f"a review needs {Field('notes')} TEXT")
        now = self._clock.now()
        with self._unit_of_work() as uow:
            row = _change(uow.conn, _seq(ident))
            if not row.urgent:
                raise ConflictError(
                    f"{change_id(row.seq)} is not urgent: only urgent changes are reviewed "
                    "after the fact"
                )
            if row.reviewed_seq is not None:
                raise ConflictError(
                    f"{change_id(row.seq)} was reviewed already by {row.reviewed_by} "
                    f"({row.review_outcome}, entry {row.reviewed_seq})"
                )
            actor = independent(self._checked(uow.conn, row), by, row, "review")
            reviewed = ChangeReviewed(row.seq, result, notes.strip())
            uow.record(Event.of(reviewed, actor.name, now))
        return self.show(str(row.seq))

    def _checked(self, conn: Connection, row: ChangeRecord) -> Directory:
        """The directory, with the change and its current RFC, held to their ledger entries
        before anyone's separation of duties is judged from them."""
        check = self._checks(conn)
        people = checked_directory(conn, check)
        revision = queries.revision_before(conn, row.seq, ledger.read_head(conn).tree_size)
        if revision is None or revision[1] != row.digest:
            raise IntegrityError(
                f"table changes row for entry {row.seq} says its RFC digest is {row.digest}, "
                "which is not its newest recorded revision: the store was altered behind the "
                "ledger",
                first_bad_seq=row.seq,
                hint=f"run {operation('ledger rebuild')} to restore the projections",
            )
        revision_seq, digest, rfc = revision
        if rfc != row.document:
            raise IntegrityError(
                f"table changes row for entry {row.seq} holds another RFC than its newest "
                f"revision (entry {revision_seq}): the store was altered behind the ledger",
                first_bad_seq=row.seq,
            )
        expect_change(check, row.seq, row.release, row.environment, revision_seq, digest, rfc, ())
        check.expect("changes", row.seq, CHANGE_OPENED, {ACTOR: row.opened_by})
        check.confirm()
        return people

    def _view(
        self, conn: Connection, seq: int, now: datetime, *, recorded: bool = True
    ) -> ChangeView:
        row = _change(conn, seq)
        verdicts = tuple(queries.verdicts_of(conn, seq))
        rule = row.document.approval_rule
        status = None
        if rule is not None:
            what = row.document.what
            status = approval_status(
                rule,
                [
                    approval_record(v.seq, v.actor, v.digest, v.decided_at, v.comment)
                    for v in verdicts
                    if v.verdict == "approved"
                ],
                digest=row.digest,
                now=now,
                directory=directory(conn),
                migrations=bool(what.migrations),
                high_risk=bool(what.high_risk_areas),
                parties=change_parties(row.document, row.opened_by),
            )
        exports = tuple(queries.exports_of(conn, seq))
        return ChangeView(row, verdicts, exports, status, rule, now, recorded)


def _seq(ident: str) -> int:
    seq = parse_change_id(ident)
    if seq is None:
        raise UsageError(f"{ident!r} is not a change id (CHG-<number>)")
    return seq


def _change(conn: Connection, seq: int) -> ChangeRecord:
    row = queries.find_change(conn, seq)
    if row is None:
        raise NotFoundError(
            f"no change {change_id(seq)}", hint=f"{operation('change list')} shows them"
        )
    return row


def _open_change(conn: Connection, seq: int) -> ChangeRecord:
    row = _change(conn, seq)
    if row.state == ChangeState.REJECTED:
        rejection = next(v for v in queries.verdicts_of(conn, seq) if v.verdict == "rejected")
        raise ConflictError(
            f"{change_id(seq)} was rejected by {rejection.actor} ({rejection.comment}); "
            "a rejected change is closed",
            hint="open a new change for the release",
        )
    return row


def _policy_for(conn: Connection, release: str, environment: str) -> LoadedPolicy | None:
    """The instance's active policy, or None: only it decides what a change needs (a policy
    file some gate was given is a dry run and says nothing about the change)."""
    return active_policy_or_none(conn)


def _refuse_while_overdue(
    conn: Connection, policy: LoadedPolicy | None, environment: str, by: str, now: datetime
) -> None:
    """An urgent change is not opened while its requester (or, as the policy says, their
    team) owes an overdue after-the-fact review: urgent must not become the normal path."""
    params = approval_params(policy, environment)
    scope = params.overdue_blocks_urgent if params is not None else "requester"
    if scope == "nobody":
        return
    people = directory(conn)
    me = people.who_acting(by)
    team = [me]
    if scope == "team" and me.actor is not None:
        groups = me.actor.groups
        team += [people.who_of(a) for a in people.actors.values() if a.groups & groups]
    for row in queries.list_changes(conn, overdue_at=format_time(now)):
        requester = row.document.requested_by or row.opened_by
        theirs = people.who_acting(requester)
        # The engine decides who is who; "cannot tell" counts as the same (fail closed).
        if any(theirs.same_as(who) is not Sameness.DIFFERENT for who in team):
            raise PermissionDeniedError(
                f"{by} cannot open another urgent change: {change_id(row.seq)}, an urgent "
                f"change requested by {requester}, has had its after-the-fact review overdue "
                f"since {row.review_due}",
                hint=f"review it first: {operation('change review', change_id(row.seq))}",
            )


def _optional(text: str | None) -> str | None:
    return text.strip() or None if text is not None else None


def _check_texts(request: OpenRequest) -> None:
    texts = request.texts
    for name, value in (
        (f"{Field('plan')}", texts.plan),
        (f"{Field('rollback')}", texts.rollback),
        (f"{Field('dry_run_output')}", texts.dry_run_output),
    ):
        if value is not None and len(value) > _MAX_TEXT:
            raise UsageError(f"{name} is longer than {_MAX_TEXT:,} characters")
    if (texts.window_start is None) != (texts.window_end is None):
        raise UsageError(f"{Field('window')} needs START/END")
    if texts.window_start is not None and texts.window_end is not None:
        start, end = _moment(texts.window_start), _moment(texts.window_end)
        if end <= start:
            raise UsageError(f"{Field('window')} ends ({texts.window_end}) before it starts")


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{Field('window')}: {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise UsageError(
            f"{Field('window')}: {text!r} needs a time zone (e.g. 2026-12-01T22:00:00Z)"
        )
    return moment
