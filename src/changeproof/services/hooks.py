"""Webhook use cases: authenticate a delivery, record its receipt once, and turn it into the
evidence the CLI records, after the sender has had its answer.

A delivery goes through three steps, the first two before the sender is answered:

1. `authenticate`: the source's signature (GitHub's HMAC, GitLab's token and Standard
   Webhooks signatures, Standard Webhooks'), checked in constant time over the raw body.
   A failure raises `SignatureError` and records nothing at all.
2. `receive`: the delivery's id is looked up; a redelivery is answered with the first
   delivery's outcome and records nothing. A new one is written to the spool
   (HOME/hooks/spool/<sha256>, the raw body) and recorded as `hook.received`, in one unit of
   work under the ledger's lock, so two replicas receiving the same id record it once.
3. `process`: the heavy part, after the answer. What the delivery asks for is recorded
   through the same services the CLI uses (review evidence through `EvidenceService`, a
   deployment's status through `DeploymentService`), then `hook.processed` with the outcome,
   and the spooled body is removed.

A server that stops between 2 and 3 leaves a received, unprocessed delivery with its body in
the spool: `recover` (run when the server starts) processes every such delivery received
more than RECOVERY_GRACE before (a younger one may still be in another replica's hands). Processing
twice records nothing twice: evidence is recorded once per digest and release, and
`hook.processed` once per delivery.

The actor every entry of a source is recorded as is the source's configured actor, which
must be a registered pipeline identity (checked against its ledger entry when a delivery
arrives); an endpoint whose source is not configured refuses every delivery.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import Connection

from changeproof.domain.actors import ActorKind
from changeproof.domain.clock import Clock
from changeproof.domain.deployments import DeploymentStatus, deployment_id
from changeproof.domain.errors import (
    ChangeproofError,
    ConfigError,
    InputError,
    UnavailableError,
    UsageError,
    operation,
)
from changeproof.domain.events import Event, format_time
from changeproof.domain.evidence_documents import ReviewSummary
from changeproof.domain.hooks import HookOutcome, HookProcessed, HookReceived, HookSource
from changeproof.domain.releases import ReleaseRef
from changeproof.ingest.errors import ReadError
from changeproof.ingest.reviews import read_review
from changeproof.ingest.webhooks import (
    SignatureError,
    verify_github_signature,
    verify_gitlab_token,
    verify_standard_signature,
)
from changeproof.services.evidence import Upload
from changeproof.services.hook_config import HookConfig, HookSettings
from changeproof.store import changes as deployment_queries
from changeproof.store import releases as release_queries
from changeproof.store.actors import checked_directory
from changeproof.store.database import Database
from changeproof.store.entry_check import EntryChecks
from changeproof.store.hooks import (
    DeliveryRecord,
    find_delivery,
    pending_deliveries,
    releases_holding,
)
from changeproof.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from changeproof.services.deployments import DeploymentService
    from changeproof.services.evidence import EvidenceService, ReviewSignature

__all__ = [
    "MAX_BODY",
    "Delivery",
    "HookNotConfiguredError",
    "HookService",
    "Outcome",
    "Receipt",
    "SignatureError",
]

log = logging.getLogger(__name__)

MAX_BODY: Final = 25 * 1024 * 1024  # GitHub caps a delivery's payload at 25 MB
# How old a received, unprocessed delivery must be before a starting server takes it up.
RECOVERY_GRACE: Final = timedelta(minutes=2)
_DELIVERY_ID: Final = re.compile(r"[\x21-\x7e]{1,255}")
_EVENT: Final = re.compile(r"[\x20-\x7e]{0,255}")
# GitHub's deployment states, as the deployment status changeproof records for them.
_DEPLOYMENT_STATES: Final = {
    "success": DeploymentStatus.SUCCEEDED,
    "failure": DeploymentStatus.FAILED,
    "error": DeploymentStatus.FAILED,
    "in_progress": DeploymentStatus.STARTED,
    "queued": DeploymentStatus.STARTED,
    "pending": DeploymentStatus.STARTED,
}
_GITLAB_APPROVALS: Final = frozenset({"approval", "approved", "unapproval", "unapproved"})
_GITHUB_REVIEW_ACTIONS: Final = frozenset({"submitted", "edited", "dismissed"})
_SIGNATURE: Final = ".signature"


class HookNotConfiguredError(ConfigError):
    """The instance accepts no deliveries from this source (fail closed)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """An authenticated delivery: who sent it, its id and event, and its raw body."""

    source: HookSource
    delivery: str
    event: str
    body: bytes
    signature: str | None  # GitHub's X-Hub-Signature-256, checked again by the evidence path

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True, slots=True)
class Receipt:
    record: DeliveryRecord
    duplicate: bool  # a redelivery: nothing was recorded, `record` is the first delivery

    def document(self) -> dict[str, object]:
        r = self.record
        return {
            "source": r.source.value,
            "delivery": r.delivery,
            "event": r.event,
            "seq": r.seq,
            "payload_sha256": r.payload_sha256,
            "duplicate": self.duplicate,
            "outcome": "received" if r.outcome is None else r.outcome.value,
            "reason": r.reason,
            "recorded": list(r.recorded),
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    outcome: HookOutcome
    reason: str
    recorded: tuple[int, ...] = ()


class HookService:
    def __init__(
        self,
        db: Database,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        checks: EntryChecks,
        config: HookConfig,
        spool: Path,
        evidence: Callable[[], EvidenceService],
        deployments: Callable[[], DeploymentService],
    ) -> None:
        self._db = db
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._checks = checks
        self._config = config
        self._spool = spool
        self._evidence = evidence
        self._deployments = deployments

    # --- before the answer ----------------------------------------------------------------

    def settings(self, source: HookSource) -> HookSettings:
        found = self._config.of(source)
        if found is None:
            raise HookNotConfiguredError(
                f"this instance accepts no {source} webhooks",
                hint=f"add a [hooks.{source}] table with the actor and secret_file to the "
                "instance's config.toml",
            )
        return found

    def authenticate(self, source: HookSource, body: bytes, headers: Mapping[str, str]) -> Delivery:
        """The delivery, its signature checked; `headers` by lower-case name.

        SignatureError when the signature does not hold, HookNotConfiguredError when the
        source is not configured, UsageError when an authentic delivery has no usable id.
        """
        settings = self.settings(source)
        if source is HookSource.GITHUB:
            signature = headers.get("x-hub-signature-256")
            _any_secret(settings.secrets, lambda s: verify_github_signature(body, signature, s))
            return Delivery(
                source,
                _delivery_id(headers.get("x-github-delivery"), "X-GitHub-Delivery"),
                _event(headers.get("x-github-event")),
                body,
                signature,
            )
        if source is HookSource.GITLAB:
            if settings.secrets:
                token = headers.get("x-gitlab-token")
                _any_secret(
                    settings.secrets, lambda s: verify_gitlab_token(token, s.decode("utf-8"))
                )
            signed = "webhook-signature" in headers
            if signed or settings.signing_keys:
                self._standard(body, headers, settings.signing_keys)
            given = (
                headers.get("x-gitlab-event-uuid")
                or headers.get("idempotency-key")
                or headers.get("webhook-id")
            )
            return Delivery(
                source,
                _delivery_id(given, "X-Gitlab-Event-UUID"),
                _event(headers.get("x-gitlab-event")),
                body,
                None,
            )
        self._standard(body, headers, settings.secrets)
        return Delivery(
            source,
            _delivery_id(headers.get("webhook-id"), "webhook-id"),
            _event(_standard_type(body)),
            body,
            None,
        )

    def receive(self, delivery: Delivery) -> Receipt:
        """Record the delivery's receipt, once per (source, id): a redelivery records nothing
        and gets the first delivery's record."""
        settings = self.settings(delivery.source)
        with self._unit_of_work() as uow:
            known = find_delivery(uow.conn, delivery.source, delivery.delivery)
            if known is not None:
                return Receipt(known, duplicate=True)
            self._require_pipeline(uow, settings)
            self._keep(delivery)
            received = HookReceived(
                delivery.source, delivery.delivery, delivery.event, delivery.sha256
            )
            uow.record(Event.of(received, settings.actor, self._clock.now()))
        with self._db.read() as conn:
            found = find_delivery(conn, delivery.source, delivery.delivery)
        if found is None:  # recorded in the transaction just committed
            raise UnavailableError("the delivery's receipt was recorded but cannot be read back")
        return Receipt(found, duplicate=False)

    def delivery(self, source: HookSource, delivery: str) -> DeliveryRecord | None:
        with self._db.read() as conn:
            return find_delivery(conn, source, delivery)

    # --- after the answer -----------------------------------------------------------------

    def process(self, received: DeliveryRecord, delivery: Delivery) -> DeliveryRecord | None:
        """Do what the delivery asks, then record `hook.processed`; None when it must wait
        (the database was unreachable: `recover` takes it up again)."""
        settings = self.settings(received.source)
        try:
            outcome = self._outcome(delivery, settings.actor)
        except UnavailableError:
            log.warning("delivery %s left for recovery: the store is unavailable", received.seq)
            return None
        except ChangeproofError as e:
            outcome = Outcome(HookOutcome.REJECTED, e.message)
        processed = HookProcessed(
            received.source,
            received.delivery,
            received.seq,
            outcome.outcome,
            outcome.reason,
            outcome.recorded,
        )
        with self._unit_of_work() as uow:
            current = find_delivery(uow.conn, received.source, received.delivery)
            if current is not None and current.outcome is None:
                uow.record(Event.of(processed, settings.actor, self._clock.now()))
        with self._db.read() as conn:
            done = find_delivery(conn, received.source, received.delivery)
            waiting = {p.payload_sha256 for p in pending_deliveries(conn)}
        if received.payload_sha256 not in waiting:
            spooled = self._spooled(received.payload_sha256)
            spooled.with_name(spooled.name + _SIGNATURE).unlink(missing_ok=True)
            spooled.unlink(missing_ok=True)
        return done

    def recover(self, *, grace: timedelta = RECOVERY_GRACE) -> int:
        """Process every delivery received at least `grace` ago but never processed whose
        body is still spooled (a server stopped in between); the number processed.

        A younger one may be in another replica's hands right now, its answer just sent:
        processing it here too could record its deployment status twice.
        """
        horizon = format_time(self._clock.now() - grace)
        with self._db.read() as conn:
            pending = pending_deliveries(conn)
        done = 0
        for received in pending:
            if self._config.of(received.source) is None or received.received_at > horizon:
                continue
            try:
                body = self._spooled(received.payload_sha256).read_bytes()
            except FileNotFoundError:
                log.warning("delivery %s has no spooled body to process", received.seq)
                continue
            if hashlib.sha256(body).hexdigest() != received.payload_sha256:
                log.warning("delivery %s: its spooled body has another digest", received.seq)
                continue
            # The signature was checked when it arrived; GitHub's is kept beside the body, and
            # the evidence path checks it again.
            kept = self._spooled(received.payload_sha256)
            kept = kept.with_name(kept.name + _SIGNATURE)
            signature = kept.read_text(encoding="ascii") if kept.is_file() else None
            delivery = Delivery(received.source, received.delivery, received.event, body, signature)
            if self.process(received, delivery) is not None:
                done += 1
        return done

    # --- what a delivery becomes --------------------------------------------------------

    def _outcome(self, delivery: Delivery, actor: str) -> Outcome:
        source, event = delivery.source, delivery.event
        if source is HookSource.GITHUB:
            if event == "pull_request_review":
                return self._review(delivery, actor, "github")
            if event == "deployment_status":
                return self._deployment_status(delivery, actor)
            if event == "ping":
                return Outcome(HookOutcome.IGNORED, "GitHub's ping: the webhook reaches the server")
            if event == "pull_request":
                return Outcome(
                    HookOutcome.IGNORED,
                    "a pull request event records nothing: its commits (base..head) are bound "
                    "to a release by its reviews (pull_request_review), and releases are "
                    "created from the repository",
                )
            if event == "push":
                return Outcome(
                    HookOutcome.IGNORED,
                    "a push records nothing: a release is created from the repository's "
                    "commits (release create), not from a push",
                )
        if source is HookSource.GITLAB and event == "Merge Request Hook":
            doc = _json(delivery.body)
            attributes = doc.get("object_attributes")
            action = attributes.get("action") if isinstance(attributes, dict) else None
            if action in _GITLAB_APPROVALS:
                return self._review(delivery, actor, "gitlab")
            return Outcome(
                HookOutcome.IGNORED,
                f"a merge request event with action {str(action)[:40]!r} is no approval",
            )
        if source is HookSource.STANDARD:
            _json(delivery.body)
        shown = event[:60] or "unnamed"
        return Outcome(HookOutcome.IGNORED, f"changeproof handles no {source} {shown!r} events")

    def _review(self, delivery: Delivery, actor: str, flavour: str) -> Outcome:
        if flavour == "github":
            doc = _json(delivery.body)
            action = doc.get("action")
            if action not in _GITHUB_REVIEW_ACTIONS:
                return Outcome(
                    HookOutcome.IGNORED, f"a review {str(action)[:40]!r} action is no verdict"
                )
        name = f"{delivery.source}-{delivery.delivery}.json"
        reading = read_review(delivery.body, name, flavour=flavour)
        summary = reading.summary
        sha = summary.reviewed_sha if isinstance(summary, ReviewSummary) else None
        if sha is None:
            return Outcome(HookOutcome.IGNORED, "the review names no commit")
        with self._db.read() as conn:
            held = releases_holding(conn, sha)
        if not held:
            return Outcome(
                HookOutcome.IGNORED,
                f"no release holds commit {sha} yet: attest the review when the release "
                f"exists (the delivery's payload has digest {delivery.sha256})",
            )
        signature = None
        if delivery.source is HookSource.GITHUB and delivery.signature is not None:
            signature = self._review_signature(delivery)
        recorded: list[int] = []
        notes = []
        for release in held:
            results = self._evidence().attest_uploads(
                "review",
                [Upload(name, delivery.body)],
                release,
                actor=actor,
                review_signature=signature,
            )
            for result in results:
                if result.recorded:
                    recorded.append(result.seq)
                else:
                    notes.append(f"already recorded for {release} as entry {result.seq}")
        if not recorded:
            return Outcome(HookOutcome.IGNORED, "the review " + "; ".join(notes))
        where = ", ".join(str(r) for r in held)
        return Outcome(
            HookOutcome.RECORDED, f"review evidence for {where}", tuple(sorted(recorded))
        )

    def _review_signature(self, delivery: Delivery) -> ReviewSignature:
        from changeproof.services.evidence import ReviewSignature

        settings = self.settings(delivery.source)
        # The secret that signed it: the evidence path checks the signature again with it.
        for secret in settings.secrets:
            try:
                verify_github_signature(delivery.body, delivery.signature, secret)
            except SignatureError:
                continue
            return ReviewSignature(delivery.signature, secret)
        raise SignatureError(
            "X-Hub-Signature-256", "no configured secret signs the delivery", reason="mismatch"
        )

    def _deployment_status(self, delivery: Delivery, actor: str) -> Outcome:
        from changeproof.services.deployments import RecordRequest

        doc = _json(delivery.body)
        status_doc, deployment_doc = doc.get("deployment_status"), doc.get("deployment")
        if not isinstance(status_doc, dict) or not isinstance(deployment_doc, dict):
            raise InputError("a deployment_status payload holds deployment_status and deployment")
        state, sha = status_doc.get("state"), deployment_doc.get("sha")
        environment = status_doc.get("environment") or deployment_doc.get("environment")
        if not (isinstance(state, str) and isinstance(sha, str) and isinstance(environment, str)):
            raise InputError("the deployment status names no state, commit or environment")
        status = _DEPLOYMENT_STATES.get(state)
        if status is None:
            return Outcome(
                HookOutcome.IGNORED,
                f"a deployment state {state[:40]!r} is no status changeproof records",
            )
        with self._db.read() as conn:
            matching = [
                row
                for row in deployment_queries.list_deployments(
                    conn, environment=environment, since=None
                )
                if _to_sha(conn, row.release) == sha
            ]
        if not matching:
            return Outcome(
                HookOutcome.IGNORED,
                f"no recorded deployment to {environment[:100]} is of a release ending at "
                f"commit {sha[:40]}",
            )
        row = matching[-1]
        if row.status == status.value:
            return Outcome(
                HookOutcome.IGNORED, f"{deployment_id(row.seq)} is already {status.value}"
            )
        request = RecordRequest(
            ReleaseRef.parse(row.release),
            row.environment,
            row.artifact,
            status.value,
            None,
            deployment_id(row.seq),
        )
        view = self._deployments().record(request, by=actor)
        latest = max((u.seq for u in view.updates), default=row.seq)
        return Outcome(
            HookOutcome.RECORDED,
            f"{deployment_id(row.seq)} is now {status.value}",
            (latest,),
        )

    # --- helpers ------------------------------------------------------------------------

    def _standard(self, body: bytes, headers: Mapping[str, str], keys: tuple[bytes, ...]) -> None:
        verify_standard_signature(
            body,
            msg_id=headers.get("webhook-id"),
            timestamp=headers.get("webhook-timestamp"),
            signatures=headers.get("webhook-signature"),
            keys=keys,
            now=self._clock.now().timestamp(),
        )

    def _require_pipeline(self, uow: UnitOfWork, settings: HookSettings) -> None:
        check = self._checks(uow.conn)
        found = checked_directory(uow.conn, check).by_name(settings.actor)
        check.confirm()
        if found is None or found.kind is not ActorKind.PIPELINE:
            what = "no registered actor" if found is None else "a person, not a pipeline identity"
            raise HookNotConfiguredError(
                f"[hooks.{settings.source}] actor {settings.actor} is {what}: deliveries are "
                "recorded as a pipeline identity",
                hint="register it as a pipeline identity "
                f"({operation('actor add', pipeline=None)})",
            )

    def _keep(self, delivery: Delivery) -> None:
        """The raw body in the spool until the delivery is processed (written atomically)."""
        target = self._spooled(delivery.sha256)
        try:
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if delivery.signature is not None:  # an HMAC of the body, no secret
                signature = target.with_name(target.name + _SIGNATURE)
                signature.write_text(delivery.signature, encoding="ascii", errors="replace")
            partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
            partial.write_bytes(delivery.body)
            os.replace(partial, target)
        except OSError as e:
            raise UnavailableError(f"cannot keep the delivery in the spool: {e.strerror}") from e

    def _spooled(self, sha256: str) -> Path:
        return self._spool / sha256


def _any_secret(secrets: tuple[bytes, ...], check: Callable[[bytes], None]) -> None:
    """Passes when `check` passes for one secret; else the first failure that says most."""
    failures: list[SignatureError] = []
    for secret in secrets:
        try:
            check(secret)
        except SignatureError as e:
            failures.append(e)
            continue
        return
    if not failures:
        raise SignatureError(
            "secret", "no secret to check the delivery with", reason="unconfigured"
        )
    raise failures[0]


def _delivery_id(value: str | None, header: str) -> str:
    if value is None or not _DELIVERY_ID.fullmatch(value.strip()):
        raise UsageError(
            f"the delivery has no usable {header} header (1 to 255 printable characters): it "
            "cannot be told apart from a redelivery"
        )
    return value.strip()


def _event(value: str | None) -> str:
    text = (value or "").strip()
    return text if _EVENT.fullmatch(text) else "unreadable"


def _json(body: bytes) -> dict[str, object]:
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ReadError("the payload", f"not JSON ({e})") from e
    if not isinstance(doc, dict):
        raise ReadError("the payload", "not a JSON object")
    return doc


def _standard_type(body: bytes) -> str | None:
    """A Standard Webhooks payload's `type`, when it is the JSON object the spec suggests."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    kind = doc.get("type") if isinstance(doc, dict) else None
    return kind if isinstance(kind, str) else None


def _to_sha(conn: Connection, release: str) -> str | None:
    found = release_queries.find_release(conn, ReleaseRef.parse(release))
    return None if found is None else found.to_sha
