"""The composition root: the one place that builds services and hands them their collaborators."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from changeproof.domain.clock import Clock
from changeproof.services.actors import ActorService
from changeproof.services.attest import AttestService
from changeproof.services.audit import LedgerAudit
from changeproof.services.change_exports import ChangeExportService
from changeproof.services.changes import ChangeService
from changeproof.services.decisions import DecisionService
from changeproof.services.deployments import DeploymentService
from changeproof.services.evidence import EvidenceService
from changeproof.services.gate import GateService
from changeproof.services.instance import (
    InstanceConfig,
    database_url,
    load_config,
    load_signer,
)
from changeproof.services.ledger import LedgerService
from changeproof.services.policies import PolicyService
from changeproof.services.policy_tests import PolicyTestService
from changeproof.services.releases import ReleaseService
from changeproof.services.tokens import TokenService
from changeproof.store import migrate
from changeproof.store.database import Database
from changeproof.store.entry_check import entry_checks
from changeproof.store.unit_of_work import UnitOfWork

__all__ = ["Instance", "SystemClock", "open_instance", "policy_tests"]


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Instance:
    """An opened instance: its services share one database and one signer."""

    config: InstanceConfig
    db: Database
    ledger: LedgerService
    audit: LedgerAudit
    attest: AttestService
    releases: ReleaseService
    evidence: EvidenceService
    actors: ActorService
    tokens: TokenService
    gate: GateService
    decisions: DecisionService
    policies: PolicyService
    changes: ChangeService
    change_exports: ChangeExportService
    deployments: DeploymentService
    clock: Clock = field(default_factory=SystemClock)

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Instance:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_instance(home: Path, clock: Clock | None = None) -> Instance:
    config = load_config(home)
    signer = load_signer(config)
    clock = clock or SystemClock()
    db = Database(database_url(config), identity=config.identity)
    try:
        with db.read() as conn:
            migrate.require_current(conn)
    except BaseException:
        db.dispose()
        raise

    def unit_of_work(*, optimistic: bool = False) -> UnitOfWork:
        return UnitOfWork(db, signer, clock, optimistic=optimistic)

    checks = entry_checks(signer.verifier, config.origin)
    ledger = LedgerService(db, signer, clock)
    changes = ChangeService(db, unit_of_work, clock, config.ticket_links, checks)
    return Instance(
        config=config,
        db=db,
        ledger=ledger,
        audit=LedgerAudit(db, ledger),
        attest=AttestService(unit_of_work, clock),
        releases=ReleaseService(db, unit_of_work, clock, config.tickets),
        evidence=EvidenceService(db, unit_of_work, clock, config.max_evidence_bytes),
        actors=ActorService(db, unit_of_work, clock),
        tokens=TokenService(db, unit_of_work, clock, checks),
        gate=GateService(db, unit_of_work, clock, checks, signer),
        decisions=DecisionService(db),
        policies=PolicyService(db, unit_of_work, clock, checks),
        changes=changes,
        change_exports=ChangeExportService(
            changes,
            unit_of_work,
            clock,
            config.ticketing,
            home / "config.toml",
            config.rfc_base_url,
        ),
        deployments=DeploymentService(db, unit_of_work, clock, checks),
        clock=clock,
    )


def policy_tests(clock: Clock | None = None) -> PolicyTestService:
    """Policy test cases need no instance: only a clock (for cases that give no `now`)."""
    return PolicyTestService(clock or SystemClock())
