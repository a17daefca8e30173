"""Making an instance (`initialize`): its files, its schema, its first entry and first admin,
all or nothing; or migrating an existing one."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect

from changeproof.domain.actors import Role
from changeproof.domain.clock import Clock
from changeproof.domain.errors import ConfigError, Field, operation
from changeproof.domain.events import Event
from changeproof.domain.instance import InstanceInitialized
from changeproof.services.actors import ActorService, check_first_actor
from changeproof.services.instance import (
    CONFIG_FILE,
    DEFAULT_DATABASE,
    KEY_FILE,
    PUBLIC_KEY_FILE,
    InstanceConfig,
    PasswordSource,
    create_instance_files,
    load_config,
    load_signer,
    with_password,
)
from changeproof.store import migrate
from changeproof.store.database import Database, normalize_url
from changeproof.store.unit_of_work import UnitOfWork

__all__ = ["FirstAdmin", "Initialized", "initialize"]


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    """The actor `init` makes an admin, so the instance leaves setup with someone in charge."""

    name: str
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Initialized:
    config: InstanceConfig
    database: str
    verifier_key: str
    created: bool
    admin: str | None = None  # the first admin's name, when init made one


def initialize(
    home: Path,
    *,
    database_url: str | None,
    origin: str | None,
    actor: str,
    clock: Clock,
    upgrade: bool = False,
    admin: FirstAdmin | None = None,
    password_from: PasswordSource | None = None,
) -> Initialized:
    """Make an instance (or, with `upgrade`, migrate an existing one). All or nothing.

    With `admin`, the instance's first actor is added with role admin through the actor
    service, as `actor`; it is checked before anything is made, so a refusal leaves nothing.
    """
    emails = () if admin is None or admin.email is None else (admin.email,)
    if admin is not None:
        if upgrade:
            raise ConfigError("an existing instance's admins are managed with `actor grant`")
        check_first_actor(admin.name, emails=emails, roles=(Role.ADMIN,), by=actor)
    if upgrade:
        if password_from is not None:
            raise ConfigError(
                "an existing instance reads its database password as its config.toml says"
            )
        config = load_config(home)
        # (`database_url` is the new instance's URL argument here, not the function)
        existing = Database(
            with_password(normalize_url(config.database_url, base=home), config.password_from)
        )
        try:
            migrate.upgrade(existing)
        finally:
            existing.dispose()
        signer = load_signer(config)
        return Initialized(config, existing.display_url(), signer.verifier.vkey(), created=False)

    url = with_password(normalize_url(database_url or DEFAULT_DATABASE, base=home), password_from)
    if (home / CONFIG_FILE).exists() or (home / KEY_FILE).exists():
        raise ConfigError(
            f"an instance already exists at {home}; refusing to overwrite its signing key",
            hint=f"choose another {Field('home')}, or use {operation('init', upgrade=None)} "
            f"to migrate it",
        )
    sqlite_file = (
        Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None
    )
    if sqlite_file is not None and sqlite_file.exists():
        raise ConfigError(f"{sqlite_file} already exists; refusing to reuse another ledger's file")
    made_home = not home.exists()
    created: list[Path] = []
    db: Database | None = None
    try:
        home.mkdir(parents=True, exist_ok=True)
        if made_home:
            # It will hold the signing key, the config (perhaps a database password) and
            # the SQLite file: only its owner may list or enter it, whatever the umask.
            home.chmod(0o700)
        db = Database(url)
        _require_empty(db)
        config = create_instance_files(home, database_url, origin, password_from)
        created = [home / CONFIG_FILE, home / KEY_FILE, home / PUBLIC_KEY_FILE]
        migrate.upgrade(db)
        signer = load_signer(config)
        with UnitOfWork(db, signer, clock) as uow:
            initialized = InstanceInitialized(config.origin, signer.verifier.vkey())
            uow.record(Event.of(initialized, actor, clock.now()))
        if admin is not None:
            opened = db

            def unit_of_work() -> UnitOfWork:
                return UnitOfWork(opened, signer, clock)

            ActorService(db, unit_of_work, clock).add(
                admin.name, emails=emails, roles=(Role.ADMIN,), by=actor
            )
        return Initialized(
            config,
            db.display_url(),
            signer.verifier.vkey(),
            created=True,
            admin=None if admin is None else admin.name,
        )
    except BaseException:
        _undo(created, sqlite_file, home if made_home else None)
        raise
    finally:
        if db is not None:
            db.dispose()


def _require_empty(db: Database) -> None:
    with db.read() as conn:
        if inspect(conn).has_table("ledger_events"):
            raise ConfigError(
                f"the database {db.display_url()} already holds a changeproof ledger",
                hint="give each instance its own database (or schema)",
            )


def _undo(created: list[Path], sqlite_file: Path | None, home: Path | None) -> None:
    for path in created:
        path.unlink(missing_ok=True)
    if sqlite_file is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{sqlite_file}{suffix}").unlink(missing_ok=True)
    if home is not None:
        with contextlib.suppress(OSError):
            home.rmdir()
