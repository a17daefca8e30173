"""Instances: a home folder with a config file, a signing key and a database.

HOME/config.toml         origin, database URL, key file (paths relative to HOME)
HOME/signing-key.pem     Ed25519 private key, PKCS#8, mode 0600
HOME/public-key.pem      its public half, for auditors and witnesses
HOME/changeproof.db      the SQLite database, unless the config names PostgreSQL
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import inspect

from changeproof.domain.clock import Clock
from changeproof.domain.errors import ConfigError
from changeproof.domain.events import ActorId, Event
from changeproof.domain.identity import DEFAULT_RULES, IdentityRules, fold
from changeproof.domain.instance import INSTANCE_INITIALIZED
from changeproof.ingest.tickets import PRESETS
from changeproof.ledger import NoteSigner
from changeproof.store import migrate
from changeproof.store.database import Database, normalize_url
from changeproof.store.unit_of_work import UnitOfWork

__all__ = [
    "CONFIG_FILE",
    "Initialized",
    "InstanceConfig",
    "create_instance_files",
    "initialize",
    "load_config",
    "load_signer",
    "resolve_home",
]

CONFIG_FILE: Final = "config.toml"
KEY_FILE: Final = "signing-key.pem"
PUBLIC_KEY_FILE: Final = "public-key.pem"
DEFAULT_DATABASE: Final = "sqlite:///changeproof.db"
DEFAULT_HOME: Final = ".changeproof"


DEFAULT_TICKETS: Final = "jira,github"
DEFAULT_MAX_EVIDENCE_BYTES: Final = 50 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class InstanceConfig:
    home: Path
    origin: str
    database_url: str
    signing_key: Path
    tickets: str = DEFAULT_TICKETS  # [tickets] spec: presets and Jira keys, e.g. "jira:PAY,github"
    max_evidence_bytes: int = DEFAULT_MAX_EVIDENCE_BYTES  # [evidence] max_file_bytes
    # [tickets] jira_url, github_url, trac_url: link templates with {key} or {number}
    ticket_links: Mapping[str, str] = field(default_factory=dict)
    # [servicenow] and [jira] as written: services.ticketing checks them when they are used
    ticketing: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    # [identity] plus_addressing_off: domains where `local+tag` is not `local`
    identity: IdentityRules = DEFAULT_RULES


def resolve_home(explicit: Path | None, environ: dict[str, str], cwd: Path) -> Path:
    """--home, then $CHANGEPROOF_HOME, then ./.changeproof."""
    if explicit is not None:
        return explicit
    if environ.get("CHANGEPROOF_HOME"):
        return Path(environ["CHANGEPROOF_HOME"])
    return cwd / DEFAULT_HOME


def load_config(home: Path) -> InstanceConfig:
    path = home / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(
            f"no changeproof instance at {home} ({CONFIG_FILE} not found)",
            hint="run `changeproof init`, or point --home / CHANGEPROOF_HOME at an instance",
        )
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: {e}") from e
    section = doc.get("instance")
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: missing [instance] table")
    values: dict[str, str] = {}
    for key in ("origin", "database_url", "signing_key"):
        value = section.get(key)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: [instance] {key} must be a non-empty string")
        values[key] = value
    key_path = Path(values["signing_key"])
    tickets = _optional(doc, path, "tickets", "spec", str, DEFAULT_TICKETS)
    max_bytes = _optional(doc, path, "evidence", "max_file_bytes", int, DEFAULT_MAX_EVIDENCE_BYTES)
    if max_bytes <= 0:
        raise ConfigError(f"{path}: [evidence] max_file_bytes must be positive")
    links: dict[str, str] = {}
    for system in PRESETS:
        template = _optional(doc, path, "tickets", f"{system}_url", str, "")
        if template and not template.startswith(("https://", "http://")):
            raise ConfigError(f"{path}: [tickets] {system}_url must be an http(s) URL template")
        if template:
            links[system] = template
    ticketing: dict[str, Mapping[str, object]] = {}
    for system in ("servicenow", "jira"):
        table = doc.get(system)
        if table is not None and not isinstance(table, dict):
            raise ConfigError(f"{path}: [{system}] must be a table")
        if table is not None:
            ticketing[system] = table
    return InstanceConfig(
        identity=_identity(doc, path),
        home=home,
        origin=values["origin"],
        database_url=values["database_url"],
        signing_key=key_path if key_path.is_absolute() else home / key_path,
        tickets=tickets,
        max_evidence_bytes=max_bytes,
        ticket_links=links,
        ticketing=ticketing,
    )


_T = TypeVar("_T")


def _identity(doc: dict[str, object], path: Path) -> IdentityRules:
    """[identity] plus_addressing_off: a list of email domains (default none: on everywhere)."""
    table = doc.get("identity")
    if table is None:
        return DEFAULT_RULES
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [identity] must be a table")
    unknown = sorted(set(table) - {"plus_addressing_off"})
    if unknown:
        raise ConfigError(f"{path}: [identity] has no setting {unknown[0]!r}")
    domains = table.get("plus_addressing_off", [])
    if not isinstance(domains, list) or not all(
        isinstance(d, str) and d.strip() and "@" not in d for d in domains
    ):
        raise ConfigError(f"{path}: [identity] plus_addressing_off must be a list of email domains")
    return IdentityRules(frozenset(fold(d) for d in domains))


def _optional(
    doc: dict[str, object], path: Path, table: str, key: str, kind: type[_T], default: _T
) -> _T:
    section = doc.get(table, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [{table}] must be a table")
    value = section.get(key, default)
    if not isinstance(value, kind) or isinstance(value, bool) != isinstance(default, bool):
        raise ConfigError(f"{path}: [{table}] {key} must be a {kind.__name__}")
    return value


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def default_origin() -> str:
    return f"changeproof.local/{secrets.token_hex(8)}"


def create_instance_files(
    home: Path, database_url: str | None, origin: str | None
) -> InstanceConfig:
    """Write the config and a new signing key; refuse to touch an existing instance's key."""
    origin = origin or default_origin()
    NoteSigner(origin, Ed25519PrivateKey.generate())  # validates the origin as a key name
    key_path = home / KEY_FILE
    try:
        home.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # O_EXCL: two concurrent inits cannot both believe they created the key.
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        (home / PUBLIC_KEY_FILE).write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        url = database_url or DEFAULT_DATABASE
        (home / CONFIG_FILE).write_text(
            "# changeproof instance configuration\n"
            "[instance]\n"
            f"origin = {_toml_string(origin)}\n"
            f"database_url = {_toml_string(url)}\n"
            f"signing_key = {_toml_string(KEY_FILE)}\n",
            encoding="utf-8",
        )
    except FileExistsError as e:
        raise ConfigError(f"{key_path} already exists; refusing to overwrite it") from e
    except OSError as e:
        raise ConfigError(f"cannot create the instance at {home}: {e.strerror}") from e
    return load_config(home)


def load_signer(config: InstanceConfig) -> NoteSigner:
    path = config.signing_key
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as e:
        raise ConfigError(f"cannot read the signing key {path}: {e.strerror}") from e
    except ValueError as e:
        raise ConfigError(f"{path} is not a PEM private key") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 key")
    return NoteSigner(config.origin, key)


@dataclass(frozen=True, slots=True)
class Initialized:
    config: InstanceConfig
    database: str
    verifier_key: str
    created: bool


def initialize(
    home: Path,
    *,
    database_url: str | None,
    origin: str | None,
    actor: str,
    clock: Clock,
    upgrade: bool = False,
) -> Initialized:
    """Make an instance (or, with `upgrade`, migrate an existing one). All or nothing."""
    if upgrade:
        config = load_config(home)
        existing = Database(normalize_url(config.database_url, base=home))
        try:
            migrate.upgrade(existing)
        finally:
            existing.dispose()
        signer = load_signer(config)
        return Initialized(config, existing.display_url(), signer.verifier.vkey(), created=False)

    url = normalize_url(database_url or DEFAULT_DATABASE, base=home)
    if (home / CONFIG_FILE).exists() or (home / KEY_FILE).exists():
        raise ConfigError(
            f"an instance already exists at {home}; refusing to overwrite its signing key",
            hint="choose another --home, or use `changeproof init --upgrade` to migrate it",
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
        db = Database(url)
        _require_empty(db)
        config = create_instance_files(home, database_url, origin)
        created = [home / CONFIG_FILE, home / KEY_FILE, home / PUBLIC_KEY_FILE]
        migrate.upgrade(db)
        signer = load_signer(config)
        with UnitOfWork(db, signer, clock) as uow:
            uow.record(
                Event(
                    INSTANCE_INITIALIZED,
                    ActorId(actor),
                    clock.now(),
                    {"origin": config.origin, "verifier_key": signer.verifier.vkey()},
                )
            )
        return Initialized(config, db.display_url(), signer.verifier.vkey(), created=True)
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
