"""Which webhook sources an instance accepts, the secrets that authenticate them, and the
pipeline identity their deliveries are recorded as: `[hooks.<source>]` in config.toml.

    [hooks.github]
    actor = "github"                      # a registered pipeline identity (actor add --pipeline)
    secret_file = "secrets/github-hook"   # the webhook's secret, relative to HOME

    [hooks.gitlab]
    actor = "gitlab"
    secret_file = "secrets/gitlab-token"          # the webhook's secret token (X-Gitlab-Token)
    signing_secret_file = "secrets/gitlab-whsec"  # its signing token (whsec_…), when set

    [hooks.standard]
    actor = "deployer"
    secret_file = "secrets/standard-whsec"        # whsec_… secrets, one a line

A secret file holds one secret a line (blank lines skipped); several lines are several
secrets accepted at once, which is how a secret is rotated without losing deliveries. The
environment variable CHANGEPROOF_HOOKS_<SOURCE>_SECRET (and, for GitLab,
CHANGEPROOF_HOOKS_GITLAB_SIGNING_SECRET) overrides the file: one secret, or for Standard
Webhooks keys several separated by spaces. A source without its table is not configured:
its endpoint refuses every delivery. Secrets are never part of a message or a repr.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from changeproof.domain.errors import ConfigError
from changeproof.domain.hooks import HookSource
from changeproof.ingest.webhooks import standard_secret

__all__ = ["HookConfig", "HookSettings", "load_hook_config", "secret_variable"]

_KEYS: Final = {
    HookSource.GITHUB: frozenset({"actor", "secret_file"}),
    HookSource.GITLAB: frozenset({"actor", "secret_file", "signing_secret_file"}),
    HookSource.STANDARD: frozenset({"actor", "secret_file"}),
}
_MAX_SECRET_FILE: Final = 64 * 1024


def secret_variable(source: HookSource, *, signing: bool = False) -> str:
    """The environment variable that overrides a source's secret file."""
    return f"CHANGEPROOF_HOOKS_{source.value.upper()}_{'SIGNING_' if signing else ''}SECRET"


@dataclass(frozen=True, slots=True)
class HookSettings:
    source: HookSource
    actor: str
    # GitHub: HMAC secrets; GitLab: secret tokens; Standard Webhooks: the keys of whsec_ secrets.
    secrets: tuple[bytes, ...] = field(repr=False, default=())
    # GitLab's Standard Webhooks signing keys (its "signing token"), when it has one.
    signing_keys: tuple[bytes, ...] = field(repr=False, default=())


@dataclass(frozen=True, slots=True)
class HookConfig:
    sources: Mapping[HookSource, HookSettings] = field(default_factory=dict)

    def of(self, source: HookSource) -> HookSettings | None:
        return self.sources.get(source)


def load_hook_config(home: Path, environ: Mapping[str, str] | None = None) -> HookConfig:
    """The `[hooks.*]` tables of HOME/config.toml; ConfigError naming the key, never a secret."""
    env = os.environ if environ is None else environ
    path = home / "config.toml"
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: {e}") from e
    hooks = doc.get("hooks", {})
    if not isinstance(hooks, dict):
        raise ConfigError(f"{path}: [hooks] must be a table")
    known = {s.value for s in HookSource}
    unknown = sorted(set(hooks) - known)
    if unknown:
        raise ConfigError(
            f"{path}: [hooks.{unknown[0]}] is no webhook source (they are "
            f"{', '.join(sorted(known))})"
        )
    sources = {}
    for source in HookSource:
        table = hooks.get(source.value)
        if table is None:
            if env.get(secret_variable(source)):
                raise ConfigError(
                    f"{secret_variable(source)} is set but {path} has no [hooks.{source}] "
                    "table naming the actor its deliveries are recorded as"
                )
            continue
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [hooks.{source}] must be a table")
        sources[source] = _settings(source, table, path, home, env)
    return HookConfig(sources)


def _settings(
    source: HookSource, table: dict[str, object], path: Path, home: Path, env: Mapping[str, str]
) -> HookSettings:
    where = f"{path}: [hooks.{source}]"
    unknown = sorted(set(table) - _KEYS[source])
    if unknown:
        raise ConfigError(f"{where} has no setting {unknown[0]!r}")
    actor = table.get("actor")
    if not isinstance(actor, str) or not actor.strip():
        raise ConfigError(
            f"{where} actor must name the pipeline identity its deliveries are recorded as"
        )
    secrets = _secrets(source, table, "secret_file", secret_variable(source), where, home, env)
    signing: tuple[bytes, ...] = ()
    if source is HookSource.GITLAB:
        variable = secret_variable(source, signing=True)
        signing = _secrets(source, table, "signing_secret_file", variable, where, home, env)
        signing = tuple(_key(k, where, "signing_secret_file") for k in signing)
    if source is HookSource.STANDARD:
        secrets = tuple(_key(k, where, "secret_file") for k in secrets)
    if not secrets and not signing:
        raise ConfigError(
            f"{where} needs secret_file (or {secret_variable(source)}): a webhook without a "
            "secret would take anyone's deliveries"
        )
    return HookSettings(source, actor.strip(), secrets, signing)


def _secrets(
    source: HookSource,
    table: dict[str, object],
    key: str,
    variable: str,
    where: str,
    home: Path,
    env: Mapping[str, str],
) -> tuple[bytes, ...]:
    given = env.get(variable, "")
    if given.strip():
        values = given.split() if source is HookSource.STANDARD else [given.strip()]
        return tuple(v.encode("utf-8") for v in values)
    name = table.get(key)
    if name is None:
        return ()
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where} {key} must be a file name")
    file = Path(name) if Path(name).is_absolute() else home / name
    try:
        with file.open("rb") as handle:
            data = handle.read(_MAX_SECRET_FILE + 1)
    except OSError as e:
        raise ConfigError(f"{where} {key}: cannot read {file}: {e.strerror}") from e
    if len(data) > _MAX_SECRET_FILE:
        raise ConfigError(f"{where} {key}: {file} is too large to be a secret file")
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise ConfigError(f"{where} {key}: {file} is not UTF-8 text") from e
    found = tuple(line.strip().encode("utf-8") for line in lines if line.strip())
    if not found:
        raise ConfigError(f"{where} {key}: {file} holds no secret")
    return found


def _key(secret: bytes, where: str, key: str) -> bytes:
    try:
        return standard_secret(secret.decode("utf-8"))
    except ValueError as e:
        raise ConfigError(f"{where} {key}: not a Standard Webhooks secret ({e})") from None
