"""Export an RFC: the ServiceNow and Jira conversations, and the search-before-create loop."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Final

import httpx

from changeproof import __version__
from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import (
    ConfigError,
    ConflictError,
    InputError,
    NotFoundError,
    UsageError,
)
from changeproof.reports import jira, servicenow
from changeproof.reports.ticket_content import read_change
from changeproof.services.ticketing.config import (
    JiraDeployment,
    RemoteTicket,
    TicketingConfig,
    TicketingSystem,
)
from changeproof.services.ticketing.session import (
    Bearer,
    Outcome,
    Session,
    checked_field,
    json_object,
    malformed,
)

__all__ = ["export_change"]

logger = logging.getLogger(__name__)

_SYS_ID: Final = re.compile(r"[0-9a-f]{32}")
_JIRA_ID: Final = re.compile(r"[0-9]{1,20}")
_JIRA_KEY: Final = re.compile(r"[A-Za-z][A-Za-z0-9_]*-[0-9]{1,20}")
_NUMBER: Final = re.compile(r"\S.*")


class _ServiceNow:
    PATH: Final = f"/api/now/table/{servicenow.TABLE}"
    # Dates are sent in UTC only when input values are taken as stored values (KB0534905).
    WRITE_PARAMS: Final = {
        "sysparm_input_display_value": "false",
        "sysparm_fields": "sys_id,number",
        "sysparm_exclude_reference_link": "true",
    }

    def __init__(self, session: Session, rfc: object) -> None:
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
        result = json_object(self.session, response, action).get("result")
        if not isinstance(result, Mapping):
            raise malformed(self.session, response, action, "no result object")
        sys_id = checked_field(self.session, response, result, "result.sys_id", _SYS_ID, action)
        number = checked_field(self.session, response, result, "result.number", _NUMBER, action)
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
        results = json_object(self.session, response, action).get("result")
        if not isinstance(results, list):
            raise malformed(self.session, response, action, "no result list")
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
        sys_id = checked_field(self.session, response, row, "result[].sys_id", _SYS_ID, action)
        number = checked_field(self.session, response, row, "result[].number", _NUMBER, action)
        return self.ticket(sys_id, number)

    def create(self) -> Outcome:
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
    def __init__(self, session: Session, rfc: object) -> None:
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
        issue_id = checked_field(self.session, response, obj, f"{where}id", _JIRA_ID, action)
        key = checked_field(self.session, response, obj, f"{where}key", _JIRA_KEY, action)
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
        issues = json_object(self.session, response, action).get("issues")
        if not isinstance(issues, list):
            raise malformed(self.session, response, action, "no issues list")
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

    def create(self) -> Outcome:
        return self.session.attempt("POST", f"{self.prefix}/issue", body=self.create_body)

    def record(self, response: httpx.Response, action: str) -> RemoteTicket:
        return self.issue(response, json_object(self.session, response, action), action, "")

    def update(self, remote: RemoteTicket) -> RemoteTicket:
        self.session.send(
            "PUT",
            f"{self.prefix}/issue/{remote.remote_id}",
            action=f"update issue {remote.key}",
            body=self.update_body,
            missing=NotFoundError,
        )
        return remote  # 204: nothing new to learn


def _one(session: Session, found: list[RemoteTicket], what: str) -> RemoteTicket | None:
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
        else Bearer(config.token)
    )
    with httpx.Client(
        base_url=config.base_url,
        auth=auth,
        headers={"Accept": "application/json", "User-Agent": f"changeproof/{__version__}"},
        timeout=config.timeout_seconds,
        transport=transport,
        follow_redirects=False,  # a redirect would be to a login page, or lose the method
    ) as client:
        session = Session(config, client, sleep)
        system: _ServiceNow | _Jira = (
            _ServiceNow(session, rfc)
            if config.system is TicketingSystem.SERVICENOW
            else _Jira(session, rfc)
        )
        if remote is not None:
            system.check(remote)
            return system.update(remote)
        action = f"create the {'change request' if isinstance(system, _ServiceNow) else 'issue'}"
        attempt = 0
        while True:  # until created or found, or wait_or_raise gives up
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
            attempt += 1
