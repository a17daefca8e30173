"""Instances: a home folder with a config file, a signing key and a database.

HOME/config.toml         origin, database URL, key file (paths relative to HOME)
HOME/signing-key.pem     Ed25519 private key, PKCS#8, mode 0600
HOME/public-key.pem      its public half, for auditors and witnesses
HOME/changeproof.db      the SQLite database, unless the config names PostgreSQL

A PostgreSQL password need not sit in config.toml: `database_password_env` names an
environment variable holding it, or `database_password_file` a file (its first line), and
`database_url` puts it into the URL only in memory. Nothing prints a URL with its password.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import URL

from changeproof.domain.errors import ConfigError, Field, operation
from changeproof.domain.identity import DEFAULT_RULES, IdentityRules, fold
from changeproof.ingest.tickets import PRESETS
from changeproof.ledger import NoteSigner
from changeproof.store.database import normalize_url

__all__ = [
    "CONFIG_FILE",
    "InstanceConfig",
    "PasswordSource",
    "create_instance_files",
    "database_url",
    "load_config",
    "load_signer",
    "resolve_home",
    "with_password",
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
    # [changes] rfc_base_url: where people read a change (CHG-<n> is appended), for the
    # link an exported ticket gives back to the whole RFC
    rfc_base_url: str | None = None
    # [instance] database_password_env / database_password_file: where the PostgreSQL
    # password is, when database_url does not hold it (at most one of the two)
    password_from: PasswordSource | None = None
    # [identity] plus_addressing_off: domains where `local+tag` is not `local`
    identity: IdentityRules = DEFAULT_RULES
    # [repositories] NAME = "PATH": the git repositories a server reads releases from, by
    # name (a client names one; it never gives a path on the server's disk)
    repositories: Mapping[str, Path] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PasswordSource:
    """Where a database password is read from: an environment variable or a file."""

    variable: str | None = None
    file: Path | None = None

    def describe(self) -> str:
        return f"${self.variable}" if self.variable is not None else f"file {self.file}"


def database_url(config: InstanceConfig, environ: Mapping[str, str] | None = None) -> URL:
    """The instance's database URL, with its password when the config says where it is."""
    return with_password(
        normalize_url(config.database_url, base=config.home), config.password_from, environ
    )


def with_password(
    url: URL, source: PasswordSource | None, environ: Mapping[str, str] | None = None
) -> URL:
    """`url` with the password `source` holds; ConfigError, never quoting a password, when
    it cannot be read or the URL already has one."""
    if source is None:
        return url
    if url.get_backend_name() != "postgresql":
        raise ConfigError("a database password is only read for a PostgreSQL database_url")
    if url.password is not None:
        raise ConfigError(
            f"database_url holds a password and the password is also read from "
            f"{source.describe()}; give it one way",
            hint="remove the password from database_url",
        )
    if source.variable is not None:
        password = (os.environ if environ is None else environ).get(source.variable, "")
        if not password:
            raise ConfigError(
                f"the database password variable {source.variable} is not set or empty"
            )
    else:
        assert source.file is not None
        try:
            text = source.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
            raise ConfigError(f"cannot read the database password file {source.file}: {why}") from e
        lines = text.splitlines()
        password = lines[0] if lines else ""
        if not password:
            raise ConfigError(f"the database password file {source.file} is empty")
    return url.set(password=password)


def resolve_home(explicit: Path | None, environ: dict[str, str], cwd: Path) -> Path:
    """--home, then $CHANGEPROOF_HOME, then ./.changeproof."""
    if explicit is not None:
        return explicit
    if environ.get("CHANGEPROOF_HOME"):
        return Path(environ["CHANGEPROOF_HOME"])
    return cwd / DEFAULT_HOME


REPOSITORY_NAME: Final = re.compile(r"[A-Za-z0-9._-]{1,100}")


def load_config(home: Path) -> InstanceConfig:
    path = home / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(
            f"no changeproof instance at {home} ({CONFIG_FILE} not found)",
            hint=f"run {operation('init')}, or point {Field('home')} / CHANGEPROOF_HOME at "
            f"an instance",
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
    password_from = _password_source(section, path, home)
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
    rfc_base_url = _optional(doc, path, "changes", "rfc_base_url", str, "") or None
    if rfc_base_url is not None and not rfc_base_url.startswith(("https://", "http://")):
        raise ConfigError(f"{path}: [changes] rfc_base_url must be an http(s) URL")
    ticketing: dict[str, Mapping[str, object]] = {}
    for system in ("servicenow", "jira"):
        table = doc.get(system)
        if table is not None and not isinstance(table, dict):
            raise ConfigError(f"{path}: [{system}] must be a table")
        if table is not None:
            ticketing[system] = table
    return InstanceConfig(
        repositories=_repositories(doc, path, home),
        identity=_identity(doc, path),
        home=home,
        origin=values["origin"],
        database_url=values["database_url"],
        signing_key=key_path if key_path.is_absolute() else home / key_path,
        tickets=tickets,
        max_evidence_bytes=max_bytes,
        ticket_links=links,
        ticketing=ticketing,
        rfc_base_url=rfc_base_url,
        password_from=password_from,
    )


def _password_source(section: dict[str, object], path: Path, home: Path) -> PasswordSource | None:
    variable = section.get("database_password_env")
    file = section.get("database_password_file")
    for key, value in (("database_password_env", variable), ("database_password_file", file)):
        if value is not None and (not isinstance(value, str) or not value):
            raise ConfigError(f"{path}: [instance] {key} must be a non-empty string")
    if variable is not None and file is not None:
        raise ConfigError(
            f"{path}: [instance] database_password_env and database_password_file: give one"
        )
    if isinstance(variable, str):
        return PasswordSource(variable=variable)
    if isinstance(file, str):
        where = Path(file)
        return PasswordSource(file=where if where.is_absolute() else home / where)
    return None


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


def _repositories(doc: dict[str, object], path: Path, home: Path) -> dict[str, Path]:
    table = doc.get("repositories", {})
    if not isinstance(table, dict):
        raise ConfigError(f'{path}: [repositories] must be a table of NAME = "PATH"')
    found: dict[str, Path] = {}
    for name, where in table.items():
        if not REPOSITORY_NAME.fullmatch(name) or not isinstance(where, str) or not where:
            raise ConfigError(
                f'{path}: [repositories] {name!r}: expected NAME = "PATH", NAME being '
                "1-100 letters, digits, '.', '_' or '-'"
            )
        found[name] = Path(where) if Path(where).is_absolute() else home / where
    return found


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
    home: Path,
    database_url: str | None,
    origin: str | None,
    password_from: PasswordSource | None = None,
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
        config_text = (
            "# changeproof instance configuration\n"
            "[instance]\n"
            f"origin = {_toml_string(origin)}\n"
            f"database_url = {_toml_string(url)}\n"
            f"signing_key = {_toml_string(KEY_FILE)}\n"
        )
        if password_from is not None and password_from.variable is not None:
            config_text += f"database_password_env = {_toml_string(password_from.variable)}\n"
        if password_from is not None and password_from.file is not None:
            config_text += f"database_password_file = {_toml_string(str(password_from.file))}\n"
        # 0600 whatever the umask: the config may name a database password or a token.
        fd = os.open(home / CONFIG_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(config_text)
    except FileExistsError as e:
        existing = e.filename or key_path
        raise ConfigError(f"{existing} already exists; refusing to overwrite it") from e
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
