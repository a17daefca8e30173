"""The instance's policy: which one is active, changing it, and a proposed one's impact.

`activate` records `policy.activated` with the new and the previous digest (and the
policy itself, so decisions under it replay from the ledger alone); the gate uses the
active policy when it is given no policy file and finds no ./changeproof.yaml.
`simulate` re-evaluates recorded gate decisions under a proposed policy, each with the
facts as of the decision's own ledger position, and reports the verdicts that would change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Final

from changeproof.domain.canonical import JsonValue
from changeproof.domain.clock import Clock
from changeproof.domain.decisions import (
    POLICY_ACTIVATED,
    Classification,
    ControlResult,
    ControlStatus,
)
from changeproof.domain.errors import UsageError
from changeproof.domain.events import ActorId, Event, format_time
from changeproof.policy.evaluation import evaluate
from changeproof.policy.loader import LoadedPolicy, load_policy_file
from changeproof.services.gate import facts_as_of, recorded_request
from changeproof.store import decisions as recorded
from changeproof.store import ledger
from changeproof.store.database import Database
from changeproof.store.unit_of_work import UnitOfWork

__all__ = [
    "DEFAULT_POLICY_FILE",
    "Activated",
    "ChangedControl",
    "ChangedVerdict",
    "PolicyService",
    "PolicyStatus",
    "Simulation",
    "parse_since",
    "policy_file_for",
]

DEFAULT_POLICY_FILE: Final = Path("changeproof.yaml")


def policy_file_for(explicit: Path | None, cwd: Path) -> Path | None:
    """The gate's policy: --policy, else ./changeproof.yaml if there is one, else None
    (the instance's active policy)."""
    if explicit is not None:
        return explicit
    return DEFAULT_POLICY_FILE if (cwd / DEFAULT_POLICY_FILE).is_file() else None


def parse_since(text: str, option: str = "--since") -> datetime:
    """`2026-11-01` (midnight UTC) or an ISO 8601 time (UTC when it names no zone); `option`
    is what the error calls the value (`--until` reads times the same way)."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a date or time; write 2026-11-01 or 2026-11-01T09:00:00Z"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Activated:
    digest: str
    previous_digest: str | None
    source: str
    seq: int | None  # None: the policy was already the active one; nothing was recorded

    @property
    def recorded(self) -> bool:
        return self.seq is not None


@dataclass(frozen=True, slots=True)
class PolicyStatus:
    active: recorded.Activation | None
    activations: int  # how many times the active policy was changed


@dataclass(frozen=True, slots=True)
class ChangedControl:
    id: str
    old: ControlStatus | None  # None: the old policy did not require it
    new: ControlStatus | None  # None: the proposed policy does not require it
    reason: str  # the proposed policy's words (or the old ones when it no longer applies)

    def to_data(self) -> dict[str, JsonValue]:
        return {
            "id": self.id,
            "old": None if self.old is None else str(self.old),
            "new": None if self.new is None else str(self.new),
            "reason": self.reason,
        }


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

    def to_data(self) -> dict[str, JsonValue]:
        return {
            "seq": self.seq,
            "decided_at": self.decided_at,
            "release": self.release,
            "environment": self.environment,
            "policy_digest": self.old_digest,
            "old": {"allowed": self.old_allowed, "classification": str(self.old_classification)},
            "new": {"allowed": self.new_allowed, "classification": str(self.new_classification)},
            "controls": [c.to_data() for c in self.controls],
        }


@dataclass(frozen=True, slots=True)
class Simulation:
    policy: LoadedPolicy
    since: datetime | None
    environment: str | None
    examined: int
    changed: tuple[ChangedVerdict, ...]


class PolicyService:
    def __init__(self, db: Database, unit_of_work: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._db = db
        self._unit_of_work = unit_of_work
        self._clock = clock

    def activate(self, policy_file: Path, *, actor: str) -> Activated:
        """Make the policy in `policy_file` the instance's active one (a ledger event)."""
        loaded = load_policy_file(policy_file)
        with self._unit_of_work() as uow:
            ledger.read_head(uow.conn, lock=True)  # one activation at a time: `previous` holds
            current = recorded.active_policy(uow.conn)
            previous = None if current is None else current.digest
            if previous == loaded.digest:
                return Activated(loaded.digest, previous, loaded.source, None)
            uow.record(
                Event(
                    POLICY_ACTIVATED,
                    ActorId(actor),
                    self._clock.now(),
                    {
                        "digest": loaded.digest,
                        "previous_digest": previous,
                        "policy": loaded.policy.model_dump(mode="json"),
                        "source": loaded.source,
                    },
                )
            )
        return Activated(loaded.digest, previous, loaded.source, uow.recorded[-1].seq)

    def status(self) -> PolicyStatus:
        with self._db.read() as conn:
            return PolicyStatus(recorded.active_policy(conn), recorded.count_activations(conn))

    def simulate(
        self, policy_file: Path, *, since: datetime | None = None, environment: str | None = None
    ) -> Simulation:
        """Every recorded gate decision (decided at or after `since`, in `environment`)
        re-evaluated under the proposed policy; those whose verdict would change."""
        proposed = load_policy_file(policy_file)
        changed: list[ChangedVerdict] = []
        examined = 0
        with self._db.read() as conn:
            after = None if since is None else format_time(since)
            for entry in recorded.decisions_since(conn, after, environment):
                examined += 1
                document = entry.document
                request, now, declared = recorded_request(document)
                as_of = int(str(document["as_of_seq"]))
                facts = facts_as_of(conn, request, proposed, as_of, now)
                new = evaluate(proposed.policy, proposed.digest, facts, declared=declared)
                old_allowed = document["allowed"] is True
                old_class = Classification(str(document["classification"]))
                if new.allowed == old_allowed and new.classification is old_class:
                    continue
                changed.append(
                    ChangedVerdict(
                        seq=entry.seq,
                        decided_at=entry.decided_at,
                        release=str(request.release),
                        environment=request.environment,
                        old_digest=str(document["policy_digest"]),
                        old_allowed=old_allowed,
                        new_allowed=new.allowed,
                        old_classification=old_class,
                        new_classification=new.classification,
                        controls=_changed_controls(document, new.controls),
                    )
                )
        return Simulation(proposed, since, environment, examined, tuple(changed))


def _changed_controls(
    document: dict[str, JsonValue], new: tuple[ControlResult, ...]
) -> tuple[ChangedControl, ...]:
    """Controls whose status differs, or that only one of the two policies requires."""
    old: dict[str, tuple[ControlStatus, str]] = {}
    controls = document.get("controls")
    for c in controls if isinstance(controls, list) else []:
        if isinstance(c, dict):
            old[str(c["id"])] = (ControlStatus(str(c["status"])), str(c["reason"]))
    result: list[ChangedControl] = []
    for control in new:
        before = old.pop(control.id, None)
        if before is None or before[0] is not control.status:
            was = None if before is None else before[0]
            result.append(ChangedControl(control.id, was, control.status, control.reason))
    result.extend(ChangedControl(name, was, None, why) for name, (was, why) in old.items())
    return tuple(result)
