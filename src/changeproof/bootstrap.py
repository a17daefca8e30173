"""The composition root: the one place that builds services and hands them their collaborators.

An opened instance builds each service the first time it is asked for, and imports its
module only then: a command pays for the services it uses (`ledger status` never loads the
git reader, the CEL engine or Alembic), which is most of a short command's wall time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from changeproof.domain.clock import Clock
from changeproof.ledger import NoteSigner
from changeproof.services.instance import (
    CONFIG_FILE,
    InstanceConfig,
    database_url,
    load_config,
    load_signer,
)
from changeproof.store.database import Database
from changeproof.store.schema_revision import require_current

if TYPE_CHECKING:
    from changeproof.services.actors import ActorService
    from changeproof.services.attest import AttestService
    from changeproof.services.audit import LedgerAudit
    from changeproof.services.change_exports import ChangeExportService
    from changeproof.services.changes import ChangeService
    from changeproof.services.decisions import DecisionService
    from changeproof.services.deployments import DeploymentService
    from changeproof.services.evidence import EvidenceService
    from changeproof.services.gate import GateService
    from changeproof.services.hooks import HookService
    from changeproof.services.idempotency import IdempotencyService
    from changeproof.services.ledger import LedgerService
    from changeproof.services.policies import PolicyService
    from changeproof.services.policy_tests import PolicyTestService
    from changeproof.services.releases import ReleaseService
    from changeproof.services.tokens import TokenService
    from changeproof.store.entry_check import EntryChecks
    from changeproof.store.unit_of_work import UnitOfWork
    from changeproof.store.vault import Vault

__all__ = ["Instance", "SystemClock", "open_instance", "policy_tests"]


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Instance:
    """An opened instance: its services share one database, one signer and one clock."""

    def __init__(
        self, config: InstanceConfig, db: Database, signer: NoteSigner, clock: Clock
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self._signer = signer

    def unit_of_work(self, *, optimistic: bool = False) -> UnitOfWork:
        # The write path loads every projector: a read-only command never needs it.
        from changeproof.store.unit_of_work import UnitOfWork

        return UnitOfWork(self.db, self._signer, self.clock, optimistic=optimistic)

    @cached_property
    def _checks(self) -> EntryChecks:
        from changeproof.store.entry_check import entry_checks

        return entry_checks(self._signer.verifier, self.config.origin)

    @cached_property
    def ledger(self) -> LedgerService:
        from changeproof.services.ledger import LedgerService

        return LedgerService(self.db, self._signer, self.clock)

    @cached_property
    def audit(self) -> LedgerAudit:
        from changeproof.services.audit import LedgerAudit

        return LedgerAudit(self.db, self.ledger)

    @cached_property
    def attest(self) -> AttestService:
        from changeproof.services.attest import AttestService

        return AttestService(self.unit_of_work, self.clock)

    @cached_property
    def idempotency(self) -> IdempotencyService:
        from changeproof.services.idempotency import IdempotencyService

        return IdempotencyService(self.db)

    @cached_property
    def releases(self) -> ReleaseService:
        from changeproof.services.releases import ReleaseService

        config = self.config
        return ReleaseService(
            self.db, self.unit_of_work, self.clock, config.tickets, config.repositories
        )

    @cached_property
    def evidence(self) -> EvidenceService:
        from changeproof.services.evidence import EvidenceService

        return EvidenceService(
            self.db,
            self.unit_of_work,
            self.clock,
            self.config.evidence_limits,
            self.vault,
            self._checks,
        )

    @cached_property
    def vault(self) -> Vault:
        from changeproof.store.vault import FileVault

        return FileVault(self.config.vault_path or self.config.home / "vault")

    @cached_property
    def actors(self) -> ActorService:
        from changeproof.services.actors import ActorService

        return ActorService(self.db, self.unit_of_work, self.clock)

    @cached_property
    def tokens(self) -> TokenService:
        from changeproof.services.tokens import TokenService

        return TokenService(self.db, self.unit_of_work, self.clock, self._checks)

    @cached_property
    def gate(self) -> GateService:
        from changeproof.services.gate import GateService

        return GateService(self.db, self.unit_of_work, self.clock, self._checks, self._signer)

    @cached_property
    def decisions(self) -> DecisionService:
        from changeproof.services.decisions import DecisionService

        return DecisionService(self.db)

    @cached_property
    def policies(self) -> PolicyService:
        from changeproof.services.policies import PolicyService

        return PolicyService(self.db, self.unit_of_work, self.clock, self._checks)

    @cached_property
    def changes(self) -> ChangeService:
        from changeproof.services.changes import ChangeService

        return ChangeService(
            self.db, self.unit_of_work, self.clock, self.config.ticket_links, self._checks
        )

    @cached_property
    def change_exports(self) -> ChangeExportService:
        from changeproof.services.change_exports import ChangeExportService

        return ChangeExportService(
            self.changes,
            self.unit_of_work,
            self.clock,
            self.config.ticketing,
            self.config.home / CONFIG_FILE,
            self.config.rfc_base_url,
        )

    @cached_property
    def deployments(self) -> DeploymentService:
        from changeproof.services.deployments import DeploymentService

        return DeploymentService(self.db, self.unit_of_work, self.clock, self._checks)

    @cached_property
    def hooks(self) -> HookService:
        from changeproof.services.hook_config import load_hook_config
        from changeproof.services.hooks import HookService

        return HookService(
            self.db,
            self.unit_of_work,
            self.clock,
            self._checks,
            load_hook_config(self.config.home),
            self.config.home / "hooks" / "spool",
            lambda: self.evidence,
            lambda: self.deployments,
        )

    def ready(self) -> None:
        """Raise unless the database answers and its schema is the one this code expects
        (UnavailableError, ConfigError): what a load balancer's readiness probe asks."""
        with self.db.read() as conn:
            require_current(conn)

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Instance:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def open_instance(home: Path, clock: Clock | None = None) -> Instance:
    config = load_config(home)
    signer = load_signer(config)
    db = Database(database_url(config), identity=config.identity)
    try:
        with db.read() as conn:
            require_current(conn)
    except BaseException:
        db.dispose()
        raise
    return Instance(config, db, signer, clock or SystemClock())


def policy_tests(clock: Clock | None = None) -> PolicyTestService:
    """Policy test cases need no instance: only a clock (for cases that give no `now`)."""
    from changeproof.services.policy_tests import PolicyTestService

    return PolicyTestService(clock or SystemClock())
