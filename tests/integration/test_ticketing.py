"""`export_change` against a real HTTP server on 127.0.0.1 that speaks the documented parts of
ServiceNow's Table API and Jira's REST API v2/v3, checks every request's shape (method, path,
headers, authentication, body fields and types) and answers as they do; faults (lost answers,
429, 5xx, malformed bodies) are scripted per request. Nothing sleeps: `sleep` is a list."""

from __future__ import annotations

import base64
import json
import logging
import re
import socket
import threading
import tomllib
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, quote_plus, urlsplit

import httpx
import pytest

from changeproof.domain.errors import (
    ChangeproofError,
    ConfigError,
    ConflictError,
    InputError,
    NotFoundError,
    UnavailableError,
    UsageError,
)
from changeproof.reports.jira import issue_create_body
from changeproof.reports.servicenow import MAPPED_FIELDS, change_request_record
from changeproof.services.ticketing import (
    JiraDeployment,
    RemoteTicket,
    TicketingConfig,
    TicketingSystem,
    export_change,
    load_ticketing_config,
)
from tests.unit.reports.ticket_samples import adf_problems, rfc

TOKEN = "s3cr3t-T0KEN-value"  # noqa: S105  # a test token the tests look for in messages
EMAIL = "bot@example.com"
SN_TABLE = "/api/now/table/change_request"
_SN_DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_SN_TEXT = ("description", "justification", "implementation_plan", "backout_plan", "test_plan")
_JQL = re.compile(r'project = "([A-Za-z][A-Za-z0-9_]*)" AND labels = "([^"]+)"')


@dataclass
class Fault:
    """What the server does instead of (or after) answering one request."""

    status: int | None = None  # answer with this status instead
    body: Any = None  # ... and this JSON body
    raw: bytes | None = None  # ... or these bytes
    headers: dict[str, str] = field(default_factory=dict)
    process: bool = False  # do the work first (a create happens), then misbehave
    drop: bool = False  # close the connection without an answer


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


@dataclass
class Answer:
    status: int
    body: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeRemote:
    """ServiceNow and Jira, as far as export_change uses them."""

    def __init__(self) -> None:
        self.base_url = ""
        self.authorization = f"Bearer {TOKEN}"
        self.changes: dict[str, dict[str, Any]] = {}  # sys_id -> change_request
        self.issues: dict[str, dict[str, Any]] = {}  # id -> {"key", "fields"}
        self.seen: list[Seen] = []
        self.problems: list[str] = []
        self.faults: dict[tuple[str, str], list[Fault]] = {}
        self.lock = threading.Lock()

    def fail(self, method: str, path: str, *faults: Fault) -> None:
        self.faults.setdefault((method, path), []).extend(faults)

    def calls(self) -> list[str]:
        return [f"{s.method} {s.path}" for s in self.seen]

    # --- dispatch ----------------------------------------------------------------------------

    def handle(self, seen: Seen) -> Answer | None:
        with self.lock:
            self.seen.append(seen)
            fault = self._next_fault(seen)
            if fault is not None and not fault.process:
                return (
                    None
                    if fault.drop
                    else Answer(fault.status or 500, fault.body, fault.raw, fault.headers)
                )
            answer = self._route(seen)
            if fault is None:
                return answer
            return (
                None
                if fault.drop
                else Answer(fault.status or 500, fault.body, fault.raw, fault.headers)
            )

    def _next_fault(self, seen: Seen) -> Fault | None:
        queue = self.faults.get((seen.method, seen.path))
        return queue.pop(0) if queue else None

    def _problem(self, seen: Seen, text: str) -> Answer:
        self.problems.append(f"{seen.method} {seen.path}: {text}")
        return Answer(400, {"error": {"message": text, "detail": "fake"}, "status": "failure"})

    def _route(self, seen: Seen) -> Answer:
        if seen.headers.get("accept") != "application/json":
            return self._problem(seen, f"Accept is {seen.headers.get('accept')!r}")
        if not seen.headers.get("user-agent", "").startswith("changeproof/"):
            return self._problem(seen, "no changeproof User-Agent")
        if seen.method in ("POST", "PUT", "PATCH"):
            if seen.headers.get("content-type") != "application/json":
                return self._problem(seen, f"Content-Type is {seen.headers.get('content-type')!r}")
        elif seen.body is not None:
            return self._problem(seen, "a body on a GET")
        if seen.headers.get("authorization") != self.authorization:
            if seen.path.startswith("/api/now/"):
                error = {
                    "message": "User Not Authenticated",
                    "detail": "Required to provide Auth information",
                }
                return Answer(401, {"error": error, "status": "failure"})
            return Answer(401, {"errorMessages": ["You are not authenticated."], "errors": {}})
        if seen.path == SN_TABLE and seen.method == "GET":
            return self._sn_search(seen)
        if seen.path == SN_TABLE and seen.method == "POST":
            return self._sn_create(seen)
        if seen.path.startswith(SN_TABLE + "/") and seen.method == "PATCH":
            return self._sn_update(seen, seen.path.rsplit("/", 1)[1])
        match = re.fullmatch(r"/rest/api/([23])/(issue|search|search/jql)(?:/(\d+))?", seen.path)
        if match is None:
            return Answer(404, {"errorMessages": ["Not found"], "errors": {}})
        version, resource, issue_id = int(match[1]), match[2], match[3]
        if resource == "issue" and seen.method == "POST" and issue_id is None:
            return self._jira_create(seen, version)
        if resource == "issue" and seen.method == "PUT" and issue_id is not None:
            return self._jira_update(seen, version, issue_id)
        if resource.startswith("search") and seen.method == "GET":
            return self._jira_search(seen, version, resource)
        return Answer(405, {"errorMessages": ["Method not allowed"], "errors": {}})

    # --- ServiceNow --------------------------------------------------------------------------

    def _sn_record_problems(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            return ["the body is not an object"]
        problems = [
            f"{k} is {type(v).__name__}, not a string"
            for k, v in body.items()
            if not isinstance(v, str)
        ]
        problems += [
            f"unknown field {k}" for k in body if k not in MAPPED_FIELDS and k != "assignment_group"
        ]
        for name in ("short_description", "type", "correlation_id", "correlation_display"):
            if not body.get(name):
                problems.append(f"{name} is missing")
        if body.get("type") not in ("standard", "normal", "emergency"):
            problems.append(f"type {body.get('type')!r}")
        if body.get("risk", "2") not in ("2", "3", "4") or body.get("impact", "1") not in (
            "1",
            "2",
            "3",
        ):
            problems.append("risk or impact is not a choice value")
        for name in ("start_date", "end_date"):
            if name in body and not _SN_DATE.fullmatch(str(body[name])):
                problems.append(f"{name} {body[name]!r} is not YYYY-MM-DD HH:MM:SS")
        if len(str(body.get("short_description", ""))) > 160:
            problems.append("short_description is longer than 160")
        problems += [
            f"{n} is longer than 4000" for n in _SN_TEXT if len(str(body.get(n, ""))) > 4000
        ]
        return problems

    def _sn_write_params(self, seen: Seen) -> list[str]:
        if seen.query.get("sysparm_input_display_value") != ["false"]:
            return ["dates are UTC only with sysparm_input_display_value=false"]
        return []

    def _sn_result(self, record: dict[str, Any], seen: Seen) -> dict[str, Any]:
        wanted = seen.query.get("sysparm_fields", [""])[0].split(",")
        return {k: v for k, v in record.items() if k in wanted} if wanted != [""] else dict(record)

    def _sn_create(self, seen: Seen) -> Answer:
        problems = self._sn_record_problems(seen.body) + self._sn_write_params(seen)
        if problems:
            return self._problem(seen, "; ".join(problems))
        sys_id = uuid.uuid4().hex
        number = f"CHG{3000000 + len(self.changes) + 1:07d}"
        self.changes[sys_id] = {**seen.body, "sys_id": sys_id, "number": number, "state": "-5"}
        return Answer(201, {"result": self._sn_result(self.changes[sys_id], seen)})

    def _sn_update(self, seen: Seen, sys_id: str) -> Answer:
        problems = self._sn_record_problems(seen.body) + self._sn_write_params(seen)
        if problems:
            return self._problem(seen, "; ".join(problems))
        if sys_id not in self.changes:
            error = {
                "message": "No Record found",
                "detail": "Record doesn't exist or ACL restricts the record retrieval",
            }
            return Answer(404, {"error": error, "status": "failure"})
        self.changes[sys_id].update(seen.body)
        return Answer(200, {"result": self._sn_result(self.changes[sys_id], seen)})

    def _sn_search(self, seen: Seen) -> Answer:
        query = seen.query.get("sysparm_query", [""])[0]
        conditions = dict(part.split("=", 1) for part in query.split("^") if "=" in part)
        if set(conditions) != {"correlation_display", "correlation_id"}:
            return self._problem(seen, f"unexpected query {query!r}")
        limit = int(seen.query.get("sysparm_limit", ["10000"])[0])
        rows = [
            self._sn_result(r, seen)
            for r in self.changes.values()
            if all(r.get(k) == v for k, v in conditions.items())
        ]
        return Answer(200, {"result": rows[:limit]})

    # --- Jira --------------------------------------------------------------------------------

    def _jira_fields_problems(self, fields: Any, version: int, *, create: bool) -> list[str]:
        if not isinstance(fields, dict):
            return ["fields is not an object"]
        problems: list[str] = []
        if create:
            if fields.get("project") != {"key": "PAY"}:
                problems.append(f"project {fields.get('project')!r}")
            issuetype = fields.get("issuetype")
            if not isinstance(issuetype, dict) or not isinstance(issuetype.get("name"), str):
                problems.append("issuetype has no name")
            labels = fields.get("labels")
            if not isinstance(labels, list) or not all(
                isinstance(x, str) and " " not in x for x in labels
            ):
                problems.append("labels must be strings without spaces")
        elif {"project", "issuetype"} & set(fields):
            problems.append("project and issue type cannot be edited")
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary or "\n" in summary or len(summary) > 255:
            problems.append("summary must be one line of 1-255 characters")
        description = fields.get("description")
        if version == 2 and not isinstance(description, str):
            problems.append("a v2 description is a string")
        if version == 3:
            problems += adf_problems(description)
        return problems

    def _jira_create(self, seen: Seen, version: int) -> Answer:
        body = seen.body if isinstance(seen.body, dict) else {}
        problems = self._jira_fields_problems(body.get("fields"), version, create=True)
        if set(body) != {"fields"}:
            problems.append(f"top-level keys {sorted(body)}")
        if problems:
            return Answer(400, {"errorMessages": problems, "errors": {}})
        if "customfield_10010" in body["fields"]:
            message = (
                "Field 'customfield_10010' cannot be set. It is not on the appropriate screen."
            )
            return Answer(400, {"errorMessages": [], "errors": {"customfield_10010": message}})
        issue_id = str(10000 + len(self.issues) + 1)
        key = f"PAY-{len(self.issues) + 1}"
        self.issues[issue_id] = {"key": key, "fields": dict(body["fields"])}
        url = f"{self.base_url}/rest/api/{version}/issue/{issue_id}"
        return Answer(201, {"id": issue_id, "key": key, "self": url})

    def _jira_update(self, seen: Seen, version: int, issue_id: str) -> Answer:
        body = seen.body if isinstance(seen.body, dict) else {}
        problems = self._jira_fields_problems(body.get("fields"), version, create=False)
        operations = body.get("update", {}).get("labels")
        if not isinstance(operations, list) or not all(
            isinstance(op, dict) and set(op) == {"add"} and isinstance(op["add"], str)
            for op in operations
        ):
            problems.append("update.labels must be a list of {add: label}")
        if problems:
            return Answer(400, {"errorMessages": problems, "errors": {}})
        issue = self.issues.get(issue_id)
        if issue is None:
            message = "Issue does not exist or you do not have permission to see it."
            return Answer(404, {"errorMessages": [message], "errors": {}})
        labels = issue["fields"]["labels"]
        issue["fields"].update(body["fields"])
        issue["fields"]["labels"] = labels + [
            op["add"] for op in operations if op["add"] not in labels
        ]
        return Answer(204)

    def _jira_search(self, seen: Seen, version: int, resource: str) -> Answer:
        match = _JQL.fullmatch(seen.query.get("jql", [""])[0])
        if match is None:
            return Answer(400, {"errorMessages": ["Error in the JQL Query"], "errors": {}})
        project, label = match[1], match[2]
        issues = [
            {
                "id": issue_id,
                "key": issue["key"],
                "self": f"{self.base_url}/rest/api/{version}/issue/{issue_id}",
                "fields": {"labels": issue["fields"]["labels"]},
            }
            for issue_id, issue in self.issues.items()
            if issue["key"].startswith(project + "-") and label in issue["fields"]["labels"]
        ]
        if resource == "search/jql":
            return Answer(200, {"issues": issues, "isLast": True})
        return Answer(200, {"startAt": 0, "maxResults": 10, "total": len(issues), "issues": issues})


def _handler(remote: FakeRemote) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = {"unparseable": raw.decode("utf-8", "replace")}
            seen = Seen(
                self.command,
                parts.path,
                parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            answer = remote.handle(seen)
            if answer is None:  # the answer is lost: close without a word
                self.close_connection = True
                return
            payload = answer.raw if answer.raw is not None else b""
            if answer.raw is None and answer.body is not None:
                payload = json.dumps(answer.body).encode()
            # Not send_response: it adds its own Date, and a fault may bring one.
            self.send_response_only(answer.status)
            if "Date" not in answer.headers:
                self.send_header("Date", self.date_time_string())
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the test reads `remote.seen`, not stderr

    return Handler


@pytest.fixture
def remote() -> Iterator[FakeRemote]:
    fake = FakeRemote()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll: shutdown waits for it, after every test.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    assert fake.problems == []


def servicenow(remote: FakeRemote, **options: Any) -> TicketingConfig:
    return TicketingConfig(
        TicketingSystem.SERVICENOW,
        remote.base_url,
        TOKEN,
        token_env="SERVICENOW_TOKEN",  # noqa: S106  # a variable's name
        **options,
    )


def jira_config(remote: FakeRemote, **options: Any) -> TicketingConfig:
    options.setdefault("project", "PAY")
    return TicketingConfig(
        TicketingSystem.JIRA,
        remote.base_url,
        TOKEN,
        token_env="JIRA_TOKEN",  # noqa: S106  # a variable's name
        **options,
    )


def export(
    document: Mapping[str, Any],
    config: TicketingConfig,
    ticket: RemoteTicket | None = None,
    sleeps: list[float] | None = None,
) -> RemoteTicket:
    record: Callable[[float], None] = (sleeps if sleeps is not None else []).append
    return export_change(document, config, ticket, sleep=record)


# --- ServiceNow ------------------------------------------------------------------------------


def test_servicenow_create_searches_first_then_posts_the_mapped_record(remote: FakeRemote) -> None:
    ticket = export(rfc(), servicenow(remote))
    assert remote.calls() == [f"GET {SN_TABLE}", f"POST {SN_TABLE}"]
    search = remote.seen[0].query
    assert search["sysparm_query"] == ["correlation_display=changeproof^correlation_id=CHG-57"]
    [(sys_id, stored)] = remote.changes.items()
    assert ticket == RemoteTicket(
        TicketingSystem.SERVICENOW,
        sys_id,
        "CHG3000001",
        f"{remote.base_url}/change_request.do?sys_id={sys_id}",
    )
    assert {k: stored[k] for k in MAPPED_FIELDS} == change_request_record(rfc())


def test_servicenow_basic_auth(remote: FakeRemote) -> None:
    remote.authorization = "Basic " + base64.b64encode(f"integration:{TOKEN}".encode()).decode()
    ticket = export(rfc(), servicenow(remote, user="integration"))
    assert ticket.key == "CHG3000001"


def test_extra_fields_go_with_the_record(remote: FakeRemote) -> None:
    group = "a" * 32
    export(rfc(), servicenow(remote, fields={"assignment_group": group}))
    [stored] = remote.changes.values()
    assert stored["assignment_group"] == group


def test_a_known_record_is_updated_not_created(remote: FakeRemote) -> None:
    first = export(rfc(), servicenow(remote))
    remote.seen.clear()
    again = export(rfc(title="Deploy payments/1.4.1 to production"), servicenow(remote), first)
    assert remote.calls() == [f"PATCH {SN_TABLE}/{first.remote_id}"]
    assert again == first
    [stored] = remote.changes.values()
    assert stored["short_description"] == "CHG-57: Deploy payments/1.4.1 to production"


def test_exporting_again_without_the_remote_id_finds_and_updates(remote: FakeRemote) -> None:
    first = export(rfc(), servicenow(remote))
    remote.seen.clear()
    again = export(rfc(plan="a new plan"), servicenow(remote))
    assert remote.calls() == [f"GET {SN_TABLE}", f"PATCH {SN_TABLE}/{first.remote_id}"]
    assert again == first
    assert len(remote.changes) == 1


def test_a_lost_create_response_is_found_on_retry_not_duplicated(remote: FakeRemote) -> None:
    remote.fail("POST", SN_TABLE, Fault(process=True, drop=True))
    sleeps: list[float] = []
    ticket = export(rfc(), servicenow(remote), sleeps=sleeps)
    assert remote.calls() == [
        f"GET {SN_TABLE}",
        f"POST {SN_TABLE}",  # made the record; the answer never came
        f"GET {SN_TABLE}",  # so the retry looks before it creates
        f"PATCH {SN_TABLE}/{ticket.remote_id}",
    ]
    assert sleeps == [1.0]
    assert list(remote.changes) == [ticket.remote_id]


def test_429_waits_as_long_as_retry_after_says(remote: FakeRemote) -> None:
    busy = {"error": {"message": "Too many requests", "detail": None}, "status": "failure"}
    remote.fail("POST", SN_TABLE, Fault(429, busy, headers={"Retry-After": "7"}))
    sleeps: list[float] = []
    ticket = export(rfc(), servicenow(remote), sleeps=sleeps)
    assert sleeps == [7.0]
    assert ticket.key == "CHG3000001"
    assert len(remote.changes) == 1


def test_retry_after_is_capped_and_read_as_a_date_too(remote: FakeRemote) -> None:
    remote.fail(
        "GET",
        SN_TABLE,
        Fault(429, headers={"Retry-After": "3600"}),
        Fault(
            503,
            headers={
                "Retry-After": "Wed, 04 Mar 2026 10:00:05 GMT",
                "Date": "Wed, 04 Mar 2026 10:00:00 GMT",
            },
        ),
    )
    sleeps: list[float] = []
    export(rfc(), servicenow(remote, max_attempts=3, retry_after_cap_seconds=20), sleeps=sleeps)
    assert sleeps == [20.0, 5.0]


def test_503_three_times_is_unavailable_and_says_why(remote: FakeRemote) -> None:
    down = {"error": {"message": "Instance is hibernating", "detail": None}, "status": "failure"}
    remote.fail("POST", SN_TABLE, *[Fault(503, down)] * 3)
    sleeps: list[float] = []
    with pytest.raises(UnavailableError) as caught:
        export(rfc(), servicenow(remote), sleeps=sleeps)
    message = caught.value.message
    assert message == (
        f"ServiceNow could not create the change request: POST {remote.base_url}{SN_TABLE}"
        "?sysparm_input_display_value=false&sysparm_fields=sys_id%2Cnumber"
        "&sysparm_exclude_reference_link=true answered 503 Service Unavailable: "
        "Instance is hibernating (tried 3 times)"
    )
    assert caught.value.exit_code == 3
    assert sleeps == [1.0, 2.0]
    assert remote.changes == {}


def test_401_is_a_configuration_error_that_never_shows_the_token(
    remote: FakeRemote, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    remote.authorization = "Bearer another-token"
    sleeps: list[float] = []
    with pytest.raises(ConfigError) as caught:
        export(rfc(), servicenow(remote), sleeps=sleeps)
    error = caught.value
    assert error.message == (
        f"ServiceNow refused to search change requests for CHG-57: GET {remote.base_url}"
        f"{SN_TABLE}?sysparm_query=correlation_display%3Dchangeproof%5Ecorrelation_id%3DCHG-57"
        "&sysparm_fields=sys_id%2Cnumber%2Ccorrelation_id%2Ccorrelation_display"
        "&sysparm_limit=10&sysparm_exclude_reference_link=true answered 401 Unauthorized: "
        "User Not Authenticated (Required to provide Auth information)"
    )
    assert error.hint() == "check the token in SERVICENOW_TOKEN; is it expired?"
    assert sleeps == []  # a 401 will not pass by asking again
    assert TOKEN not in f"{error.message} {error.hint()} {caplog.text}"
    assert remote.problems == []


def test_a_token_the_remote_echoes_is_redacted(remote: FakeRemote) -> None:
    remote.authorization = "nobody"
    basic = base64.b64encode(f"integration:{TOKEN}".encode()).decode()
    echo = {"error": {"message": f"bad credentials {TOKEN} / {basic}"}, "status": "failure"}
    remote.fail("GET", SN_TABLE, Fault(403, echo))
    with pytest.raises(ConfigError) as caught:
        export(rfc(), servicenow(remote, user="integration"))
    assert "bad credentials [redacted] / [redacted]" in caught.value.message
    assert TOKEN not in caught.value.message
    assert "itil" in (caught.value.hint() or "")


def test_a_malformed_create_answer_is_an_error_and_exporting_again_finds_the_record(
    remote: FakeRemote,
) -> None:
    remote.fail("POST", SN_TABLE, Fault(201, raw=b"<html>Logged out</html>", process=True))
    with pytest.raises(UnavailableError) as caught:
        export(rfc(), servicenow(remote))
    assert "answered POST" in caught.value.message
    assert "with 201 and a body that is not a JSON object" in caught.value.message
    assert "exporting again finds it" in (caught.value.hint() or "")
    ticket = export(rfc(), servicenow(remote))
    assert list(remote.changes) == [ticket.remote_id]


def test_a_created_record_without_sys_id_is_an_error_naming_the_field(remote: FakeRemote) -> None:
    remote.fail("POST", SN_TABLE, Fault(201, {"result": {"number": "CHG0000001"}}))
    with pytest.raises(UnavailableError, match=r"with 201 and no result\.sys_id"):
        export(rfc(), servicenow(remote))


def test_search_rows_that_are_not_ours_are_not_taken_for_ours(remote: FakeRemote) -> None:
    # The Table API drops query parts it cannot read and then returns every row.
    stranger = {
        "sys_id": "b" * 32,
        "number": "CHG0000009",
        "correlation_id": "",
        "correlation_display": "",
    }
    remote.fail("GET", SN_TABLE, Fault(200, {"result": [stranger]}))
    ticket = export(rfc(), servicenow(remote))
    assert ticket.remote_id != "b" * 32
    assert remote.calls()[-1] == f"POST {SN_TABLE}"


def test_two_records_with_this_change_id_are_a_conflict(remote: FakeRemote) -> None:
    export(rfc(), servicenow(remote))
    [record] = remote.changes.values()
    remote.changes["d" * 32] = {**record, "sys_id": "d" * 32, "number": "CHG3000002"}
    with pytest.raises(ConflictError, match="ServiceNow has 2 records with correlation id CHG-57"):
        export(rfc(), servicenow(remote))


def test_updating_a_record_that_is_gone_is_not_found(remote: FakeRemote) -> None:
    gone = RemoteTicket(TicketingSystem.SERVICENOW, "c" * 32, "CHG0000001", "")
    with pytest.raises(NotFoundError, match="404 Not Found: No Record found") as caught:
        export(rfc(), servicenow(remote), gone)
    assert "export without the remembered id" in (caught.value.hint() or "")


def test_a_remembered_id_is_checked_before_it_goes_into_a_path(remote: FakeRemote) -> None:
    bad = RemoteTicket(TicketingSystem.SERVICENOW, "../../sys_user", "CHG1", "")
    with pytest.raises(InputError, match="is not one"):
        export(rfc(), servicenow(remote), bad)
    jira_ticket = RemoteTicket(TicketingSystem.JIRA, "10001", "PAY-1", "")
    with pytest.raises(UsageError):
        export(rfc(), servicenow(remote), jira_ticket)
    assert remote.seen == []


def test_a_malformed_rfc_sends_nothing(remote: FakeRemote) -> None:
    with pytest.raises(InputError, match="/classification is missing"):
        export({"id": "CHG-1", "title": "t"}, servicenow(remote))
    assert remote.seen == []


def test_a_server_that_cannot_be_reached_is_unavailable_after_the_retries() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = TicketingConfig(TicketingSystem.SERVICENOW, f"http://127.0.0.1:{port}", TOKEN)
    sleeps: list[float] = []
    with pytest.raises(UnavailableError, match=r"could not connect \(tried 3 times\)"):
        export(rfc(), config, sleeps=sleeps)
    assert sleeps == [1.0, 2.0]


def test_a_timeout_is_retried_through_an_injected_transport() -> None:
    answers: list[httpx.Response | Exception] = [
        httpx.ReadTimeout("slow"),
        httpx.Response(200, json={"result": {"sys_id": "e" * 32, "number": "CHG0000042"}}),
    ]

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.method == "PATCH"
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        next_answer = answers.pop(0)
        if isinstance(next_answer, Exception):
            raise next_answer
        return next_answer

    known = RemoteTicket(TicketingSystem.SERVICENOW, "e" * 32, "CHG0000042", "")
    config = TicketingConfig(TicketingSystem.SERVICENOW, "https://example.service-now.com", TOKEN)
    sleeps: list[float] = []
    ticket = export_change(
        rfc(), config, known, transport=httpx.MockTransport(answer), sleep=sleeps.append
    )
    assert ticket.url == "https://example.service-now.com/change_request.do?sys_id=" + "e" * 32
    assert sleeps == [1.0]
    assert answers == []


# --- Jira ------------------------------------------------------------------------------------


def test_jira_cloud_v3_creates_an_issue_with_an_adf_description(remote: FakeRemote) -> None:
    remote.authorization = "Basic " + base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
    ticket = export(rfc(), jira_config(remote, user=EMAIL, issue_type="Change"))
    assert remote.calls() == ["GET /rest/api/3/search/jql", "POST /rest/api/3/issue"]
    assert remote.seen[0].query["jql"] == ['project = "PAY" AND labels = "changeproof-CHG-57"']
    assert ticket == RemoteTicket(
        TicketingSystem.JIRA, "10001", "PAY-1", f"{remote.base_url}/browse/PAY-1"
    )
    expected = issue_create_body(rfc(), project="PAY", issue_type="Change", api_version=3)
    assert remote.seen[1].body == json.loads(json.dumps(expected))


def test_jira_data_center_v2_creates_then_updates_keeping_people_s_labels(
    remote: FakeRemote,
) -> None:
    config = jira_config(remote, deployment=JiraDeployment.DATA_CENTER, api_version=2)
    ticket = export(rfc(), config)
    assert remote.calls() == ["GET /rest/api/2/search", "POST /rest/api/2/issue"]
    assert isinstance(remote.seen[1].body["fields"]["description"], str)
    remote.issues[ticket.remote_id]["fields"]["labels"].append("cab-reviewed")
    remote.seen.clear()
    again = export(rfc(title="Deploy payments/1.4.1 to production"), config, ticket)
    assert remote.calls() == [f"PUT /rest/api/2/issue/{ticket.remote_id}"]
    assert again == ticket
    fields = remote.issues[ticket.remote_id]["fields"]
    assert fields["summary"] == "CHG-57: Deploy payments/1.4.1 to production"
    assert fields["labels"] == ["changeproof", "changeproof-CHG-57", "cab-reviewed"]


def test_jira_lost_create_response_is_found_by_its_label(remote: FakeRemote) -> None:
    remote.fail("POST", "/rest/api/3/issue", Fault(process=True, drop=True))
    sleeps: list[float] = []
    ticket = export(rfc(), jira_config(remote), sleeps=sleeps)
    assert remote.calls() == [
        "GET /rest/api/3/search/jql",
        "POST /rest/api/3/issue",
        "GET /rest/api/3/search/jql",
        "PUT /rest/api/3/issue/10001",
    ]
    assert ticket.key == "PAY-1"
    assert len(remote.issues) == 1
    assert sleeps == [1.0]


def test_jira_field_errors_are_input_errors_with_jira_s_words(remote: FakeRemote) -> None:
    config = jira_config(remote, fields={"customfield_10010": "x"})
    with pytest.raises(InputError) as caught:
        export(rfc(), config)
    assert caught.value.message.endswith(
        "answered 400 Bad Request: customfield_10010: Field 'customfield_10010' cannot be set. "
        "It is not on the appropriate screen."
    )
    assert "[jira] fields" in (caught.value.hint() or "")


def test_jira_403_names_the_permissions(remote: FakeRemote) -> None:
    denied = {"errorMessages": ["You do not have permission to create issues in this project."]}
    remote.fail("POST", "/rest/api/3/issue", Fault(403, denied))
    with pytest.raises(ConfigError, match="403 Forbidden: You do not have permission") as caught:
        export(rfc(), jira_config(remote))
    assert "Create and Edit issues permissions in PAY" in (caught.value.hint() or "")


def test_a_redirect_is_a_configuration_error(remote: FakeRemote) -> None:
    remote.fail(
        "GET", "/rest/api/3/search/jql", Fault(302, headers={"Location": "https://sso/login"})
    )
    with pytest.raises(ConfigError, match=r"redirected to https://sso/login"):
        export(rfc(), jira_config(remote))


def test_a_created_issue_without_a_key_is_an_error_naming_the_field(remote: FakeRemote) -> None:
    remote.fail("POST", "/rest/api/3/issue", Fault(201, {"id": "10001", "self": "x"}))
    with pytest.raises(UnavailableError, match="with 201 and no key"):
        export(rfc(), jira_config(remote))


def test_jira_malformed_json_is_unavailable(remote: FakeRemote) -> None:
    remote.fail("GET", "/rest/api/3/search/jql", Fault(200, raw=b'{"issues": [}'))
    with pytest.raises(UnavailableError, match="a body that is not a JSON object") as caught:
        export(rfc(), jira_config(remote))
    assert "base_url" in (caught.value.hint() or "")


def test_jira_5xx_then_success(remote: FakeRemote) -> None:
    remote.fail("PUT", "/rest/api/3/issue/10001", Fault(502), Fault(504))
    ticket = export(rfc(), jira_config(remote))
    sleeps: list[float] = []
    assert export(rfc(), jira_config(remote), ticket, sleeps=sleeps) == ticket
    assert sleeps == [1.0, 2.0]


# --- configuration ---------------------------------------------------------------------------

_CONFIG = """
[servicenow]
base_url = "https://example.service-now.com/"
user = "changeproof.integration"
token_env = "SERVICENOW_TOKEN"
timeout_seconds = 5
fields = { assignment_group = "0123456789abcdef0123456789abcdef" }

[jira]
base_url = "https://example.atlassian.net"
user = "bot@example.com"
token_env = "JIRA_TOKEN"
project = "PAY"
issue_type = "Change"
fields = { components = [{ name = "payments" }] }
"""


def test_config_tables_load_with_the_token_from_the_environment() -> None:
    doc = tomllib.loads(_CONFIG)
    environ = {"SERVICENOW_TOKEN": TOKEN, "JIRA_TOKEN": TOKEN}
    sn = load_ticketing_config("servicenow", doc["servicenow"], environ)
    assert sn.base_url == "https://example.service-now.com"
    assert (sn.user, sn.token, sn.timeout_seconds, sn.max_attempts) == (
        "changeproof.integration",
        TOKEN,
        5.0,
        3,
    )
    assert sn.fields == {"assignment_group": "0123456789abcdef0123456789abcdef"}
    jira = load_ticketing_config("jira", doc["jira"], environ)
    assert (jira.deployment, jira.api_version, jira.project, jira.issue_type) == (
        JiraDeployment.CLOUD,
        3,
        "PAY",
        "Change",
    )
    assert TOKEN not in repr(jira)
    dc = load_ticketing_config(
        "jira",
        {
            "base_url": "https://jira.example.com/jira",
            "token_env": "JIRA_TOKEN",
            "project": "PAY",
            "deployment": "data-center",
        },
        environ,
    )
    assert (dc.api_version, dc.user) == (2, None)


@pytest.mark.parametrize(
    ("system", "table", "message"),
    [
        ("github", {}, "no ticketing system 'github'"),
        ("servicenow", {"base_url": "https://x", "token": TOKEN}, "holds a token"),
        (
            "servicenow",
            {"base_url": "https://x", "token_env": "T", "colour": "red"},
            "unknown keys: colour",
        ),
        ("servicenow", {"token_env": "T"}, "base_url is missing"),
        ("servicenow", {"base_url": "https://x"}, "token_env is missing"),
        ("servicenow", {"base_url": "https://x", "token_env": "UNSET"}, "UNSET"),
        ("servicenow", {"base_url": "http://example.com", "token_env": "T"}, "must use https"),
        ("servicenow", {"base_url": "https://u:p@x", "token_env": "T"}, "no user, password"),
        (
            "servicenow",
            {"base_url": "https://x", "token_env": "T", "fields": {"type": "normal"}},
            "may not set type",
        ),
        (
            "servicenow",
            {"base_url": "https://x", "token_env": "T", "fields": {"u_n": 1}},
            "must be strings",
        ),
        (
            "servicenow",
            {"base_url": "https://x", "token_env": "T", "max_attempts": 0},
            "max_attempts",
        ),
        (
            "servicenow",
            {"base_url": "https://x", "token_env": "T", "source": "a b"},
            "cannot label",
        ),
        ("jira", {"base_url": "https://x", "token_env": "T"}, "project is missing"),
        (
            "jira",
            {
                "base_url": "https://x",
                "token_env": "T",
                "project": "PAY",
                "deployment": "data-center",
                "api_version": 3,
            },
            "REST API 2 only",
        ),
        (
            "jira",
            {"base_url": "https://x", "token_env": "T", "project": "PAY", "api_version": 4},
            "api_version must be 2 or 3",
        ),
        (
            "jira",
            {"base_url": "https://x", "token_env": "T", "project": "PAY", "fields": {"labels": []}},
            "may not set labels",
        ),
    ],
)
def test_config_errors_name_the_key(system: str, table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_ticketing_config(system, table, {"T": TOKEN})
    assert message in f"{caught.value.message} {caught.value.hint()}"
    assert TOKEN not in f"{caught.value.message} {caught.value.hint()}"


def test_a_token_with_spaces_or_newlines_is_refused_without_being_shown() -> None:
    with pytest.raises(ConfigError) as caught:
        TicketingConfig(
            TicketingSystem.SERVICENOW,
            "https://x",
            "abc\ndef",
            token_env="SN",  # noqa: S106  # a variable's name
        )
    assert "abc" not in caught.value.message
    assert "SN" in (caught.value.hint() or "")


# --- Redaction of everything the remote says ---------------------------------------------


def _refusing(status: int, **answer: Any) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, **answer)

    return httpx.MockTransport(handle)


# A token whose URL-encoded and form-encoded forms differ from it.
SPECIAL = "s3cr3t+T0KEN/v@lue&x=1"  # a test token


def _sn_export(transport: httpx.MockTransport, user: str | None = None) -> ChangeproofError:
    config = TicketingConfig(
        TicketingSystem.SERVICENOW, "https://example.service-now.com", SPECIAL, user=user
    )
    with pytest.raises(ChangeproofError) as caught:
        export_change(rfc(), config, None, transport=transport, sleep=lambda _: None)
    return caught.value


def test_a_reason_phrase_echoing_the_token_is_redacted() -> None:
    """ServiceNow's documented 401 body, behind a proxy whose reason phrase echoes the
    credential it was sent, plainly and URL-encoded."""
    phrase = f"Unauthorized for {SPECIAL} ({quote(SPECIAL, safe='')})"
    body = {"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth"}}
    error = _sn_export(_refusing(401, json=body, extensions={"reason_phrase": phrase.encode()}))
    assert "answered 401 Unauthorized for [redacted] ([redacted])" in error.message
    assert SPECIAL not in error.message
    assert quote(SPECIAL, safe="") not in error.message


def test_a_location_header_carrying_the_token_is_redacted_and_cut() -> None:
    location = f"https://sso.example.com/login?token={quote(SPECIAL, safe='')}&next=" + "x" * 400
    error = _sn_export(_refusing(302, headers={"Location": location}))
    assert "redirected to https://sso.example.com/login?token=[redacted]&next=xxx" in error.message
    assert quote(SPECIAL, safe="") not in error.message
    assert "x" * 300 not in error.message
    assert "…" in error.message


@pytest.mark.parametrize(
    "echo",
    [
        quote(SPECIAL, safe=""),
        quote_plus(SPECIAL),
        base64.b64encode(SPECIAL.encode()).decode(),
        base64.b64encode(f"integration:{SPECIAL}".encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(f"integration:{SPECIAL}".encode()).decode(),
        SPECIAL.encode().hex().upper(),
    ],
    ids=["url-encoded", "form-encoded", "base64", "basic-unpadded", "basic-url-safe", "hex"],
)
def test_encoded_forms_of_the_credential_in_a_body_are_redacted(echo: str) -> None:
    body = {"error": {"message": f"bad credentials {echo}", "detail": "fake"}, "status": "failure"}
    error = _sn_export(_refusing(403, json=body), user="integration")
    assert "bad credentials [redacted]" in error.message
    assert echo not in error.message


def test_a_secret_at_the_cut_of_a_long_message_leaves_no_part_behind() -> None:
    """The message is cut to 500 characters after it is redacted, not before."""
    text = "y" * 490 + SPECIAL
    error = _sn_export(_refusing(403, json={"error": {"message": text}}))
    assert SPECIAL[:6] not in error.message
