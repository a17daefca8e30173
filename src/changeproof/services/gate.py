"""The gate: may release R of service S go to environment E, deployed by D?

The facts are read as of one ledger position, the policy is recorded by its digest,
and the decision records both, so any verdict can be replayed later from the ledger
alone (`replay`).

A decision reads, evaluates and records in one transaction that holds no lock while it
reads (an optimistic unit of work), so concurrent gates read side by side and the decision
lands right after the head it read. When another writer appended meanwhile, nothing of it is
recorded and the release is decided again under the ledger's lock.

With `attestation`, the decision is also written as a SLSA verification summary (see
`changeproof.reports.vsa`) in a DSSE envelope signed by the instance key, once the decision
is recorded (the summary names its ledger entry); nothing is written when the gate errs.
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from changeproof.domain.artifacts import ARTIFACT_RECORDED, ArtifactRecorded
from changeproof.domain.canonical import CanonicalObject, JsonValue, canonical_json
from changeproof.domain.clock import Clock
from changeproof.domain.decisions import (
    GATE_DECIDED,
    POLICY_ACTIVATED,
    Classification,
    Decision,
    GateDecided,
)
from changeproof.domain.deployments import DeploymentFact
from changeproof.domain.errors import (
    ConfigError,
    Field,
    InputError,
    IntegrityError,
    NotFoundError,
    UsageError,
    operation,
)
from changeproof.domain.events import ActorId, Event
from changeproof.domain.evidence import EVIDENCE_RECORDED, Subject
from changeproof.domain.evidence_documents import EvidenceRecorded
from changeproof.domain.policies import PolicyRecorded
from changeproof.domain.releases import (
    COMMIT_RECORDED,
    RELEASE_CREATED,
    Commit,
    CommitRecorded,
    ReleaseRef,
)
from changeproof.ingest.envelopes import IN_TOTO_PAYLOAD_TYPE
from changeproof.ingest.signatures import pae
from changeproof.ledger import NoteSigner
from changeproof.policy.controls.promotion import PROMOTED_FROM
from changeproof.policy.evaluation import evaluate
from changeproof.policy.facts import ArtifactFact, EvidenceFact, Facts, expert_groups
from changeproof.policy.loader import LoadedPolicy, PolicyFiles, policy_from_document
from changeproof.reports.vsa import InputAttestation, verification_summary
from changeproof.services.change_documents import approval_params, change_fact
from changeproof.services.environments import require_known_environment
from changeproof.store import decisions as recorded
from changeproof.store import releases as queries
from changeproof.store.actors import checked_directory, directory
from changeproof.store.database import Database
from changeproof.store.entry_check import EntryCheck, EntryChecks
from changeproof.store.promotions import deployments_of_artifacts
from changeproof.store.unit_of_work import StaleSnapshotError, UnitOfWorkFactory

__all__ = [
    "GateRequest",
    "GateResult",
    "GateService",
    "Replay",
    "active_policy",
    "active_policy_or_none",
    "checked_commits",
    "facts_as_of",
    "recorded_policy",
    "recorded_request",
]


@dataclass(frozen=True, slots=True)
class GateRequest:
    release: ReleaseRef
    environment: str
    policy_file: Path | None  # None: the instance's active policy (`policy activate`)
    deployer: str | None = None
    artifact: str | None = None
    urgent: bool = False
    reason: str | None = None
    declared: Classification | None = None
    attestation: Path | None = None  # also write the decision here, as a signed VSA


@dataclass(frozen=True, slots=True)
class GateResult:
    decision: Decision
    seq: int | None  # None for a dry run: nothing was recorded
    as_of_seq: int
    attestation: Path | None = None  # where the signed VSA was written
    active_digest: str | None = None  # the instance's active policy when it decided

    def document(self, deployer: str | None) -> dict[str, JsonValue]:
        """The decision as `gate --output json` prints it and the API returns it."""
        doc = GateDecided.of(self.decision, self.as_of_seq, deployer).verdict()
        extra = {} if self.attestation is None else {"attestation": str(self.attestation)}
        return {
            **doc,
            "decision_seq": self.seq,
            "dry_run": self.dry_run,
            "active_policy_digest": self.active_digest,
            **extra,
        }

    @property
    def dry_run(self) -> bool:
        """Decided under a policy that is not the instance's active one: shown, never
        recorded, and it authorizes nothing."""
        return self.seq is None


@dataclass(frozen=True, slots=True)
class Replay:
    seq: int
    recorded: GateDecided
    replayed: Decision

    def again(self) -> GateDecided:
        """The replayed decision as it would be recorded, asked what the recorded one was."""
        recorded = self.recorded
        return GateDecided.of(
            self.replayed,
            recorded.as_of_seq,
            recorded.deployer_identity,
            declared=recorded.declared,
            now=recorded.now,
        )

    @property
    def same(self) -> bool:
        return self.again().verdict() == self.recorded.verdict()


class GateService:
    def __init__(
        self,
        db: Database,
        unit_of_work: UnitOfWorkFactory,
        clock: Clock,
        checks: EntryChecks,
        signer: NoteSigner | None = None,  # the instance key, to sign attestations with
    ) -> None:
        self._db = db
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._signer = signer
        self._checks = checks
        self._policy_files = PolicyFiles()
        # Digests of policies the ledger holds: a recorded policy stays recorded, so each is
        # looked up once per service, not once per decision.
        self._recorded_policies: set[str] = set()

    def decide(self, request: GateRequest, *, actor: str) -> GateResult:
        if request.urgent and not (request.reason or "").strip():
            raise UsageError(f"an urgent change needs {Field('reason')}")
        if request.reason and not request.urgent:
            raise UsageError(f"{Field('reason')} goes with {Field('urgent')}")
        signer = None
        if request.attestation is not None:
            signer = self._attestation_signer(request, request.attestation)
        from_file = None
        if request.policy_file is not None:
            from_file = self._policy_files.load(request.policy_file)
        now = self._clock.now()
        try:
            result, facts, subjects = self._decide(request, from_file, now, actor, optimistic=True)
        except StaleSnapshotError:
            # Another writer appended while this decision read: decide again, holding the
            # ledger's lock from the first read, which cannot go stale.
            result, facts, subjects = self._decide(request, from_file, now, actor, optimistic=False)
        if signer is None or request.attestation is None:
            return result
        _attest(signer, request.attestation, result, facts, subjects, now)
        return replace(result, attestation=request.attestation)

    def _decide(
        self,
        request: GateRequest,
        from_file: LoadedPolicy | None,
        now: datetime,
        actor: str,
        *,
        optimistic: bool,
    ) -> tuple[GateResult, Facts, tuple[Subject, ...]]:
        """Read the facts, evaluate and record, in one unit of work: the decision is recorded
        as of the very head it read, with no write in between."""
        with self._unit_of_work(optimistic=optimistic) as uow:
            conn = uow.conn
            as_of = uow.head.tree_size
            check = self._checks(conn)
            active = active_policy_or_none(conn, check)
            loaded = from_file if from_file is not None else active
            if loaded is None:
                raise _no_policy()
            require_known_environment(conn, request.environment, loaded)
            active_digest = None if active is None else active.digest
            dry_run = loaded.digest != active_digest
            if dry_run and request.attestation is not None:
                raise UsageError(
                    f"policy {loaded.source} (sha256:{loaded.digest}) is not the instance's "
                    "active policy: its decision is a dry run, recorded nowhere, and cannot be "
                    "attested",
                    hint=f"gate without {Field('policy')} (the active policy), or have this one "
                    f"activated with {operation('policy activate')}",
                )
            facts = facts_as_of(conn, request, loaded, as_of, now, check)
            subjects = _subjects(facts)
            if request.attestation is not None and not subjects:
                raise UsageError(
                    f"an attestation is about an artifact, and {request.release} has none recorded",
                    hint=f"give {Field('artifact')} DIGEST, or record one with "
                    f"{operation('attest artifact')}",
                )
            decision = evaluate(loaded.policy, loaded.digest, facts, declared=request.declared)
            if dry_run:
                return GateResult(decision, None, as_of, None, active_digest), facts, subjects
            if loaded.digest not in self._recorded_policies and not recorded.policy_recorded(
                conn, loaded.digest
            ):
                policy = loaded.policy.model_dump(mode="json")
                uow.record(
                    Event.of(PolicyRecorded(loaded.digest, policy, loaded.source), actor, now)
                )
            decided = GateDecided.of(
                decision,
                as_of,
                request.deployer,
                declared=request.declared,
                now=now.isoformat(),
            )
            # Encoded once, for the ledger entry and the projection alike: at thousands of
            # commits a decision carries 1,500 evidence references.
            data = CanonicalObject(decided.to_data())
            uow.record(Event(GATE_DECIDED, ActorId(actor), now, data, decided))
        self._recorded_policies.add(loaded.digest)
        return (
            GateResult(decision, uow.recorded[-1].seq, as_of, None, active_digest),
            facts,
            subjects,
        )

    def _attestation_signer(self, request: GateRequest, path: Path) -> NoteSigner:
        """The key to sign with; refuses, before anything is recorded, an attestation that
        could not be made or written."""
        if self._signer is None:
            raise ConfigError("this gate has no signing key to sign an attestation with")
        if request.artifact is not None and not _SHA256.fullmatch(request.artifact):
            raise UsageError(
                f"{Field('artifact')} {request.artifact!r} is not a sha256 digest (64 hex digits); "
                "an attestation names its subject by one"
            )
        if path.is_dir():
            raise UsageError(f"{Field('attestation')} {path} is a directory; give a file name")
        if not path.parent.is_dir():
            raise UsageError(
                f"cannot write {Field('attestation')} {path}: no directory {path.parent}"
            )
        return self._signer

    def replay(self, seq: int) -> Replay:
        """Re-evaluate a recorded decision from the ledger and the policy with its digest."""
        with self._db.read() as conn:
            if recorded.decision_document(conn, seq) is None:
                raise NotFoundError(f"entry {seq} is not a gate decision")
            check = self._checks(conn)
            check.expect("decisions", seq, GATE_DECIDED)
            # The decision as its entry says, whatever its projection row says now.
            decided = check.confirm()[seq].as_(GateDecided)
            digest = decided.policy_digest
            loaded = recorded_policy(conn, digest, f"that decided entry {seq}")
            request, now = recorded_request(decided)
            facts = facts_as_of(conn, request, loaded, decided.as_of_seq, now, check)
        replayed = evaluate(loaded.policy, digest, facts, declared=decided.declared)
        return Replay(seq, decided, replayed)


def active_policy(conn: Connection) -> LoadedPolicy:
    """The instance's active policy, from the ledger; NotFoundError when none was activated."""
    loaded = active_policy_or_none(conn)
    if loaded is None:
        raise _no_policy()
    return loaded


def active_policy_or_none(conn: Connection, check: EntryCheck | None = None) -> LoadedPolicy | None:
    """The instance's active policy, from the ledger, or None when none was activated; with
    `check`, the activation row is held to its `policy.activated` entry (a row planted to
    make another recorded policy the active one is an integrity failure)."""
    activation = recorded.active_policy(conn)
    if activation is None:
        return None
    if check is not None:
        check.expect(
            "policy_activations", activation.seq, POLICY_ACTIVATED, {"digest": activation.digest}
        )
        check.confirm()
    return recorded_policy(conn, activation.digest, f"activated at entry {activation.seq}")


def _no_policy() -> NotFoundError:
    return NotFoundError(
        f"no policy: no {Field('policy')} given, no ./changeproof.yaml here, "
        "and the instance has no active policy",
        hint=f"activate one with {operation('policy activate', 'FILE')} (a policy file given to "
        "the gate is only a dry run)",
    )


def recorded_policy(conn: Connection, digest: str, role: str) -> LoadedPolicy:
    """The policy recorded with `digest`, checked to still have it; `role` says why it is read."""
    document = recorded.policy_document(conn, digest)
    if document is None:
        raise IntegrityError(f"the policy {digest} {role} is not recorded")
    loaded = policy_from_document(document, source=f"ledger policy {digest}")
    if loaded.digest != digest:
        raise IntegrityError(f"the recorded policy no longer has the digest {digest}")
    return loaded


def recorded_request(decided: GateDecided) -> tuple[GateRequest, datetime]:
    """What a recorded decision was asked, and when."""
    request = GateRequest(
        release=ReleaseRef.parse(decided.release),
        environment=decided.environment,
        policy_file=None,
        deployer=decided.deployer_identity,
        artifact=decided.artifact,
        urgent=decided.classification is Classification.URGENT,
        reason=decided.urgent_reason,
        declared=decided.declared,
    )
    try:
        now = datetime.fromisoformat(decided.now)
    except ValueError:
        raise InputError(f"the decision's time {decided.now!r} is not an ISO 8601 time") from None
    return request, now


def facts_as_of(
    conn: Connection,
    request: GateRequest,
    loaded: LoadedPolicy,
    as_of: int,
    now: datetime,
    check: EntryCheck | None = None,
) -> Facts:
    """The release's facts as they stood at ledger position `as_of`, for `loaded`'s policy.

    With `check` (a decision that counts), the projections only say which entries hold the
    facts: the release, its commits, evidence and artifacts are read from those entries,
    each proven into the signed tree, and the directory's and the change's rows are held to
    theirs, so an edited table is an integrity failure rather than a verdict.
    """
    ref = request.release
    release = queries.find_release(conn, ref)
    if release is None or release.seq >= as_of:
        raise NotFoundError(f"no release {ref}", hint=f"run {operation('release create')}")
    records = queries.release_commit_records(conn, ref)
    artifacts = queries.release_artifacts_as_of(conn, ref, as_of)
    people = directory(conn, as_of) if check is None else checked_directory(conn, check, as_of)
    # Only change-approval reads it: other environments skip the change queries.
    change = (
        change_fact(conn, str(ref), request.environment, as_of, check)
        if approval_params(loaded, request.environment) is not None
        else None
    )
    deployments: tuple[DeploymentFact, ...] = ()
    if _requires(loaded, request.environment, PROMOTED_FROM):
        traced = [request.artifact] if request.artifact else [a[2] for a in artifacts]
        deployments = deployments_of_artifacts(conn, traced, as_of, check)
    if check is None:
        commits = tuple(queries.stored_commit(sha, record) for sha, _, record in records)
        evidence_facts = tuple(
            EvidenceFact.decoded(e.seq, e.kind, e.format, e.sha256, e.summary, e.detail)
            for e in queries.evidence_as_of(conn, ref, as_of)
        )
        artifact_facts = tuple(ArtifactFact(seq, name, digest) for seq, name, digest in artifacts)
    else:
        commits, evidence_facts, artifact_facts = _from_entries(
            check,
            release.seq,
            ref,
            records,
            queries.evidence_seqs_as_of(conn, ref, as_of),
            [a[0] for a in artifacts],
        )
    deployer = None
    if request.deployer is not None:
        found = people.resolve(request.deployer)
        deployer = found.name if found is not None else request.deployer
    return Facts(
        release=str(ref),
        environment=request.environment,
        commits=commits,
        evidence=evidence_facts,
        artifacts=artifact_facts,
        directory=people,
        now=now,
        deployer=deployer,
        artifact=request.artifact,
        urgent=request.urgent,
        urgent_reason=request.reason,
        high_risk_groups=expert_groups(loaded.policy),
        change=change,
        deployments=deployments,
    )


def _requires(loaded: LoadedPolicy, environment: str, control_id: str) -> bool:
    found = loaded.policy.environments.get(environment)
    return found is not None and any(ref.id == control_id for ref in found.controls)


def _from_entries(
    check: EntryCheck,
    release_seq: int,
    ref: ReleaseRef,
    records: Sequence[tuple[str, int, str]],
    evidence: Sequence[int],
    artifacts: Sequence[int],
) -> tuple[tuple[Commit, ...], tuple[EvidenceFact, ...], tuple[ArtifactFact, ...]]:
    """The release's commits, evidence and artifacts read from their ledger entries."""
    release = str(ref)
    check.expect(
        "releases",
        release_seq,
        RELEASE_CREATED,
        {"service": ref.service, "name": ref.name, "commits": [sha for sha, _, _ in records]},
    )
    for sha, seq, _ in records:
        check.expect("commits", seq, COMMIT_RECORDED, {"sha": sha})
    for seq in evidence:
        check.expect("evidence", seq, EVIDENCE_RECORDED, {"release": release})
    for seq in artifacts:
        check.expect("artifacts", seq, ARTIFACT_RECORDED, {"release": release})
    entries = check.confirm()
    commits = tuple(entries[seq].as_(CommitRecorded).commit for _, seq, _ in records)
    found = [EvidenceFact.recorded(seq, entries[seq].as_(EvidenceRecorded)) for seq in evidence]
    built = []
    for seq in artifacts:
        artifact = entries[seq].as_(ArtifactRecorded)
        built.append(ArtifactFact(seq, artifact.name, artifact.sha256))
    return commits, tuple(found), tuple(built)


def checked_commits(conn: Connection, check: EntryCheck, ref: ReleaseRef) -> tuple[Commit, ...]:
    """The release's commits as their ledger entries say (NotFoundError: no such release)."""
    release = queries.find_release(conn, ref)
    if release is None:
        raise NotFoundError(f"no release {ref}", hint=f"run {operation('release create')}")
    records = queries.release_commit_records(conn, ref)
    return _from_entries(check, release.seq, ref, records, (), ())[0]


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _subjects(facts: Facts) -> tuple[Subject, ...]:
    """What a decision is about: the artifact asked for (by its recorded name when it has
    one), else every artifact recorded for the release."""
    if facts.artifact is not None:
        names = [a.name for a in facts.artifacts if a.sha256 == facts.artifact]
        name = names[0] if names else f"sha256:{facts.artifact}"
        return (Subject(name, {"sha256": facts.artifact}),)
    recorded_artifacts = dict.fromkeys((a.name, a.sha256) for a in facts.artifacts)
    return tuple(Subject(name, {"sha256": digest}) for name, digest in recorded_artifacts)


def _attest(
    signer: NoteSigner,
    path: Path,
    result: GateResult,
    facts: Facts,
    subjects: tuple[Subject, ...],
    now: datetime,
) -> None:
    """Sign the decision's verification summary (DSSE, Ed25519) and write it atomically."""
    assert result.seq is not None  # a dry run is refused an attestation before it decides
    statement = verification_summary(
        result.decision,
        decision_seq=result.seq,
        as_of_seq=result.as_of_seq,
        origin=signer.name,
        verified_at=now,
        subjects=subjects,
        inputs=[InputAttestation(e.seq, e.sha256) for e in facts.evidence],
    )
    payload = canonical_json(statement)
    envelope: dict[str, JsonValue] = {
        "payloadType": IN_TOTO_PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {
                "keyid": signer.verifier.key_id.hex(),
                "sig": base64.b64encode(
                    signer.sign_message(pae(IN_TOTO_PAYLOAD_TYPE, payload))
                ).decode("ascii"),
            }
        ],
    }
    try:
        _write_atomically(path, canonical_json(envelope) + b"\n")
    except OSError as e:
        raise InputError(
            f"the decision is recorded as entry {result.seq}, but the attestation "
            f"{path} could not be written: {e.strerror or e}",
            hint=f"run the gate again with a writable {Field('attestation')} path",
        ) from e


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # an attestation is public: anyone may check it
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
