"""Where and how to reach a ticketing system: the [servicenow] and [jira] tables of
config.toml, checked when read, with the token taken from the environment variable they name."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

import httpx

from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import ConfigError, InputError
from changeproof.reports import jira, servicenow
from changeproof.reports.ticket_content import check_source

__all__ = [
    "JiraDeployment",
    "RemoteTicket",
    "TicketingConfig",
    "TicketingSystem",
    "load_ticketing_config",
]

_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})
_TOKEN_CHARACTERS: Final = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces


class TicketingSystem(StrEnum):
    SERVICENOW = "servicenow"
    JIRA = "jira"

    @property
    def label(self) -> str:
        """The system's name as its vendor writes it, for messages."""
        return "ServiceNow" if self is TicketingSystem.SERVICENOW else "Jira"


class JiraDeployment(StrEnum):
    CLOUD = "cloud"  # *.atlassian.net: REST v2 and v3, search at /search/jql
    DATA_CENTER = "data-center"  # Server and Data Center: REST v2, search at /search


@dataclass(frozen=True, slots=True)
class TicketingConfig:
    """Where and how to reach one ticketing system; checked when made (ConfigError).

    Authentication: with `user`, HTTP Basic user:token (ServiceNow user and password, Jira
    Cloud account email and API token); without, `Authorization: Bearer token` (a ServiceNow
    OAuth access token, a Jira Data Center personal access token).
    """

    system: TicketingSystem
    base_url: str  # https://example.service-now.com, https://example.atlassian.net
    token: str = field(repr=False)
    user: str | None = None
    token_env: str | None = None  # where the token came from, named in hints
    project: str | None = None  # Jira project key; required for Jira
    issue_type: str = "Task"  # Jira
    api_version: int = 3  # Jira REST API: 3 (ADF) on Cloud, 2 (wiki markup) anywhere
    deployment: JiraDeployment = JiraDeployment.CLOUD
    source: str = "changeproof"  # this instance in correlation_display and the Jira labels
    fields: Mapping[str, JsonValue] = field(default_factory=dict)  # sent as they are
    timeout_seconds: float = 10.0
    max_attempts: int = 3
    retry_after_cap_seconds: float = 30.0

    def __post_init__(self) -> None:
        name = f"[{self.system.value}]"
        url = httpx.URL(self.base_url) if _parses(self.base_url) else None
        if url is None or url.scheme not in ("https", "http") or not url.host:
            raise ConfigError(f"{name} base_url is not an http(s) URL")
        if url.scheme == "http" and url.host not in _LOOPBACK:
            raise ConfigError(
                f"{name} base_url must use https: the token would cross the network in clear",
                hint="http is accepted for 127.0.0.1 and localhost only",
            )
        if url.userinfo or url.query or url.fragment:
            raise ConfigError(
                f"{name} base_url must hold no user, password, query or fragment",
                hint="set `user` and `token_env` instead",
            )
        object.__setattr__(self, "base_url", str(url).rstrip("/"))
        if not self.token or _TOKEN_CHARACTERS.fullmatch(self.token) is None:
            raise ConfigError(
                f"{name} token is empty or holds spaces or control characters",
                hint=f"check the environment variable {self.token_env or 'holding the token'}",
            )
        if self.user is not None and (not self.user or ":" in self.user):
            raise ConfigError(f"{name} user must be non-empty and hold no ':'")
        try:
            check_source(self.source)
        except InputError as e:
            raise ConfigError(f"{name} {e.template}", hint=e.hint_template) from None
        if not 0 < self.timeout_seconds <= 300:
            raise ConfigError(f"{name} timeout_seconds must be more than 0 and at most 300")
        if not 1 <= self.max_attempts <= 10:
            raise ConfigError(f"{name} max_attempts must be 1 to 10")
        if not 0 <= self.retry_after_cap_seconds <= 600:
            raise ConfigError(f"{name} retry_after_cap_seconds must be 0 to 600")
        if self.system is TicketingSystem.JIRA:
            self._check_jira(name)
        else:
            self._check_servicenow(name)

    def _check_jira(self, name: str) -> None:
        if self.project is None:
            raise ConfigError(f"{name} project is missing", hint="the project key, such as PAY")
        try:
            jira.check_project_key(self.project)
        except InputError as e:
            raise ConfigError(f"{name} {e.template}", hint=e.hint_template) from None
        if not self.issue_type.strip():
            raise ConfigError(f"{name} issue_type is empty")
        if self.api_version not in (2, 3):
            raise ConfigError(f"{name} api_version must be 2 or 3")
        if self.deployment is JiraDeployment.DATA_CENTER and self.api_version != 2:
            raise ConfigError(f"{name} Jira Data Center and Server have REST API 2 only")
        taken = set(self.fields) & {"project", "issuetype", "summary", "description", "labels"}
        if taken:
            raise ConfigError(f"{name} fields may not set {', '.join(sorted(taken))}")

    def _check_servicenow(self, name: str) -> None:
        taken = set(self.fields) & set(servicenow.MAPPED_FIELDS)
        if taken:
            raise ConfigError(
                f"{name} fields may not set {', '.join(sorted(taken))}: the mapping sets them"
            )
        if any(not isinstance(value, str) for value in self.fields.values()):
            raise ConfigError(f"{name} fields values must be strings (ServiceNow's field values)")


def _parses(text: str) -> bool:
    try:
        httpx.URL(text)
    except (httpx.InvalidURL, TypeError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class RemoteTicket:
    """The record an export made: what to remember (in the ledger) to update it next time."""

    system: TicketingSystem
    remote_id: str  # ServiceNow sys_id, Jira issue id: what updates address
    key: str  # ServiceNow number (CHG0030001), Jira issue key (PAY-12): what people quote
    url: str  # where a person reads it


_COMMON_KEYS: Final = frozenset(
    {
        "base_url",
        "user",
        "token_env",
        "source",
        "fields",
        "timeout_seconds",
        "max_attempts",
        "retry_after_cap_seconds",
    }
)
_JIRA_KEYS: Final = frozenset({"project", "issue_type", "api_version", "deployment"})


def load_ticketing_config(
    system: str,
    table: Mapping[str, object],
    environ: Mapping[str, str],
    *,
    where: str = "config.toml",
) -> TicketingConfig:
    """The [servicenow] or [jira] table of config.toml, with the token read from the
    environment variable `token_env` names; ConfigError says which key is wrong."""
    try:
        kind = TicketingSystem(system)
    except ValueError:
        raise ConfigError(
            f"no ticketing system {system!r}; there are servicenow and jira"
        ) from None
    name = f"{where}: [{kind.value}]"
    allowed = _COMMON_KEYS | (_JIRA_KEYS if kind is TicketingSystem.JIRA else frozenset())
    if "token" in table or "password" in table:
        raise ConfigError(
            f"{name} holds a token; config files get copied and committed",
            hint='put the token in an environment variable and name it: token_env = "JIRA_TOKEN"',
        )
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"{name} has unknown keys: {', '.join(unknown)}")

    def text(key: str, default: str | None = None) -> str | None:
        value = table.get(key, default)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{name} {key} must be a string")
        return value

    def number(key: str, default: float) -> float:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{name} {key} must be a number")
        return float(value)

    base_url = text("base_url")
    token_env = text("token_env")
    if base_url is None:
        raise ConfigError(f"{name} base_url is missing")
    if token_env is None:
        raise ConfigError(
            f"{name} token_env is missing",
            hint=f'name the variable holding the token: token_env = "{kind.upper()}_TOKEN"',
        )
    token = environ.get(token_env)
    if not token:
        raise ConfigError(
            f"the environment variable {token_env} ({name} token_env) is not set or empty"
        )
    fields = table.get("fields", {})
    if not isinstance(fields, Mapping):
        raise ConfigError(f"{name} fields must be a table")
    attempts = number("max_attempts", 3)
    if attempts != int(attempts):
        raise ConfigError(f"{name} max_attempts must be a whole number")
    deployment_text = text("deployment", JiraDeployment.CLOUD.value)
    try:
        deployment = JiraDeployment(deployment_text or "")
    except ValueError:
        raise ConfigError(f"{name} deployment must be cloud or data-center") from None
    default_version = 2 if deployment is JiraDeployment.DATA_CENTER else 3
    version = table.get("api_version", default_version)
    if version not in (2, 3) or isinstance(version, bool):
        raise ConfigError(f"{name} api_version must be 2 or 3")
    return TicketingConfig(
        system=kind,
        base_url=base_url,
        token=token,
        user=text("user"),
        token_env=token_env,
        project=text("project"),
        issue_type=text("issue_type", "Task") or "",
        api_version=2 if version == 2 else 3,
        deployment=deployment,
        source=text("source", "changeproof") or "",
        fields={str(k): _json_value(v, f"{name} fields.{k}") for k, v in fields.items()},
        timeout_seconds=number("timeout_seconds", 10.0),
        max_attempts=int(attempts),
        retry_after_cap_seconds=number("retry_after_cap_seconds", 30.0),
    )


def _json_value(value: object, where: str) -> JsonValue:
    """A TOML value as JSON: TOML's dates and floats have no place in a ticket's fields."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, list):
        return [_json_value(v, where) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v, f"{where}.{k}") for k, v in value.items()}
    raise ConfigError(f"{where} must be a string, integer, boolean, array or table")
