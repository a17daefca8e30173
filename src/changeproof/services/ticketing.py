"""Export a change request (RFC) to ServiceNow or Jira, once, whatever fails on the way.

    export_change(rfc, config, remote)  -> RemoteTicket
        remote given    update that record (PATCH / PUT); NotFoundError if it is gone
        remote None     search for the record a previous export made (ServiceNow:
                        correlation_display + correlation_id; Jira: the change's label in
                        the project); update it if found, create it if not

Retries. Connect errors, timeouts, a connection closed before the answer, 429 and 5xx are
retried up to `max_attempts` times in all, after 1 s, 2 s, 4 s ... (at most 8 s) or, for
429 and 503, after the Retry-After the remote asks for (at most `retry_after_cap_seconds`).
Other 4xx are not retried. A create is never simply sent again: when its answer did not
arrive, the record may exist, so each new attempt searches first, and updates what it finds.
Jira Cloud's search is eventually consistent (a just-created issue can be missing from it for
a few seconds), so there a retry shortly after a lost answer can still make a second issue;
ServiceNow's Table API reads what it wrote.

Errors (changeproof.domain.errors) name the system, the method and URL, the status and the
remote's own message; never the token:

    ConfigError       401, 403, 404 on create or search, a redirect: the configuration is wrong
    NotFoundError     404 on update: the remembered record is gone
    ConflictError     409; or two records carry this change's correlation id / label
    InputError        400 and other 4xx: the remote refused a field
    UnavailableError  still failing after the retries; or an answer that is not what the API
                      documents (not JSON, no sys_id or key)

`sleep` is injected (tests never sleep), and so is `transport` (httpx.MockTransport, or None
for the network).
"""

from __future__ import annotations

import base64
import email.utils
import logging
import re
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

import httpx

from changeproof import __version__
from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import (
    ChangeproofError,
    ConfigError,
    ConflictError,
    InputError,
    NotFoundError,
    UnavailableError,
    UsageError,
)
from changeproof.reports import jira, servicenow
from changeproof.reports.ticket_content import check_source, read_change

__all__ = [
    "JiraDeployment",
    "RemoteTicket",
    "TicketingConfig",
    "TicketingSystem",
    "export_change",
    "load_ticketing_config",
]

logger = logging.getLogger(__name__)

_BACKOFF_FIRST: Final = 1.0
_BACKOFF_MAX: Final = 8.0
_SYS_ID: Final = re.compile(r"[0-9a-f]{32}")
_JIRA_ID: Final = re.compile(r"[0-9]{1,20}")
_JIRA_KEY: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]{1,20}")
_LOOPBACK: Final = frozenset({"127.0.0.1", "::1", "localhost"})
_TOKEN_CHARACTERS: Final = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces
_MAX_REMOTE_MESSAGE: Final = 500


class TicketingSystem(StrEnum):
    SERVICENOW = "servicenow"
    JIRA = "jira"


class JiraDeployment(StrEnum):
    CLOUD = "cloud"  # *.atlassian.net: REST v2 and v3, search at /search/jql
    DATA_CENTER = "data-center"  # Server and Data Center: REST v2, search at /search


_LABEL: Final = {TicketingSystem.SERVICENOW: "ServiceNow", TicketingSystem.JIRA: "Jira"}


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
            raise ConfigError(f"{name} {e.message}", hint=e.hint()) from None
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
            raise ConfigError(f"{name} {e.message}", hint=e.hint()) from None
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


# --- configuration ---------------------------------------------------------------------------

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


# --- HTTP ------------------------------------------------------------------------------------

_Outcome = httpx.Response | httpx.TransportError


class _Bearer(httpx.Auth):
    """`Authorization: Bearer <token>`, added per request so the token sits in no default
    header a log or a repr could show."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class _Session:
    """One export's requests: retries, waits and error wording, for either system."""

    def __init__(
        self, config: TicketingConfig, client: httpx.Client, sleep: Callable[[float], None]
    ) -> None:
        self.config = config
        self.client = client
        self.sleep = sleep
        self.label = _LABEL[config.system]
        secrets = [config.token]
        if config.user is not None:
            secrets.append(base64.b64encode(f"{config.user}:{config.token}".encode()).decode())
        self._secrets = secrets

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def attempt(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: JsonValue = None,
    ) -> _Outcome:
        """One request: its response, or the transport error a retry may cure."""
        try:
            response = self.client.request(
                method, path, params=params, json=body if body is not None else None
            )
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as e:
            request = _exception_request(e)
            logger.info("%s %s %s: %s", self.label, method, _url(request), type(e).__name__)
            return e
        except httpx.UnsupportedProtocol as e:
            raise ConfigError(f"{self.label} base_url has a scheme httpx cannot speak") from e
        except httpx.HTTPError as e:  # a proxy refusing, a body that cannot be decoded
            raise UnavailableError(
                f"{self.label}: {method} {self.config.base_url}{path} failed: "
                f"{self.redact(type(e).__name__ + ': ' + str(e))}"
            ) from e
        logger.info(
            "%s %s %s -> %d", self.label, method, response.request.url, response.status_code
        )
        return response

    def send(
        self,
        method: str,
        path: str,
        *,
        action: str,
        params: Mapping[str, str] | None = None,
        body: JsonValue = None,
        missing: type[ChangeproofError] = ConfigError,
    ) -> httpx.Response:
        """An idempotent request (GET, PUT, PATCH), retried; its 2xx response, or an error."""
        for attempt in range(self.config.max_attempts):
            outcome = self.attempt(method, path, params=params, body=body)
            if isinstance(outcome, httpx.Response) and outcome.is_success:
                return outcome
            self.wait_or_raise(attempt, outcome, method, action=action, missing=missing)
        raise AssertionError("unreachable: wait_or_raise raises on the last attempt")

    def wait_or_raise(
        self,
        attempt: int,
        outcome: _Outcome,
        method: str,
        *,
        action: str,
        missing: type[ChangeproofError] = ConfigError,
    ) -> None:
        """Sleep before the next attempt when `outcome` may pass on retry; else raise."""
        what = self._describe(outcome, method)
        if isinstance(outcome, httpx.Response) and not _retryable(outcome):
            raise self._refusal(outcome, what, action, missing)
        delay = self._delay(attempt, outcome)
        if attempt + 1 >= self.config.max_attempts:
            raise UnavailableError(
                f"{self.label} could not {action}: {what}, "
                f"{self.config.max_attempts} attempt{'s' if self.config.max_attempts > 1 else ''}",
                hint=f"{self.label} may be down or overloaded; export again later",
            )
        logger.warning("%s: %s; attempt %d again in %.1f s", self.label, what, attempt + 2, delay)
        self.sleep(delay)

    def _delay(self, attempt: int, outcome: _Outcome) -> float:
        backoff = min(_BACKOFF_MAX, _BACKOFF_FIRST * 2.0**attempt)
        if isinstance(outcome, httpx.TransportError):
            return backoff
        asked = _retry_after(outcome)
        return backoff if asked is None else min(asked, self.config.retry_after_cap_seconds)

    def _describe(self, outcome: _Outcome, method: str) -> str:
        if isinstance(outcome, httpx.TransportError):
            reason = {
                httpx.ConnectError: "could not connect",
                httpx.ConnectTimeout: "timed out connecting",
                httpx.ReadTimeout: "timed out waiting for the answer",
                httpx.RemoteProtocolError: "the connection closed before an answer",
            }.get(type(outcome), type(outcome).__name__)
            return f"{method} {_url(_exception_request(outcome))} {reason}"
        text = f"{method} {outcome.request.url} answered {outcome.status_code}"
        text += f" {outcome.reason_phrase}" if outcome.reason_phrase else ""
        message = self.redact(_remote_message(outcome))
        return f"{text}: {message}" if message else text

    def _refusal(
        self,
        response: httpx.Response,
        what: str,
        action: str,
        missing: type[ChangeproofError],
    ) -> ChangeproofError:
        status = response.status_code
        message = f"{self.label} refused to {action}: {what}"
        section = f"[{self.config.system.value}]"
        if 300 <= status < 400:
            location = response.headers.get("Location", "elsewhere")
            return ConfigError(
                f"{self.label} did not {action}: {what} (redirected to {location})",
                hint=f"set {section} base_url to the address the API answers at, with https",
            )
        if status == 401:
            source = self.config.token_env or "the token's environment variable"
            who = f"user {self.config.user!r} and " if self.config.user else ""
            return ConfigError(message, hint=f"check {who}the token in {source}; is it expired?")
        if status == 403:
            return ConfigError(message, hint=_permission_hint(self.config))
        if status == 404:
            hint = (
                "the record was deleted or moved; export without the remembered id to make one"
                if missing is NotFoundError
                else f"check {section} base_url" + (" and project" if self.config.project else "")
            )
            return missing(message, hint=hint)
        if status == 409:
            return ConflictError(message)
        return InputError(
            message,
            hint=f"a field the remote requires can be set in {section} fields of config.toml",
        )


def _retryable(response: httpx.Response) -> bool:
    """429 and 5xx may pass later; any other status will not change by asking again."""
    return response.status_code == 429 or response.status_code >= 500


def _url(request: httpx.Request | None) -> str:
    return str(request.url) if request is not None else "(no request)"


def _exception_request(error: httpx.TransportError) -> httpx.Request | None:
    try:
        return error.request
    except RuntimeError:  # an error raised outside a request has none
        return None


def _permission_hint(config: TicketingConfig) -> str:
    if config.system is TicketingSystem.SERVICENOW:
        return "the account needs a role that may read and write change_request (itil)"
    return f"the account needs the Browse, Create and Edit issues permissions in {config.project}"


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the remote asks us to wait (RFC 9110 Retry-After), or None.

    An HTTP-date is measured against the response's own Date header, so neither clock's skew
    matters and no clock is read here.
    """
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(int(value))
    if not value:
        return None
    try:
        until = email.utils.parsedate_to_datetime(value)
        now = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    if until.tzinfo is None or now.tzinfo is None:
        return None
    return max(0.0, (until - now).total_seconds())


def _remote_message(response: httpx.Response) -> str:
    """The remote's own words from an error response (ServiceNow's `error`, Jira's
    `errorMessages` and `errors`), or its text when it is short and not a web page."""
    try:
        document: object = response.json()
    except ValueError:
        document = None
    parts: list[str] = []
    if isinstance(document, Mapping):
        error = document.get("error")
        if isinstance(error, Mapping):
            message, detail = error.get("message"), error.get("detail")
            if isinstance(message, str) and message:
                parts.append(message)
            if isinstance(detail, str) and detail and detail != message:
                parts.append(f"({detail})")
        messages = document.get("errorMessages")
        if isinstance(messages, list):
            parts.extend(m for m in messages if isinstance(m, str) and m)
        errors = document.get("errors")
        if isinstance(errors, Mapping):
            parts.extend(f"{k}: {v}" for k, v in errors.items())
    elif document is None and not response.text.lstrip().startswith("<"):
        parts.append(response.text)
    text = " ".join(" ".join(parts).split())
    if len(text) > _MAX_REMOTE_MESSAGE:
        text = text[: _MAX_REMOTE_MESSAGE - 1] + "…"
    return text


def _json_object(session: _Session, response: httpx.Response, action: str) -> Mapping[str, object]:
    try:
        document: object = response.json()
    except ValueError:
        document = None
    if not isinstance(document, Mapping):
        raise _malformed(session, response, action, "a body that is not a JSON object")
    return document


def _malformed(
    session: _Session, response: httpx.Response, action: str, what: str
) -> UnavailableError:
    method = response.request.method
    created = method == "POST" and response.is_success
    return UnavailableError(
        f"{session.label} answered {method} {response.request.url} with {response.status_code} "
        f"and {what}, not what its API documents",
        hint=(
            "the record may have been made: exporting again finds it instead of making another"
            if created
            else f"is [{session.config.system.value}] base_url the API's address?"
        ),
    )


def _field(
    session: _Session,
    response: httpx.Response,
    obj: Mapping[str, object],
    name: str,
    pattern: re.Pattern[str],
    action: str,
) -> str:
    value = obj.get(name.rsplit(".", 1)[-1])
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # Jira documents ids as strings; a number means the same
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        found = "no" if value is None else "a malformed"
        raise _malformed(session, response, action, f"{found} {name}")
    return value


# --- the two systems -------------------------------------------------------------------------


class _ServiceNow:
    PATH: Final = f"/api/now/table/{servicenow.TABLE}"
    # Dates are sent in UTC only when input values are taken as stored values (KB0534905).
    WRITE_PARAMS: Final = {
        "sysparm_input_display_value": "false",
        "sysparm_fields": "sys_id,number",
        "sysparm_exclude_reference_link": "true",
    }

    def __init__(self, session: _Session, rfc: object) -> None:
        config = session.config
        self.session = session
        self.body: dict[str, JsonValue] = {
            **servicenow.change_request_record(rfc, source=config.source),
            **config.fields,
        }
        self.change_id = read_change(rfc).id

    def ticket(self, sys_id: str, number: str) -> RemoteTicket:
        base = self.session.config.base_url
        url = f"{base}/{servicenow.TABLE}.do?sys_id={sys_id}"
        return RemoteTicket(TicketingSystem.SERVICENOW, sys_id, number, url)

    def record(self, response: httpx.Response, action: str) -> RemoteTicket:
        result = _json_object(self.session, response, action).get("result")
        if not isinstance(result, Mapping):
            raise _malformed(self.session, response, action, "no result object")
        sys_id = _field(self.session, response, result, "result.sys_id", _SYS_ID, action)
        number = _field(
            self.session, response, result, "result.number", re.compile(r"\S.*"), action
        )
        return self.ticket(sys_id, number)

    def check(self, remote: RemoteTicket) -> None:
        if _SYS_ID.fullmatch(remote.remote_id) is None:
            raise InputError(f"the remembered ServiceNow sys_id {remote.remote_id!r} is not one")

    def find(self) -> RemoteTicket | None:
        action = f"search change requests for {self.change_id}"
        query = servicenow.correlation_query(self.change_id, source=self.session.config.source)
        params = {
            "sysparm_query": query,
            "sysparm_fields": "sys_id,number,correlation_id,correlation_display",
            "sysparm_limit": "10",
            "sysparm_exclude_reference_link": "true",
        }
        response = self.session.send("GET", self.PATH, action=action, params=params)
        results = _json_object(self.session, response, action).get("result")
        if not isinstance(results, list):
            raise _malformed(self.session, response, action, "no result list")
        # The Table API ignores a query part it cannot read and then returns every row:
        # only records that carry both values are ours.
        found = [
            self.record_of(response, r, action)
            for r in results
            if isinstance(r, Mapping)
            and r.get("correlation_id") == self.change_id
            and r.get("correlation_display") == self.session.config.source
        ]
        return _one(self.session, found, f"correlation id {self.change_id}")

    def record_of(
        self, response: httpx.Response, row: Mapping[str, object], action: str
    ) -> RemoteTicket:
        sys_id = _field(self.session, response, row, "result[].sys_id", _SYS_ID, action)
        number = _field(self.session, response, row, "result[].number", re.compile(r"\S.*"), action)
        return self.ticket(sys_id, number)

    def create(self) -> _Outcome:
        return self.session.attempt("POST", self.PATH, params=self.WRITE_PARAMS, body=self.body)

    def update(self, remote: RemoteTicket) -> RemoteTicket:
        action = f"update change request {remote.key}"
        response = self.session.send(
            "PATCH",
            f"{self.PATH}/{remote.remote_id}",
            action=action,
            params=self.WRITE_PARAMS,
            body=self.body,
            missing=NotFoundError,
        )
        return self.record(response, action)


class _Jira:
    def __init__(self, session: _Session, rfc: object) -> None:
        config = session.config
        if config.project is None:
            raise ConfigError("[jira] project is missing")
        self.session = session
        self.project = config.project
        self.prefix = f"/rest/api/{config.api_version}"
        create = jira.issue_create_body(
            rfc,
            project=config.project,
            issue_type=config.issue_type,
            api_version=config.api_version,
            source=config.source,
        )
        update = jira.issue_update_body(rfc, api_version=config.api_version, source=config.source)
        self.create_body = jira.with_fields(create, config.fields)
        self.update_body = jira.with_fields(update, config.fields)
        self.change_id = read_change(rfc).id
        self.label = jira.issue_labels(self.change_id, source=config.source)[1]

    def ticket(self, issue_id: str, key: str) -> RemoteTicket:
        url = f"{self.session.config.base_url}/browse/{key}"
        return RemoteTicket(TicketingSystem.JIRA, issue_id, key, url)

    def issue(
        self, response: httpx.Response, obj: Mapping[str, object], action: str, where: str
    ) -> RemoteTicket:
        issue_id = _field(self.session, response, obj, f"{where}id", _JIRA_ID, action)
        key = _field(self.session, response, obj, f"{where}key", _JIRA_KEY, action)
        return self.ticket(issue_id, key)

    def check(self, remote: RemoteTicket) -> None:
        if _JIRA_ID.fullmatch(remote.remote_id) is None:
            raise InputError(f"the remembered Jira issue id {remote.remote_id!r} is not one")

    def find(self) -> RemoteTicket | None:
        action = f"search {self.project} for the issue labelled {self.label}"
        # Jira Cloud removed /search (410 Gone) for /search/jql; Data Center has only /search.
        cloud = self.session.config.deployment is JiraDeployment.CLOUD
        path = f"{self.prefix}/search/jql" if cloud else f"{self.prefix}/search"
        params = {
            "jql": jira.label_jql(self.project, self.change_id, source=self.session.config.source),
            "fields": "labels",
            "maxResults": "10",
        }
        response = self.session.send("GET", path, action=action, params=params)
        issues = _json_object(self.session, response, action).get("issues")
        if not isinstance(issues, list):
            raise _malformed(self.session, response, action, "no issues list")
        found = [
            self.issue(response, i, action, "issues[].")
            for i in issues
            if isinstance(i, Mapping) and self._labelled(i)
        ]
        return _one(self.session, found, f"label {self.label}")

    def _labelled(self, issue: Mapping[str, object]) -> bool:
        """Whether a search hit carries our label; a hit without its labels is taken as JQL
        matched it."""
        fields = issue.get("fields")
        labels = fields.get("labels") if isinstance(fields, Mapping) else None
        return not isinstance(labels, list) or self.label in labels

    def create(self) -> _Outcome:
        return self.session.attempt("POST", f"{self.prefix}/issue", body=self.create_body)

    def record(self, response: httpx.Response, action: str) -> RemoteTicket:
        return self.issue(response, _json_object(self.session, response, action), action, "")

    def update(self, remote: RemoteTicket) -> RemoteTicket:
        self.session.send(
            "PUT",
            f"{self.prefix}/issue/{remote.remote_id}",
            action=f"update issue {remote.key}",
            body=self.update_body,
            missing=NotFoundError,
        )
        return remote  # 204: nothing new to learn


def _one(session: _Session, found: list[RemoteTicket], what: str) -> RemoteTicket | None:
    if len(found) > 1:
        keys = ", ".join(t.key for t in found)
        raise ConflictError(
            f"{session.label} has {len(found)} records with {what}: {keys}",
            hint="keep one (cancel or relabel the others) and export again",
        )
    return found[0] if found else None


def export_change(
    rfc: object,
    config: TicketingConfig,
    remote: RemoteTicket | None,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RemoteTicket:
    """Create or update the ticket for the RFC document `rfc` (parsed JSON); see the module.

    `remote` is the ticket a previous export returned (None the first time). The RFC is mapped
    before anything is sent: a malformed RFC raises InputError without a request.
    """
    if remote is not None and remote.system is not config.system:
        raise UsageError(
            f"a {remote.system.value} ticket cannot be updated in {config.system.value}"
        )
    auth: httpx.Auth = (
        httpx.BasicAuth(config.user, config.token)
        if config.user is not None
        else _Bearer(config.token)
    )
    with httpx.Client(
        base_url=config.base_url,
        auth=auth,
        headers={"Accept": "application/json", "User-Agent": f"changeproof/{__version__}"},
        timeout=config.timeout_seconds,
        transport=transport,
        follow_redirects=False,  # a redirect would be to a login page, or lose the method
    ) as client:
        session = _Session(config, client, sleep)
        system: _ServiceNow | _Jira = (
            _ServiceNow(session, rfc)
            if config.system is TicketingSystem.SERVICENOW
            else _Jira(session, rfc)
        )
        if remote is not None:
            system.check(remote)
            return system.update(remote)
        action = f"create the {'change request' if isinstance(system, _ServiceNow) else 'issue'}"
        for attempt in range(config.max_attempts):
            # Before every create, and above all before a retry after an answer that did not
            # arrive: the record may exist already.
            found = system.find()
            if found is not None:
                logger.info("%s: %s exists; updating it", session.label, found.key)
                return system.update(found)
            outcome = system.create()
            if isinstance(outcome, httpx.Response) and outcome.is_success:
                ticket = system.record(outcome, action)
                logger.info("%s: created %s", session.label, ticket.key)
                return ticket
            session.wait_or_raise(attempt, outcome, "POST", action=action)
        raise AssertionError("unreachable: wait_or_raise raises on the last attempt")
