"""Writing a change's RFC from what the store knows: why, what, evidence, gate, risk, plan.

The RFC is a snapshot as of one ledger position. Everything in it but the approvals is its
content, and its digest (`content_digest`) is what approvers approve.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection

from changeproof.domain.canonical import JsonValue
from changeproof.domain.changes import (
    CHANGE_APPROVED,
    CHANGE_OPENED,
    CHANGE_REFRESHED,
    CHANGE_REJECTED,
    MIGRATION_GLOBS,
    ApprovalRecord,
    ApprovalRule,
    ChangeFact,
    ChangeState,
    change_parties,
    content_digest,
)
from changeproof.domain.decisions import ControlStatus
from changeproof.domain.errors import IntegrityError, NotFoundError, operation
from changeproof.domain.events import parse_time
from changeproof.domain.releases import Commit, ReleaseRef
from changeproof.policy.controls.change_approval import CHANGE_APPROVAL, ChangeApproval
from changeproof.policy.globs import matches
from changeproof.policy.loader import LoadedPolicy
from changeproof.store import changes as change_queries
from changeproof.store import releases as queries
from changeproof.store.changes import VerdictRow
from changeproof.store.decisions import DecisionRow, decisions_for
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
    def of(cls, rfc: Mapping[str, JsonValue]) -> PlanTexts:
        schedule = rfc.get("schedule")
        start = end = None
        if isinstance(schedule, dict):
            start, end = _text(schedule.get("start")), _text(schedule.get("end"))
        return cls(
            _text(rfc.get("plan")),
            _text(rfc.get("rollback")),
            _text(rfc.get("dry_run_output")),
            start,
            end,
        )


def _text(value: JsonValue) -> str | None:
    return value if isinstance(value, str) else None


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
    requested_at: str,
    ticket_links: Mapping[str, str],
) -> tuple[dict[str, JsonValue], str]:
    """The RFC of putting `ref` into `environment`, as of ledger position `as_of`, and its
    content digest."""
    release = queries.find_release(conn, ref)
    if release is None or release.seq >= as_of:
        raise NotFoundError(f"no release {ref}", hint=f"run {operation('release create')}")
    commits = queries.release_commits_of(conn, ref)
    evidence = queries.evidence_as_of(conn, ref, as_of)
    artifacts = [a for a in queries.release_artifacts(conn, ref) if a.seq < as_of]
    decisions = decisions_for(conn, str(ref), environment, limit=_GATE_DECISIONS)
    decisions = [d for d in decisions if d.seq < as_of]
    areas = policy.policy.high_risk if policy is not None else ()
    paths = _paths(commits, [(a.name, a.paths) for a in areas])
    migrations = [p["path"] for p in paths if p["migration"]]
    touched = sorted({name for p in paths for name in _names(p["high_risk"])})
    params = approval_params(policy, environment)
    rule: ApprovalRule | None = None
    if params is not None:
        rule = (params.urgent if urgent else params.normal).rule()
    classification = "urgent" if urgent else _classification(decisions)
    rfc: dict[str, JsonValue] = {
        "schema_version": 1,
        "title": f"Deploy {ref} to {environment}",
        "release": str(ref),
        "environment": environment,
        "classification": classification,
        "urgent": urgent,
        "urgent_reason": urgent_reason,
        "requested_by": requested_by,
        "requested_at": requested_at,
        "as_of_seq": as_of,
        "risk": _risk(commits, paths, migrations, touched, decisions),
        "why": _why(commits, ticket_links),
        "what": {
            "range": {
                "from": release.from_sha,
                "to": release.to_sha,
                "repository": release.repository,
            },
            "commits": [_commit(c) for c in commits],
            "paths": list(paths),
            "migrations": list(migrations),
            "high_risk_areas": list(touched),
            "artifacts": [
                {"seq": a.seq, "name": a.name, "size": a.size, "sha256": a.sha256}
                for a in artifacts
            ],
        },
        "evidence": [
            {
                "seq": e.seq,
                "kind": e.kind,
                "format": e.format,
                "sha256": e.sha256,
                "summary": e.summary,
            }
            for e in evidence
        ],
        "gate": {
            "policy_digest": policy.digest if policy is not None else None,
            "decisions": [_decision(d) for d in decisions],
        },
        "approval_rule": rule.to_data() if rule is not None else None,
        "plan": texts.plan,
        "rollback": texts.rollback,
        "dry_run_output": texts.dry_run_output,
        "schedule": (
            {"start": texts.window_start, "end": texts.window_end}
            if texts.window_start is not None
            else None
        ),
    }
    return rfc, content_digest(rfc)


def _classification(decisions: Sequence[DecisionRow]) -> str:
    # The gate classifies; without a decision yet the change is normal until shown otherwise.
    return decisions[0].classification if decisions else "normal"


def _commit(commit: Commit) -> dict[str, JsonValue]:
    return {
        "sha": commit.sha,
        "subject": commit.subject,
        "author": commit.author.email,
        "committer": commit.committer.email,
        "co_authors": [a.email for a in commit.co_authors],
        "merge": commit.merge,
        "tickets": [t.key for t in commit.tickets],
    }


def _paths(
    commits: Sequence[Commit], areas: Sequence[tuple[str, Sequence[str]]]
) -> list[dict[str, JsonValue]]:
    """Each changed path once, with its line counts summed, high-risk areas and migrations."""
    totals: dict[str, tuple[int | None, int | None]] = {}
    for commit in commits:
        for change in commit.paths:
            added, deleted = totals.get(change.path, (0, 0))
            totals[change.path] = (
                None if added is None or change.added is None else added + change.added,
                None if deleted is None or change.deleted is None else deleted + change.deleted,
            )
    found: list[dict[str, JsonValue]] = []
    for path in sorted(totals):
        added, deleted = totals[path]
        risky: list[JsonValue] = [
            name for name, globs in areas if any(matches(g, path) for g in globs)
        ]
        found.append(
            {
                "path": path,
                "added": added,
                "deleted": deleted,
                "high_risk": risky,
                "migration": any(matches(g, path) for g in MIGRATION_GLOBS),
            }
        )
    return found


def _names(value: JsonValue) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _why(commits: Sequence[Commit], links: Mapping[str, str]) -> dict[str, JsonValue]:
    by_key: dict[tuple[str, str], list[JsonValue]] = {}
    for commit in commits:
        for ticket in commit.tickets:
            shas = by_key.setdefault((ticket.system, ticket.key), [])
            if commit.sha not in shas:
                shas.append(commit.sha)
    return {
        "tickets": [
            {"key": key, "system": system, "url": _link(links, system, key), "commits": shas}
            for (system, key), shas in sorted(by_key.items(), key=lambda item: item[0][1])
        ],
        "untracked_commits": [c.sha for c in commits if not c.tickets],
    }


def _link(links: Mapping[str, str], system: str, key: str) -> str | None:
    """The ticket's URL from the configured template: `{key}` as written, `{number}` its
    digits (`#12` and `GH-12` are issue 12)."""
    template = links.get(system)
    if template is None:
        return None
    number = _NUMBER.search(key)
    return template.replace("{key}", key).replace("{number}", number.group(0) if number else key)


def _risk(
    commits: Sequence[Commit],
    paths: Sequence[Mapping[str, JsonValue]],
    migrations: Sequence[JsonValue],
    areas: Sequence[str],
    decisions: Sequence[DecisionRow],
) -> dict[str, JsonValue]:
    """High for database or high-risk changes and failing controls; medium for large ones."""
    high: list[JsonValue] = []
    medium: list[JsonValue] = []
    if migrations:
        high.append(f"{len(migrations)} schema migration file(s) change")
    if areas:
        high.append(f"high-risk areas change: {', '.join(areas)}")
    if decisions:
        failing = sorted(
            c.id
            for c in decisions[0].document.controls
            if c.status is ControlStatus.FAIL and c.id != CHANGE_APPROVAL
        )
        if failing:
            high.append(f"the newest gate decision fails: {', '.join(failing)}")
    lines = sum(v for p in paths for v in (p.get("added"), p.get("deleted")) if isinstance(v, int))
    if len(commits) > 50:
        medium.append(f"{len(commits)} commits")
    if lines > 1000:
        medium.append(f"{lines} changed lines")
    level = "high" if high else "medium" if medium else "low"
    return {"level": level, "reasons": high + medium or ["small change, no high-risk path"]}


def _decision(decision: DecisionRow) -> dict[str, JsonValue]:
    return {
        "seq": decision.seq,
        "allowed": decision.allowed,
        "classification": decision.classification,
        "policy_digest": decision.policy_digest,
        "failed": [
            {"id": c.id, "reason": c.reason}
            for c in decision.document.controls
            if c.status is ControlStatus.FAIL
        ],
    }


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
    what = rfc.get("what")
    what = what if isinstance(what, dict) else {}
    return ChangeFact(
        id=f"CHG-{seq}",
        state=ChangeState.REJECTED if rejected is not None else ChangeState.OPEN,
        urgent=rfc.get("urgent") is True,
        digest=digest,
        approvals=tuple(
            approval_record(v.seq, v.actor, v.digest, v.decided_at, v.comment)
            for v in verdicts
            if v.verdict == "approved"
        ),
        commits=tuple(_field(c, "sha") for c in _list(what.get("commits"))),
        evidence=tuple(int(_field(e, "seq")) for e in _list(rfc.get("evidence"))),
        artifacts=tuple(int(_field(a, "seq")) for a in _list(what.get("artifacts"))),
        migrations=bool(_list(what.get("migrations"))),
        high_risk=bool(_list(what.get("high_risk_areas"))),
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
    rfc: Mapping[str, JsonValue],
    verdicts: Sequence[VerdictRow],
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
    if content_digest(rfc) != digest:
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


def _list(value: JsonValue) -> list[JsonValue]:
    return value if isinstance(value, list) else []


def _field(item: JsonValue, key: str) -> str:
    return str(item.get(key)) if isinstance(item, dict) else ""
