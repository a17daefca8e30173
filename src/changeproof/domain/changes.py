"""Changes: a request to put a release into an environment, its RFC, and who approved it.

A change's RFC (`domain.rfc`) is a snapshot of what the store knew when the change was
opened or last refreshed. Its content digest covers everything in it; approvals bind to that
digest, so a refresh that finds other commits, evidence or artifacts voids every earlier
approval.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar, Final

from pydantic import StrictBool, StrictInt

from changeproof.domain.actors import Actor, Directory
from changeproof.domain.identity import Sameness, Who, same
from changeproof.domain.payloads import EventPayload, Timestamp
from changeproof.domain.rfc import ApprovalRule, Rfc

__all__ = [
    "CHANGE_APPROVED",
    "CHANGE_EVENTS",
    "CHANGE_EXPORTED",
    "CHANGE_OPENED",
    "CHANGE_REFRESHED",
    "CHANGE_REJECTED",
    "CHANGE_REVIEWED",
    "MIGRATION_GLOBS",
    "ApprovalRecord",
    "ApprovalStatus",
    "ChangeApproved",
    "ChangeExported",
    "ChangeFact",
    "ChangeOpened",
    "ChangeRefreshed",
    "ChangeRejected",
    "ChangeReviewed",
    "ChangeState",
    "Party",
    "ReviewOutcome",
    "add_business_days",
    "approval_status",
    "change_id",
    "change_parties",
    "made_by_party",
    "parse_change_id",
]

CHANGE_OPENED: Final = "change.opened"
CHANGE_REFRESHED: Final = "change.refreshed"
CHANGE_APPROVED: Final = "change.approved"
CHANGE_REJECTED: Final = "change.rejected"
CHANGE_REVIEWED: Final = "change.reviewed"  # the after-the-fact review of an urgent change
CHANGE_EXPORTED: Final = "change.exported"
CHANGE_EVENTS: Final = (
    CHANGE_OPENED,
    CHANGE_REFRESHED,
    CHANGE_APPROVED,
    CHANGE_REJECTED,
    CHANGE_REVIEWED,
    CHANGE_EXPORTED,
)

# Where schema migrations live in the tools people use (Django, Rails, Alembic, Flyway,
# Liquibase, golang-migrate, Prisma): a change touching one is a database change.
MIGRATION_GLOBS: Final = (
    "**/migrations/**",
    "**/migrate/**",
    "**/alembic/versions/**",
    "**/db/changelog/**",
    "**/flyway/**",
    "**/prisma/migrations/**",
)

_ID: Final = re.compile(r"(?:CHG-)?([1-9][0-9]{0,17})", re.IGNORECASE)


class ChangeState(StrEnum):
    OPEN = "open"  # waiting for approvals, or approved and deployable
    REJECTED = "rejected"  # final: a rejected change never deploys; open another


class ReviewOutcome(StrEnum):
    ACCEPTED = "accepted"
    REMEDIATE = "remediate"


def change_id(seq: int) -> str:
    """A change is named after the ledger entry that opened it."""
    return f"CHG-{seq}"


def parse_change_id(text: str) -> int | None:
    """The opening seq of `CHG-57` or `57`; None when it is neither."""
    found = _ID.fullmatch(text.strip())
    return int(found.group(1)) if found else None


def add_business_days(start: datetime, days: int) -> datetime:
    """`days` working days (Monday to Friday) after `start`, at the same time of day."""
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    seq: int
    actor: str
    digest: str  # the RFC content digest the approver saw
    approved_at: datetime
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ApprovalStatus:
    """Which approvals count toward the current digest, which do not and why, who is missing."""

    counted: tuple[ApprovalRecord, ...]
    stale: tuple[ApprovalRecord, ...]  # approved another digest: the RFC changed since
    expired: tuple[ApprovalRecord, ...]
    unqualified: tuple[ApprovalRecord, ...]  # no longer holds the role (or never did)
    missing: tuple[str, ...]  # plain words: "1 more approval from role approver"
    # made an actor, or granted the role, by the requester or a writer: (approval, why)
    dependent: tuple[tuple[ApprovalRecord, str], ...] = ()

    @property
    def satisfied(self) -> bool:
        return not self.missing


def approval_status(
    rule: ApprovalRule,
    approvals: Sequence[ApprovalRecord],
    *,
    digest: str,
    now: datetime,
    directory: Directory,
    migrations: bool,
    high_risk: bool,
    parties: Sequence[Party] = (),
) -> ApprovalStatus:
    """Count each actor once (their newest approval), for the current digest, within its
    validity, while holding the rule's role, unless the change's requester or one of its
    writers (`parties`) added them or granted them that role; then say what is still
    needed."""
    newest: dict[str, ApprovalRecord] = {}
    for approval in sorted(approvals, key=lambda a: a.seq):
        newest[approval.actor] = approval
    counted: list[ApprovalRecord] = []
    stale: list[ApprovalRecord] = []
    expired: list[ApprovalRecord] = []
    unqualified: list[ApprovalRecord] = []
    dependent: list[tuple[ApprovalRecord, str]] = []
    valid_for = timedelta(hours=rule.valid_for_hours)
    for approval in newest.values():
        actor = directory.actors.get(approval.actor)
        if approval.digest != digest:
            stale.append(approval)
        elif now - approval.approved_at > valid_for:
            expired.append(approval)
        elif actor is None or rule.role not in actor.roles:
            unqualified.append(approval)
        elif (why := made_by_party(directory, actor, rule.role, parties)) is not None:
            dependent.append((approval, why))
        else:
            counted.append(approval)
    missing: list[str] = []
    short = rule.quorum - len(counted)
    if short > 0:
        plural = "approval" if short == 1 else "approvals"
        missing.append(f"{short} more {plural} from role {rule.role}")
    groups_of = {a.actor: directory.actors[a.actor].groups for a in counted}
    missing.extend(
        f"an approval from a member of group {group} with role {rule.role}"
        for group in rule.groups_needed(migrations=migrations, high_risk=high_risk)
        if not any(group in held for held in groups_of.values())
    )
    return ApprovalStatus(
        tuple(counted),
        tuple(stale),
        tuple(expired),
        tuple(unqualified),
        tuple(missing),
        tuple(dependent),
    )


@dataclass(frozen=True, slots=True)
class Party:
    """Someone a change's approver must be independent of: its requester (an actor's
    name or alias) or a writer of one of its commits (a git email)."""

    words: str  # "its requester ada", "the author of commit 3f2a…"
    identity: str
    email: bool  # a git email (compared as one even when empty or malformed)

    def who(self, directory: Directory) -> Who:
        if self.email:
            return directory.who_email(self.identity)
        return directory.who_acting(self.identity)


def change_parties(rfc: Rfc, opened_by: str | None = None) -> tuple[Party, ...]:
    """The requester and every author, committer and co-author of the RFC's commits."""
    requesters = {rfc.requested_by}
    if opened_by is not None:
        requesters.add(opened_by)
    found = [Party(f"its requester {r}", r, email=False) for r in sorted(requesters)]
    for commit in rfc.what.commits:
        sha = commit.sha[:12]
        found.append(Party(f"the author of commit {sha}", commit.author, email=True))
        found.append(Party(f"the committer of commit {sha}", commit.committer, email=True))
        found.extend(
            Party(f"a co-author of commit {sha}", email, email=True) for email in commit.co_authors
        )
    return tuple(found)


def made_by_party(
    directory: Directory, actor: Actor, role: str | None, parties: Sequence[Party]
) -> str | None:
    """Why `actor` is not independent of `parties` through the grant chain: who added them
    or granted them `role` is one of the parties (to the identity engine). A maker that is
    a known actor and cannot be told apart from a party counts as one (fails closed)."""
    unclear = None
    for what, maker in directory.makers(actor, role):
        them = directory.who_acting(maker)
        for party in parties:
            found = same(them, party.who(directory))
            if found is Sameness.SAME:
                return f"{party.words} ({maker}) {what}"
            if found is Sameness.UNKNOWN and them.actor is not None and unclear is None:
                unclear = f"{maker} {what} and cannot be told apart from {party.words}"
    return unclear


@dataclass(frozen=True, slots=True)
class ChangeFact:
    """A change as the gate sees it at a ledger position."""

    id: str
    state: ChangeState
    urgent: bool
    digest: str
    approvals: tuple[ApprovalRecord, ...]
    commits: tuple[str, ...]  # what the RFC was written from, to tell when it is out of date
    evidence: tuple[int, ...]
    artifacts: tuple[int, ...]
    migrations: bool
    high_risk: bool
    rejected_by: str | None = None
    rejected_reason: str | None = None
    parties: tuple[Party, ...] = ()  # its requester and writers (`change_parties`)

    def out_of_date(
        self, commits: Iterable[str], evidence: Iterable[int], artifacts: Iterable[int]
    ) -> list[str]:
        """What the store holds now that the RFC does not, in words; empty when current."""
        found: list[str] = []
        if tuple(commits) != self.commits:
            found.append("the release's commits differ")
        new_evidence = sorted(set(evidence) - set(self.evidence))
        if new_evidence:
            found.append("evidence " + ", ".join(str(s) for s in new_evidence))
        new_artifacts = sorted(set(artifacts) - set(self.artifacts))
        if new_artifacts:
            found.append("artifact " + ", ".join(str(s) for s in new_artifacts))
        return found


@dataclass(frozen=True, slots=True)
class ChangeOpened(EventPayload):
    """A change and its first RFC; the entry's seq names it (`CHG-<seq>`)."""

    TYPE: ClassVar[str] = CHANGE_OPENED

    release: str
    environment: str
    urgent: StrictBool
    urgent_reason: str | None
    review_due: Timestamp | None  # when an urgent change's after-the-fact review is due
    digest: str  # the RFC's content digest
    rfc: Rfc


@dataclass(frozen=True, slots=True)
class ChangeRefreshed(EventPayload):
    """The change's RFC written again, with another digest: earlier approvals stop counting."""

    TYPE: ClassVar[str] = CHANGE_REFRESHED

    change: StrictInt  # the seq of its change.opened entry
    previous_digest: str
    digest: str
    rfc: Rfc


@dataclass(frozen=True, slots=True)
class ChangeApproved(EventPayload):
    """An approval of the change's RFC of `digest`: it counts while that RFC is current."""

    TYPE: ClassVar[str] = CHANGE_APPROVED

    change: StrictInt
    digest: str  # the RFC the approver read
    comment: str | None


@dataclass(frozen=True, slots=True)
class ChangeRejected(EventPayload):
    """The change was rejected for good, with the reason: it never deploys."""

    TYPE: ClassVar[str] = CHANGE_REJECTED

    change: StrictInt
    digest: str
    reason: str


@dataclass(frozen=True, slots=True)
class ChangeReviewed(EventPayload):
    """An urgent change's after-the-fact review."""

    TYPE: ClassVar[str] = CHANGE_REVIEWED

    change: StrictInt
    outcome: ReviewOutcome
    notes: str


@dataclass(frozen=True, slots=True)
class ChangeExported(EventPayload):
    """The ticket an export made or updated in ServiceNow or Jira, for the RFC of `digest`."""

    TYPE: ClassVar[str] = CHANGE_EXPORTED

    change: StrictInt
    system: str
    remote_id: str
    key: str | None
    url: str | None
    digest: str
