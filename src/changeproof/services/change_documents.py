"""Writing a change's RFC from what the store knows: why, what, evidence, gate, risk, plan.

The RFC is a snapshot as of one ledger position. Everything in it but the approvals is its
content, and its digest (`content_digest`) is what approvers approve.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Connection

from changeproof.domain.changes import (
    CHANGE_APPROVED,
    CHANGE_OPENED,
    CHANGE_REFRESHED,
    CHANGE_REJECTED,
    MIGRATION_GLOBS,
    ApprovalRecord,
    ChangeFact,
    ChangeState,
    change_id,
    change_parties,
)
from changeproof.domain.decisions import Classification, ControlStatus
from changeproof.domain.errors import IntegrityError, NotFoundError, operation
from changeproof.domain.events import parse_time
from changeproof.domain.records import DecisionRecord, ReleaseRecord, VerdictRecord
from changeproof.domain.releases import Commit, ReleaseRef
from changeproof.domain.rfc import (
    RFC_SCHEMA_VERSION,
    ApprovalRule,
    CommitRange,
    FailedControl,
    GateSummary,
    Rfc,
    RfcArtifact,
    RfcCommit,
    RfcDecision,
    RfcEvidence,
    RfcPath,
    RfcTicket,
    Risk,
    RiskLevel,
    Schedule,
    What,
    Why,
)
from changeproof.policy.controls.change_approval import CHANGE_APPROVAL, ChangeApproval
from changeproof.policy.globs import matches
from changeproof.policy.loader import LoadedPolicy
from changeproof.store import changes as change_queries
from changeproof.store import releases as queries
from changeproof.store.decisions import decisions_for
from changeproof.store.entry_check import ACTOR, EntryCheck

__all__ = [
    "PlanTexts",
    "approval_params",
    "approval_record",
    "build_rfc",
    "change_fact",
    "expect_change",
]

_GATE_DECISIONS: Final = 5  # the newest decisions an RFC lists
_NUMBER: Final = re.compile(r"[0-9]+$")


@dataclass(frozen=True, slots=True)
class PlanTexts:
    """What the requester writes: the RFC carries these as given."""

    plan: str | None = None
    rollback: str | None = None
    dry_run_output: str | None = None
    window_start: str | None = None  # ISO 8601, with a zone
    window_end: str | None = None

    @classmethod
    def of(cls, rfc: Rfc) -> PlanTexts:
        schedule = rfc.schedule
        return cls(
            rfc.plan,
            rfc.rollback,
            rfc.dry_run_output,
            None if schedule is None else schedule.start,
            None if schedule is None else schedule.end,
        )


def approval_params(policy: LoadedPolicy | None, environment: str) -> ChangeApproval | None:
    """The environment's change-approval parameters, or None when it does not require it."""
    if policy is None:
        return None
    env = policy.policy.environments.get(environment)
    if env is None:
        return None
    for ref in env.controls:
        if ref.id == CHANGE_APPROVAL:
            return ChangeApproval.model_validate(ref.params)
    return None


def build_rfc(
    conn: Connection,
    ref: ReleaseRef,
    environment: str,
    *,
    as_of: int,
    policy: LoadedPolicy | None,
    texts: PlanTexts,
    urgent: bool,
    urgent_reason: str | None,
    requested_by: str,
    requested_at: datetime,
    ticket_links: Mapping[str, str],
) -> tuple[Rfc, str]:
    """The RFC of putting `ref` into `environment`, as of ledger position `as_of`, and its
    content digest."""
    release = queries.find_release(conn, ref)
    if release is None or release.seq >= as_of:
        raise NotFoundError(f"no release {ref}", hint=f"run {operation('release create')}")
    commits = queries.release_commits_of(conn, ref)
    decisions = decisions_for(conn, str(ref), environment, limit=_GATE_DECISIONS)
    gate = GateSummary(
        policy.digest if policy is not None else None,
        tuple(_decision(d) for d in decisions if d.seq < as_of),
    )
    what = _what(conn, release, commits, as_of, policy)
    rfc = Rfc(
        schema_version=RFC_SCHEMA_VERSION,
        title=f"Deploy {ref} to {environment}",
        release=str(ref),
        environment=environment,
        classification=Classification.URGENT if urgent else _classification(gate),
        urgent=urgent,
        urgent_reason=urgent_reason,
        requested_by=requested_by,
        requested_at=requested_at,
        as_of_seq=as_of,
        risk=_risk(len(commits), what, gate),
        why=_why(commits, ticket_links),
        what=what,
        evidence=tuple(
            RfcEvidence(e.seq, e.kind, e.format, e.sha256, e.summary)
            for e in queries.evidence_as_of(conn, ref, as_of)
        ),
        gate=gate,
        approval_rule=_rule(policy, environment, urgent=urgent),
        plan=texts.plan,
        rollback=texts.rollback,
        dry_run_output=texts.dry_run_output,
        schedule=(
            Schedule(texts.window_start, texts.window_end)
            if texts.window_start is not None and texts.window_end is not None
            else None
        ),
    )
    return rfc, rfc.content_digest()


def _what(
    conn: Connection,
    release: ReleaseRecord,
    commits: Sequence[Commit],
    as_of: int,
    policy: LoadedPolicy | None,
) -> What:
    areas = policy.policy.high_risk if policy is not None else ()
    paths = _paths(commits, [(a.name, a.paths) for a in areas])
    return What(
        range=CommitRange(release.from_sha, release.to_sha, release.repository),
        commits=tuple(_commit(c) for c in commits),
        paths=paths,
        migrations=tuple(p.path for p in paths if p.migration),
        high_risk_areas=tuple(sorted({name for p in paths for name in p.high_risk})),
        artifacts=tuple(
            RfcArtifact(a.seq, a.name, a.size, a.sha256)
            for a in queries.release_artifacts(conn, release.ref)
            if a.seq < as_of
        ),
    )


def _rule(policy: LoadedPolicy | None, environment: str, *, urgent: bool) -> ApprovalRule | None:
    params = approval_params(policy, environment)
    if params is None:
        return None
    return (params.urgent if urgent else params.normal).rule()


def _classification(gate: GateSummary) -> Classification:
    # The gate classifies; without a decision yet the change is normal until shown otherwise.
    return gate.decisions[0].classification if gate.decisions else Classification.NORMAL


def _commit(commit: Commit) -> RfcCommit:
    return RfcCommit(
        sha=commit.sha,
        subject=commit.subject,
        author=commit.author.email,
        committer=commit.committer.email,
        co_authors=tuple(a.email for a in commit.co_authors),
        merge=commit.merge,
        tickets=tuple(t.key for t in commit.tickets),
    )


def _paths(
    commits: Sequence[Commit], areas: Sequence[tuple[str, Sequence[str]]]
) -> tuple[RfcPath, ...]:
    """Each changed path once, with its line counts summed, high-risk areas and migrations."""
    totals: dict[str, tuple[int | None, int | None]] = {}
    for commit in commits:
        for change in commit.paths:
            added, deleted = totals.get(change.path, (0, 0))
            totals[change.path] = (
                None if added is None or change.added is None else added + change.added,
                None if deleted is None or change.deleted is None else deleted + change.deleted,
            )
    return tuple(
        RfcPath(
            path=path,
            added=totals[path][0],
            deleted=totals[path][1],
            high_risk=tuple(name for name, globs in areas if any(matches(g, path) for g in globs)),
            migration=any(matches(g, path) for g in MIGRATION_GLOBS),
        )
        for path in sorted(totals)
    )


def _why(commits: Sequence[Commit], links: Mapping[str, str]) -> Why:
    by_key: dict[tuple[str, str], list[str]] = {}
    for commit in commits:
        for ticket in commit.tickets:
            shas = by_key.setdefault((ticket.system, ticket.key), [])
            if commit.sha not in shas:
                shas.append(commit.sha)
    return Why(
        tickets=tuple(
            RfcTicket(key, system, _link(links, system, key), tuple(shas))
            for (system, key), shas in sorted(by_key.items(), key=lambda item: item[0][1])
        ),
        untracked_commits=tuple(c.sha for c in commits if not c.tickets),
    )


def _link(links: Mapping[str, str], system: str, key: str) -> str | None:
    """The ticket's URL from the configured template: `{key}` as written, `{number}` its
    digits (`#12` and `GH-12` are issue 12)."""
    template = links.get(system)
    if template is None:
        return None
    number = _NUMBER.search(key)
    return template.replace("{key}", key).replace("{number}", number.group(0) if number else key)


def _risk(commits: int, what: What, gate: GateSummary) -> Risk:
    """High for database or high-risk changes and failing controls; medium for large ones."""
    high: list[str] = []
    medium: list[str] = []
    if what.migrations:
        high.append(f"{len(what.migrations)} schema migration file(s) change")
    if what.high_risk_areas:
        high.append(f"high-risk areas change: {', '.join(what.high_risk_areas)}")
    if gate.decisions:
        failing = sorted(f.id for f in gate.decisions[0].failed if f.id != CHANGE_APPROVAL)
        if failing:
            high.append(f"the newest gate decision fails: {', '.join(failing)}")
    lines = sum(v for p in what.paths for v in (p.added, p.deleted) if v is not None)
    if commits > 50:
        medium.append(f"{commits} commits")
    if lines > 1000:
        medium.append(f"{lines} changed lines")
    level = RiskLevel.HIGH if high else RiskLevel.MEDIUM if medium else RiskLevel.LOW
    return Risk(level, tuple(high + medium or ["small change, no high-risk path"]))


def _decision(decision: DecisionRecord) -> RfcDecision:
    return RfcDecision(
        seq=decision.seq,
        allowed=decision.allowed,
        classification=Classification(decision.classification),
        policy_digest=decision.policy_digest,
        failed=tuple(
            FailedControl(c.id, c.reason)
            for c in decision.document.controls
            if c.status is ControlStatus.FAIL
        ),
    )


def change_fact(
    conn: Connection,
    release: str,
    environment: str,
    as_of: int,
    check: EntryCheck | None = None,
) -> ChangeFact | None:
    """The newest change for the release and environment as it stood at `as_of`; with
    `check`, every row it is read from is to be held to its ledger entry."""
    seq = change_queries.newest_change_before(conn, release, environment, as_of)
    if seq is None:
        return None
    revision = change_queries.revision_before(conn, seq, as_of)
    if revision is None:  # the opening entry is the first revision
        return None
    revision_seq, digest, rfc = revision
    verdicts = change_queries.verdicts_of(conn, seq, as_of)
    if check is not None:
        expect_change(check, seq, release, environment, revision_seq, digest, rfc, verdicts)
    rejected = next((v for v in verdicts if v.verdict == "rejected"), None)
    return ChangeFact(
        id=change_id(seq),
        state=ChangeState.REJECTED if rejected is not None else ChangeState.OPEN,
        urgent=rfc.urgent,
        digest=digest,
        approvals=tuple(
            approval_record(v.seq, v.actor, v.digest, v.decided_at, v.comment)
            for v in verdicts
            if v.verdict == "approved"
        ),
        commits=tuple(c.sha for c in rfc.what.commits),
        evidence=tuple(e.seq for e in rfc.evidence),
        artifacts=tuple(a.seq for a in rfc.what.artifacts),
        migrations=bool(rfc.what.migrations),
        high_risk=bool(rfc.what.high_risk_areas),
        rejected_by=rejected.actor if rejected is not None else None,
        rejected_reason=rejected.comment if rejected is not None else None,
        parties=change_parties(rfc),
    )


def expect_change(
    check: EntryCheck,
    seq: int,
    release: str,
    environment: str,
    revision_seq: int,
    digest: str,
    rfc: Rfc,
    verdicts: Sequence[VerdictRecord],
) -> None:
    """The change, its RFC and its verdicts, held to their entries. The RFC is held through
    its digest: the entry binds the digest, and the digest binds every word of the RFC."""
    check.expect("changes", seq, CHANGE_OPENED, {"release": release, "environment": environment})
    if revision_seq == seq:
        check.expect("change_revisions", seq, CHANGE_OPENED, {"digest": digest})
    else:
        check.expect(
            "change_revisions", revision_seq, CHANGE_REFRESHED, {"change": seq, "digest": digest}
        )
    if rfc.content_digest() != digest:
        raise IntegrityError(
            f"table change_revisions row for entry {revision_seq} holds an RFC whose digest is "
            f"not its recorded {digest}: the store was altered behind the ledger",
            first_bad_seq=revision_seq,
            hint=f"run {operation('ledger rebuild')} to restore the projections from the ledger",
        )
    for v in verdicts:
        check.expect(
            "change_verdicts",
            v.seq,
            CHANGE_APPROVED if v.verdict == "approved" else CHANGE_REJECTED,
            {"change": seq, "digest": v.digest, ACTOR: v.actor},
        )


def approval_record(
    seq: int, actor: str, digest: str, decided_at: str, comment: str | None
) -> ApprovalRecord:
    return ApprovalRecord(seq, actor, digest, parse_time(decided_at), comment)
