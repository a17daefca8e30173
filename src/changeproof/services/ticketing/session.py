"""One export's HTTP requests: authentication, retries and waits, and errors worded with the
system, the method and URL, the status and the remote's own message (never the token)."""

from __future__ import annotations

import base64
import email.utils
import logging
import re
from collections.abc import Callable, Generator, Mapping
from typing import Final
from urllib.parse import quote, quote_plus

import httpx

from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import (
    ChangeproofError,
    ConfigError,
    ConflictError,
    InputError,
    NotFoundError,
    UnavailableError,
)
from changeproof.services.ticketing.config import TicketingConfig, TicketingSystem

__all__ = ["Bearer", "Outcome", "Session", "checked_field", "json_object", "malformed"]

logger = logging.getLogger(__name__)

_BACKOFF_FIRST: Final = 1.0
_BACKOFF_MAX: Final = 8.0
_MAX_REMOTE_MESSAGE: Final = 500
_MAX_LOCATION: Final = 200
_MIN_SECRET: Final = 4  # shorter forms would redact ordinary words; no real token is that short


Outcome = httpx.Response | httpx.TransportError


class Bearer(httpx.Auth):
    """`Authorization: Bearer <token>`, added per request so the token sits in no default
    header a log or a repr could show."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class Session:
    """One export's requests: retries, waits and error wording, for either system."""

    def __init__(
        self, config: TicketingConfig, client: httpx.Client, sleep: Callable[[float], None]
    ) -> None:
        self.config = config
        self.client = client
        self.sleep = sleep
        self.label = config.system.label
        self._secrets = _secret_forms(config.token, config.user)
        hex_token = config.token.encode().hex()
        self._hex = (
            re.compile(re.escape(hex_token), re.IGNORECASE)
            if len(config.token) >= _MIN_SECRET
            else None
        )

    def redact(self, text: str) -> str:
        """`text` with every form of the credential a remote might echo replaced: as sent,
        URL-encoded, base64 (alone, and of the Basic `user:token` pair), any case of hex."""
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        if self._hex is not None:
            text = self._hex.sub("[redacted]", text)
        return text

    def attempt(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: JsonValue = None,
    ) -> Outcome:
        """One request: its response, or the transport error a retry may cure."""
        try:
            response = self.client.request(method, path, params=params, json=body)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as e:
            request = _exception_request(e)
            logger.info(
                "%s %s %s: %s", self.label, method, self.redact(_url(request)), type(e).__name__
            )
            return e
        except httpx.UnsupportedProtocol as e:
            raise ConfigError(f"{self.label} base_url has a scheme httpx cannot speak") from e
        except httpx.HTTPError as e:  # a proxy refusing, a body that cannot be decoded
            raise UnavailableError(
                f"{self.label}: {method} {self.config.base_url}{path} failed: "
                f"{self.redact(type(e).__name__ + ': ' + str(e))}"
            ) from e
        logger.info(
            "%s %s %s -> %d",
            self.label,
            method,
            self.redact(str(response.request.url)),
            response.status_code,
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
        attempt = 0
        while True:  # until a 2xx, or wait_or_raise gives up
            outcome = self.attempt(method, path, params=params, body=body)
            if isinstance(outcome, httpx.Response) and outcome.is_success:
                return outcome
            self.wait_or_raise(attempt, outcome, method, action=action, missing=missing)
            attempt += 1

    def wait_or_raise(
        self,
        attempt: int,
        outcome: Outcome,
        method: str,
        *,
        action: str,
        missing: type[ChangeproofError] = ConfigError,
    ) -> None:
        """Sleep before attempt `attempt` + 1 when `outcome` may pass on retry and attempts are
        left; else raise the error `outcome` means."""
        what = self._describe(outcome, method)
        if isinstance(outcome, httpx.Response) and not _retryable(outcome):
            raise self._refusal(outcome, what, action, missing)
        delay = self._delay(attempt, outcome)
        if attempt + 1 >= self.config.max_attempts:
            tries = self.config.max_attempts
            raise UnavailableError(
                f"{self.label} could not {action}: {what} "
                f"(tried {tries} time{'s' if tries > 1 else ''})",
                hint=f"{self.label} may be down or overloaded; export again later",
            )
        logger.warning("%s: %s; attempt %d again in %.1f s", self.label, what, attempt + 2, delay)
        self.sleep(delay)

    def _delay(self, attempt: int, outcome: Outcome) -> float:
        backoff = min(_BACKOFF_MAX, _BACKOFF_FIRST * 2.0**attempt)
        if isinstance(outcome, httpx.TransportError):
            return backoff
        asked = _retry_after(outcome)
        return backoff if asked is None else float(min(asked, self.config.retry_after_cap_seconds))

    def _describe(self, outcome: Outcome, method: str) -> str:
        if isinstance(outcome, httpx.TransportError):
            reason = {
                httpx.ConnectError: "could not connect",
                httpx.ConnectTimeout: "timed out connecting",
                httpx.ReadTimeout: "timed out waiting for the answer",
                httpx.RemoteProtocolError: "the connection closed before an answer",
            }.get(type(outcome), type(outcome).__name__)
            return self.redact(f"{method} {_url(_exception_request(outcome))} {reason}")
        # The reason phrase is the remote's text as much as its body is: redacted, and cut.
        text = f"{method} {outcome.request.url} answered {outcome.status_code}"
        phrase = _cut(self.redact(outcome.reason_phrase))  # redacted before it is cut
        text += f" {phrase}" if phrase else ""
        message = _remote_message(outcome, self.redact)
        return self.redact(f"{text}: {message}" if message else text)

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
            location = _cut(self.redact(response.headers.get("Location", "elsewhere")))
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


def _secret_forms(token: str, user: str | None) -> list[str]:
    """The texts a remote may echo the credential as, longest first (so a form that holds
    another is replaced whole)."""
    forms = {token, quote(token, safe=""), quote_plus(token)}
    forms |= _base64_forms(token.encode())
    if user is not None:
        pair = f"{user}:{token}"
        forms |= {pair, quote(pair, safe="")}
        forms |= _base64_forms(pair.encode())
    return sorted((f for f in forms if len(f) >= _MIN_SECRET), key=len, reverse=True)


def _base64_forms(data: bytes) -> set[str]:
    standard = base64.b64encode(data).decode()
    url_safe = base64.urlsafe_b64encode(data).decode()
    # Unpadded, and URL-encoded padding, as a URL or a JWT-like echo would carry it.
    return {
        standard,
        url_safe,
        standard.rstrip("="),
        url_safe.rstrip("="),
        quote(standard, safe=""),
    }


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_LOCATION else text[: _MAX_LOCATION - 1] + "…"


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
    if value.isascii() and value.isdigit():
        return float(min(int(value), 86_400))  # a day is as long as anyone should be asked
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


def _remote_message(response: httpx.Response, redact: Callable[[str], str]) -> str:
    """The remote's own words from an error response (ServiceNow's `error`, Jira's
    `errorMessages` and `errors`), or its text when it is short and not a web page;
    redacted before it is cut, so no part of a secret survives the cut."""
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
    text = redact(" ".join(" ".join(parts).split()))
    if len(text) > _MAX_REMOTE_MESSAGE:
        text = text[: _MAX_REMOTE_MESSAGE - 1] + "…"
    return text


def json_object(session: Session, response: httpx.Response, action: str) -> Mapping[str, object]:
    try:
        document: object = response.json()
    except ValueError:
        document = None
    if not isinstance(document, Mapping):
        raise malformed(session, response, action, "a body that is not a JSON object")
    return document


def malformed(
    session: Session, response: httpx.Response, action: str, what: str
) -> UnavailableError:
    method = response.request.method
    created = method == "POST" and response.is_success
    return UnavailableError(
        f"{session.label} answered {method} {session.redact(str(response.request.url))} "
        f"with {response.status_code} "
        f"and {what}, not what its API documents",
        hint=(
            "the record may have been made: exporting again finds it instead of making another"
            if created
            else f"is [{session.config.system.value}] base_url the API's address?"
        ),
    )


def checked_field(
    session: Session,
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
        raise malformed(session, response, action, f"{found} {name}")
    return value
