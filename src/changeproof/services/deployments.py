"""Deployment use cases: record who pushed what where, its later status and post-deployment
checks, and list them.

A deployment is always recorded: the ledger must know what happened. It is `authorized`
only when an allowing gate decision for the same release, environment and artifact explains
it, that decision was made under the policy active at that moment (a dry run under another
policy file is never recorded; a decision under a policy that was not active, from before
dry runs, authorizes nothing), and the deployer passes the environment's
separation-of-duties rules (its deployer role, and deployer-not-author where the policy asks
it); otherwise it is flagged with the reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Connection

from changeproof.domain.actors import Actor, Directory
from changeproof.domain.artifacts import ARTIFACT_RECORDED
from changeproof.domain.canonical import JsonValue
from changeproof.domain.changes import parse_change_id
from changeproof.domain.clock import Clock
from changeproof.domain.deployments import (
    CheckStatus,
    DeploymentChecked,
    DeploymentRecorded,
    DeploymentStatus,
    DeploymentUpdated,
    deployment_id,
    parse_deployment_id,
)
from changeproof.domain.environments import environment_name
from changeproof.domain.errors import Field, InputError, NotFoundError, UsageError, operation
from changeproof.domain.events import Event, format_time
from changeproof.domain.identity import Sameness, unknown_because
from changeproof.domain.records import (
    CheckRecord,
    DecisionRecord,
    DeploymentRecord,
    DeploymentUpdateRecord,
)
from changeproof.domain.releases import ReleaseRef
from changeproof.services.environments import require_known_environment
from changeproof.services.gate import checked_commits, recorded_policy
from changeproof.services.separation import is_actor
from changeproof.store import changes as queries
from changeproof.store import decisions as recorded
from changeproof.store import releases as release_queries
from changeproof.store.actors import checked_directory
from changeproof.store.database import Database
from changeproof.store.decisions import decisions_for, expect_decision
from changeproof.store.entry_check import EntryCheck, EntryChecks
from changeproof.store.unit_of_work import UnitOfWork

__all__ = ["DeploymentService", "DeploymentView", "RecordRequest", "why_not_authorized"]

_MAX_DETAILS: Final = 1024 * 1024  # bytes of a check's details kept in the ledger
_SHA256_HEX: Final = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class RecordRequest:
    release: ReleaseRef
    environment: str
    artifact: str  # sha256 hex, optionally prefixed "sha256:"
    status: str
    pipeline_run: str | None = None
    deployment: str | None = None  # a later status of this deployment


@dataclass(frozen=True, slots=True)
class DeploymentView:
    row: DeploymentRecord
    updates: tuple[DeploymentUpdateRecord, ...]
    checks: tuple[CheckRecord, ...]

    @property
    def id(self) -> str:
        return deployment_id(self.row.seq)

    def document(self) -> dict[str, JsonValue]:
        r = self.row
        return {
            "id": self.id,
            "release": r.release,
            "environment": r.environment,
            "artifact": r.artifact,
            "deployer": r.actor,
            "status": r.status,
            "pipeline_run": r.pipeline_run,
            "authorized": r.authorized,
            "reason": r.reason,
            "policy_digest": r.policy_digest,
            "policy_active": r.policy_active,
            "decision_seq": r.decision_seq,
            "change": None if r.change_seq is None else f"CHG-{r.change_seq}",
            "urgent": r.urgent,
            "recorded_at": r.recorded_at,
            "updated_at": r.updated_at,
            "history": [
                {"seq": u.seq, "status": u.status, "by": u.actor, "at": u.updated_at}
                for u in self.updates
            ],
            "checks": [
                {
                    "seq": c.seq,
                    "name": c.name,
                    "status": c.status,
                    "details_sha256": c.details_sha256,
                    "by": c.actor,
                    "at": c.checked_at,
                }
                for c in self.checks
            ],
        }


class DeploymentService:
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

    def record(self, request: RecordRequest, *, by: str) -> DeploymentView:
        status = _status(request.status)
        artifact = _digest(request.artifact)
        environment_name(request.environment)
        _pipeline_run(request.pipeline_run)
        now = self._clock.now()
        with self._unit_of_work() as uow:
            require_known_environment(uow.conn, request.environment)
            if request.deployment is not None:
                row = self._find(uow.conn, request.deployment)
                if (row.release, row.environment, row.artifact) != (
                    str(request.release),
                    request.environment,
                    artifact,
                ):
                    raise UsageError(
                        f"{deployment_id(row.seq)} deploys {row.artifact} of {row.release} to "
                        f"{row.environment}, not what this call names"
                    )
                uow.record(Event.of(DeploymentUpdated(row.seq, status), by, now))
                seq: int | None = row.seq
            else:
                if release_queries.find_release(uow.conn, request.release) is None:
                    raise NotFoundError(
                        f"no release {request.release}", hint=f"run {operation('release create')}"
                    )
                verdict = _authorize(uow.conn, self._checks(uow.conn), request, artifact, by)
                uow.record(
                    Event.of(
                        DeploymentRecorded(
                            release=str(request.release),
                            environment=request.environment,
                            artifact=artifact,
                            status=status,
                            pipeline_run=request.pipeline_run,
                            authorized=verdict.authorized,
                            reason=verdict.reason,
                            decision=verdict.decision,
                            change=verdict.change,
                            urgent=verdict.urgent,
                            policy_digest=verdict.policy_digest,
                            policy_active=verdict.policy_active,
                        ),
                        by,
                        now,
                    )
                )
                seq = None
        return self.show(str(seq if seq is not None else uow.recorded[0].seq))

    def check(
        self, ident: str, *, name: str, status: str, details: bytes | None, by: str
    ) -> DeploymentView:
        """Record a post-deployment check's outcome, with its details file when given."""
        try:
            outcome = CheckStatus(status)
        except ValueError:
            raise UsageError(f"{Field('status')} must be pass or fail, not {status!r}") from None
        if not name.strip() or len(name) > 200:
            raise UsageError(f"{Field('name')} must be 1 to 200 characters")
        text = None
        if details is not None:
            if len(details) > _MAX_DETAILS:
                raise InputError(f"{Field('details')} is larger than {_MAX_DETAILS:,} bytes")
            try:
                text = details.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(f"{Field('details')} is not UTF-8 text (byte {e.start})") from None
        now = self._clock.now()
        with self._unit_of_work() as uow:
            row = self._find(uow.conn, ident)
            digest = None if details is None else hashlib.sha256(details).hexdigest()
            uow.record(
                Event.of(DeploymentChecked(row.seq, name.strip(), outcome, text, digest), by, now)
            )
        return self.show(str(row.seq))

    def show(self, ident: str) -> DeploymentView:
        with self._db.read() as conn:
            row = self._find(conn, ident)
            return DeploymentView(
                row,
                tuple(queries.updates_of(conn, row.seq)),
                tuple(queries.checks_of(conn, row.seq)),
            )

    def list(
        self, *, environment: str | None, since: datetime | None, until: datetime | None = None
    ) -> list[DeploymentView]:
        if since is not None and until is not None and until <= since:
            raise UsageError(f"{Field('until')} must be later than {Field('since')}")
        with self._db.read() as conn:
            rows = queries.list_deployments(
                conn,
                environment=environment,
                since=None if since is None else format_time(since),
                until=None if until is None else format_time(until),
            )
            return [_view(conn, row) for row in rows]

    @staticmethod
    def _find(conn: Connection, ident: str) -> DeploymentRecord:
        seq = parse_deployment_id(ident)
        if seq is None:
            raise UsageError(f"{ident!r} is not a deployment id (DEP-<number>)")
        row = queries.find_deployment(conn, seq)
        if row is None:
            raise NotFoundError(
                f"no deployment {deployment_id(seq)}", hint=f"{operation('deploy list')} shows them"
            )
        return row


def _view(conn: Connection, row: DeploymentRecord) -> DeploymentView:
    return DeploymentView(
        row, tuple(queries.updates_of(conn, row.seq)), tuple(queries.checks_of(conn, row.seq))
    )


def _pipeline_run(url: str | None) -> None:
    if url is not None and (len(url) > 2000 or not url.startswith(("https://", "http://"))):
        raise UsageError(
            f"{Field('pipeline_run')} must be an http(s) URL of at most 2,000 characters"
        )


def _status(text: str) -> DeploymentStatus:
    try:
        return DeploymentStatus(text)
    except ValueError:
        known = ", ".join(s.value for s in DeploymentStatus)
        raise UsageError(f"{Field('status')} must be one of {known}, not {text!r}") from None


def _digest(text: str) -> str:
    digest = text.strip().lower().removeprefix("sha256:")
    if len(digest) != 64 or not set(digest) <= _SHA256_HEX:
        raise UsageError(f"{Field('artifact')} must be a SHA-256 (64 hex digits), not {text!r}")
    return digest


@dataclass(frozen=True, slots=True)
class _Verdict:
    authorized: bool
    reason: str
    decision: int | None = None
    change: int | None = None
    urgent: bool = False
    policy_digest: str | None = None
    policy_active: bool | None = None


def _authorize(
    conn: Connection, check: EntryCheck, request: RecordRequest, artifact: str, by: str
) -> _Verdict:
    """Whether an allowing decision explains the deployment, and why (not). Every row it
    relies on (decisions, the policy activations, the directory, the release's commits and
    artifacts) is held to its ledger entry first."""
    people = checked_directory(conn, check)
    deployer = people.resolve(by)
    decisions = decisions_for(conn, str(request.release), request.environment, allowed_only=True)
    for decision in decisions:
        expect_decision(check, decision)
    check.confirm()
    reasons: list[str] = []
    for decision in decisions:
        problem = why_not_authorized(conn, check, decision, artifact, deployer, by, people)
        if problem is None:
            change = _change_of(decision)
            return _Verdict(
                authorized=True,
                reason=f"allowed by gate decision {decision.seq} under the active policy "
                f"sha256:{decision.policy_digest}",
                decision=decision.seq,
                change=change,
                urgent=decision.classification == "urgent",
                policy_digest=decision.policy_digest,
                policy_active=True,
            )
        reasons.append(f"decision {decision.seq}: {problem}")
    if not decisions:
        reasons.append(f"no gate decision allowed {request.release} into {request.environment}")
    return _Verdict(authorized=False, reason="unauthorized: " + "; ".join(reasons))


def why_not_authorized(
    conn: Connection,
    check: EntryCheck | None,
    decision: DecisionRecord,
    artifact: str,
    deployer: Actor | None,
    by: str,
    people: Directory,
) -> str | None:
    """Why `decision` does not explain this deployment by `by` (the `deployer` actor, in
    `people`), or None when it does; with `check`, every row read is held to its entry."""
    active = recorded.active_digest_before(conn, decision.seq, check)
    if check is not None:
        check.confirm()
    if active != decision.policy_digest:
        then = "no policy was active" if active is None else f"the active policy was {active[:12]}…"
        return (
            f"it was made under policy {decision.policy_digest[:12]}…, and {then} then: "
            "only a decision under the active policy authorizes a deployment"
        )
    if decision.artifact is not None and decision.artifact != artifact:
        return f"it allowed artifact {decision.artifact[:12]}…, not {artifact[:12]}…"
    if decision.artifact is None and not _names_artifact(conn, check, decision, artifact):
        return f"it names no artifact {artifact[:12]}…"
    named = decision.deployer
    if named is not None and (deployer is None or deployer.name != named):
        return f"it was asked for deployer {named}, not {by}"
    policy = recorded_policy(conn, decision.policy_digest, f"of decision {decision.seq}")
    environment = policy.policy.environments.get(decision.document.environment)
    if environment is None:
        return "its policy has no such environment"
    controls = {ref.id for ref in environment.controls}
    role = environment.deployer_role
    if role is not None and "deployer-role" in controls:
        if deployer is None:
            return f"{by} is not a known actor, and the environment needs role {role}"
        if role not in deployer.roles:
            return f"{deployer.name} does not hold role {role}"
    if "deployer-not-author" in controls:
        if deployer is None:
            return f"{by} is not a known actor, so they cannot be told apart from the authors"
        wrote = _wrote(conn, check, decision, deployer, people)
        if wrote is not None:
            return f"{deployer.name} {wrote}, and the environment needs deployer-not-author"
    return None


def _names_artifact(
    conn: Connection, check: EntryCheck | None, decision: DecisionRecord, artifact: str
) -> bool:
    """A decision asked without --artifact covers the artifacts recorded for the release
    before it decided."""
    release, as_of = decision.document.release, decision.document.as_of_seq
    found = [
        a
        for a in release_queries.release_artifacts(conn, ReleaseRef.parse(release))
        if a.sha256 == artifact and a.seq < as_of
    ]
    if check is not None:
        for a in found:
            check.expect(
                "artifacts", a.seq, ARTIFACT_RECORDED, {"release": release, "sha256": a.sha256}
            )
        check.confirm()
    return bool(found)


def _wrote(
    conn: Connection,
    check: EntryCheck | None,
    decision: DecisionRecord,
    deployer: Actor,
    people: Directory,
) -> str | None:
    release = ReleaseRef.parse(decision.document.release)
    commits = (
        release_queries.release_commits_of(conn, release)
        if check is None
        else checked_commits(conn, check, release)
    )
    for commit in commits:
        pairs = [("authored", commit.author.email), ("committed", commit.committer.email)]
        pairs += [("co-authored", a.email) for a in commit.co_authors]
        for verb, email in pairs:
            found = is_actor(people, deployer, email)
            if found is Sameness.SAME:
                return f"{verb} commit {commit.sha[:12]}"
            if found is Sameness.UNKNOWN:  # the identity engine cannot tell: fail closed
                writer = people.who_email(email)
                because = unknown_because(people.who_of(deployer), writer)
                return (
                    f"cannot be told apart from {writer.label}, who {verb} commit "
                    f"{commit.sha[:12]} ({because})"
                )
    return None


def _change_of(decision: DecisionRecord) -> int | None:
    """The change the decision's change-approval control counted approvals of, if any."""
    control = decision.document.control("change-approval")
    change = (
        None if control is None else next((r for r in control.evidence if r.kind == "change"), None)
    )
    return None if change is None else parse_change_id(change.ref)
