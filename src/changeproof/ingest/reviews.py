"""Code-review evidence: who reviewed which commit of whose change, and what they said.

`read_review` accepts one review per file, in one of three flavours, recognised from the
content (or forced with `flavour=`):

github
    A GitHub `pull_request_review` webhook payload (actions `submitted`, `edited`,
    `dismissed`). The reviewer is `review.user.login`; the state is `review.state`
    (`approved`, `changes_requested`, `commented`, `dismissed`, `pending`; the REST API's
    upper-case forms too), and the action `dismissed` makes it `dismissed` whatever the state
    says. The reviewed commit is `review.commit_id`; payloads from before GitHub sent that
    field fall back to `pull_request.head.sha`, and the reading says which one it used
    (`reviewed_sha_source`). The change's author is `pull_request.user.login`.

gitlab
    A GitLab merge request hook (`object_kind: merge_request`) whose
    `object_attributes.action` is `approval` / `approved` (an approval: reviewer
    `user.username`, commit `object_attributes.last_commit.id`) or `unapproval` /
    `unapproved` (an approval withdrawn: `dismissed`). The hook names the change's author by
    id only (`object_attributes.author_id`), so `author` is unknown unless the approver is
    the author.

generic
    A small JSON object for any other review system::

        {
          "reviewer": "alice@example.com",           # required: login or email
          "state": "approved",                       # required: approved | changes_requested
                                                     #   | commented | dismissed
          "reviewed_sha": "<40 lowercase hex>",      # required: the commit reviewed
          "author": "bob@example.com",               # the change's author
          "change_id": "payments!34",                # how the review system names the change
          "repository": "acme/payments",
          "commits": ["<40 lowercase hex>", ...],    # the change's commits
          "submitted_at": "2026-11-25T12:00:00Z"     # RFC 3339, with an offset
        }

    Unknown fields are an error, so a typo cannot silently drop a fact.

Everything else is refused with a `ReadError` that says what the file is: other GitHub
events (`pull_request`, `push`, `check_suite`, `deployment`, `workflow_run`, ...) carry no
reviewer; GitHub's REST review lists and GitLab's approvals API response hold several
reviews, or none bound to a commit, and one file is one review here.

A self-review (the reviewer is the change's author) is read as it is, with a note: whether
it counts is for the policy's controls to decide, not for the reader.

`verify_github_signature` and `verify_gitlab_token` authenticate a delivery before it is
read: GitHub's `X-Hub-Signature-256` (HMAC-SHA256 of the raw body) and GitLab's
`X-Gitlab-Token` (a shared secret), both compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from changeproof.domain.canonical import JsonValue
from changeproof.domain.evidence import EvidenceKind, Reading, Review, ReviewState
from changeproof.ingest.errors import ReadError
from changeproof.ingest.jsondoc import load_json, pointer

__all__ = [
    "FLAVOURS",
    "read_review",
    "verify_github_signature",
    "verify_gitlab_token",
]

FLAVOURS: Final = ("github", "gitlab", "generic")

_SHA1_HEX: Final = re.compile(r"[0-9a-f]{40}")
_MAX_SAFE_INT: Final = 2**53 - 1
_USE_A_REVIEW: Final = (
    "give a GitHub pull_request_review webhook payload, a GitLab merge request approval hook, "
    "or the generic review form described in changeproof.ingest.reviews"
)

_CONFIGURE_HINT: Final = "configure the webhook secret changeproof should expect"

_GITHUB_STATES: Final = {
    "approved": ReviewState.APPROVED,
    "changes_requested": ReviewState.CHANGES_REQUESTED,
    "commented": ReviewState.COMMENTED,
    "dismissed": ReviewState.DISMISSED,
    "pending": ReviewState.PENDING,
}
_GITHUB_ACTIONS: Final = ("submitted", "edited", "dismissed")
_GITLAB_ACTIONS: Final = {
    "approval": ReviewState.APPROVED,  # one approval was added
    "approved": ReviewState.APPROVED,  # ... and with it the merge request became approved
    "unapproval": ReviewState.DISMISSED,  # one approval was withdrawn
    "unapproved": ReviewState.DISMISSED,  # ... and with it the merge request lost approval
}

# Other GitHub webhook events, told apart by their top-level keys (GitHub names the event
# only in the X-GitHub-Event header). First match wins: several payloads hold more than one
# of these objects (a deployment_status payload also has deployment and workflow_run).
_GITHUB_EVENTS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("pull_request_review_comment", ("comment", "pull_request")),
    ("pull_request_review_thread", ("thread", "pull_request")),
    ("pull_request", ("pull_request",)),
    ("deployment_status", ("deployment_status",)),
    ("deployment", ("deployment",)),
    ("check_suite", ("check_suite",)),
    ("check_run", ("check_run",)),
    ("workflow_job", ("workflow_job",)),
    ("workflow_run", ("workflow_run",)),
    ("issue_comment", ("issue", "comment")),
    ("issues", ("issue",)),
    ("release", ("release",)),
    ("push", ("pusher",)),
    ("push", ("ref", "before", "after", "commits")),
    ("create or delete", ("ref", "ref_type")),
    ("status", ("sha", "state", "context")),
)


# --- signatures ---------------------------------------------------------------------------


def verify_github_signature(body: bytes, header: str | None, secret: bytes) -> None:
    """Check `X-Hub-Signature-256: sha256=<hex>`, GitHub's HMAC-SHA256 of the raw body.

    Raises `ReadError` when the header is missing or malformed or does not match; the
    expected digest is never put in the message.
    """
    name = "X-Hub-Signature-256"
    if not secret:
        raise ReadError(name, "no webhook secret to check the signature with", hint=_CONFIGURE_HINT)
    if header is None or not header.strip():
        raise ReadError(
            name,
            "the delivery is not signed (no X-Hub-Signature-256 header)",
            hint="set a secret on the GitHub webhook so that GitHub signs every delivery",
        )
    value = header.strip()
    if value.startswith("sha1="):
        raise ReadError(
            name,
            "that is the legacy SHA-1 signature (X-Hub-Signature); it is not accepted",
            hint="pass the X-Hub-Signature-256 header, which GitHub sends beside it",
        )
    if not value.startswith("sha256="):
        raise ReadError(name, "the signature does not start with 'sha256='")
    digest = value.removeprefix("sha256=")
    if len(digest) != 64 or not all(c in "0123456789abcdefABCDEF" for c in digest):
        raise ReadError(name, "the signature is not 64 hexadecimal digits after 'sha256='")
    expected = hmac.new(secret, body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, bytes.fromhex(digest)):
        raise ReadError(
            name,
            "the signature does not match the body",
            hint="check the webhook secret; otherwise the body was changed after GitHub signed "
            "it (verify the raw bytes received, before any JSON re-encoding)",
        )


def verify_gitlab_token(header: str | None, secret: str) -> None:
    """Check `X-Gitlab-Token` against the webhook's secret token, in constant time."""
    name = "X-Gitlab-Token"
    if not secret:
        raise ReadError(name, "no webhook secret token to check against", hint=_CONFIGURE_HINT)
    if header is None or not header:
        raise ReadError(
            name,
            "the delivery carries no X-Gitlab-Token header",
            hint="set a secret token on the GitLab webhook",
        )
    if not hmac.compare_digest(header.encode("utf-8", "surrogatepass"), secret.encode("utf-8")):
        raise ReadError(name, "the token does not match the webhook's secret token")


# --- reading ------------------------------------------------------------------------------


def read_review(data: bytes, source: str, *, flavour: str | None = None) -> Reading:
    """Read one code review; `flavour` ("github", "gitlab", "generic") skips recognition."""
    if flavour is not None and flavour not in FLAVOURS:
        raise ReadError(source, f"unknown review flavour {flavour!r} (github, gitlab or generic)")
    doc = load_json(data, source)
    if isinstance(doc, list):
        raise _array_error(doc, source)
    if not isinstance(doc, dict):
        raise ReadError(source, f"a JSON {_json_type(doc)}, not a review", hint=_USE_A_REVIEW)
    seen = _recognise(doc)
    if flavour is not None and seen is not None and seen != flavour:
        raise ReadError(
            source,
            f"the {flavour} flavour was asked for, but this looks like a {seen} document",
            hint="leave the flavour out to let the reader recognise it",
        )
    chosen = flavour or seen
    root = _Node(doc, source)
    if chosen == "github":
        return _github(root)
    if chosen == "gitlab":
        return _gitlab(root)
    if chosen == "generic":
        return _generic(doc, source)
    raise _not_a_review(doc, source)


def _recognise(doc: Mapping[str, object]) -> str | None:
    if "object_kind" in doc:
        return "gitlab"
    if "review" in doc and "pull_request" in doc:
        return "github"
    if "reviewer" in doc:
        return "generic"
    return None


def _not_a_review(doc: Mapping[str, object], source: str) -> ReadError:
    if "approved_by" in doc:
        return ReadError(
            source,
            "a GitLab merge request approvals API response, not a review: it lists approvers "
            "without the commit each of them approved",
            hint="record approvals from GitLab's merge request hook (action 'approval'), "
            "or one generic review per approver with its reviewed_sha",
        )
    if {"user", "state", "commit_id"} <= doc.keys():
        return ReadError(
            source,
            "a GitHub REST API review object, not a webhook payload: it does not name the "
            "pull request's author",
            hint=_USE_A_REVIEW,
        )
    event = _github_event(doc)
    if event is not None:
        action = doc.get("action")
        what = f"a GitHub {event} event"
        if isinstance(action, str) and _text_ok(action):
            what += f" (action {action[:60]!r})"
        problem = f"{what}, not a review"
        if event == "pull_request":
            problem += ": it names the change's author and head commit but no reviewer"
        return ReadError(
            source,
            problem,
            hint="use the pull_request_review webhook payload (or the generic review form) "
            "as review evidence",
        )
    return ReadError(source, "not a review this reader knows", hint=_USE_A_REVIEW)


def _github_event(doc: Mapping[str, object]) -> str | None:
    for event, keys in _GITHUB_EVENTS:
        if all(k in doc for k in keys):
            return event
    return None


def _array_error(doc: list[object], source: str) -> ReadError:
    if doc and all(isinstance(d, dict) and {"user", "state"} <= d.keys() for d in doc):
        return ReadError(
            source,
            f"a list of {len(doc)} reviews (GitHub's REST API 'list reviews for a pull "
            "request'), not one review; and it does not name the pull request's author",
            hint="give one review per file: " + _USE_A_REVIEW,
        )
    return ReadError(source, "a JSON array, not a review", hint=_USE_A_REVIEW)


# --- GitHub -------------------------------------------------------------------------------


def _github(root: _Node) -> Reading:
    if "review" not in root.mapping():
        raise _not_a_review(root.mapping(), root.source)
    notes: list[str] = []
    action = root.get("action").text()
    if action not in _GITHUB_ACTIONS:
        raise root.get("action").error(
            f"unknown pull_request_review action {action[:60]!r} (expected one of "
            f"{', '.join(_GITHUB_ACTIONS)})"
        )
    review = root.get("review")
    reviewer = review.get("user").get("login").text()
    state_node = review.get("state")
    raw_state = state_node.text()
    state = _GITHUB_STATES.get(raw_state.lower())
    if state is None:
        raise state_node.error(
            f"unknown review state {raw_state[:60]!r} (expected approved, changes_requested, "
            "commented, dismissed or pending)"
        )
    if action == "dismissed" and state is not ReviewState.DISMISSED:
        notes.append(
            f"the review says {raw_state!r} but the action is 'dismissed': read as dismissed"
        )
        state = ReviewState.DISMISSED

    pull = root.get("pull_request")
    head_sha = pull.get("head").get("sha").sha()
    commit = review.get("commit_id")
    if commit.absent_or_null():
        reviewed_sha, sha_source = head_sha, "pull_request.head.sha"
        notes.append(
            "the review does not say which commit it was on (no review.commit_id): "
            f"using the pull request's head {head_sha}"
        )
    else:
        reviewed_sha, sha_source = commit.sha(), "review.commit_id"
        if reviewed_sha != head_sha:
            notes.append(
                f"the review is on commit {reviewed_sha}, not on the pull request's head {head_sha}"
            )

    author_node = pull.get("user")
    author: str | None
    if author_node.absent_or_null():
        author = None
        notes.append("the pull request names no author (a deleted account?)")
    else:
        author = author_node.get("login").text()

    number = pull.get("number").positive_int()
    repo_node = root.get("repository")
    repository = None if repo_node.absent_or_null() else repo_node.get("full_name").text()
    change_id = f"{repository}#{number}" if repository is not None else f"#{number}"
    submitted_at = review.get("submitted_at").timestamp()

    extra: dict[str, JsonValue] = {
        "event": "pull_request_review",
        "action": action,
        "review_state": raw_state,
        "head_sha": head_sha,
        "pull_request_number": number,
    }
    review_id = _safe_int(review.mapping().get("id"))
    if review_id is not None:
        extra["review_id"] = review_id
    association = review.get("author_association").optional_text()
    if association is not None:
        extra["author_association"] = association
    result = Review(
        platform="github",
        reviewer=reviewer,
        state=state,
        reviewed_sha=reviewed_sha,
        reviewed_sha_source=sha_source,
        author=author,
        change_id=change_id,
        repository=repository,
        submitted_at=submitted_at,
    )
    return _reading(result, "github/pull_request_review", extra, notes)


# --- GitLab -------------------------------------------------------------------------------


def _gitlab(root: _Node) -> Reading:
    kind = root.get("object_kind").text()
    if kind != "merge_request":
        raise ReadError(
            root.source,
            f"a GitLab {kind[:60]} event, not a merge request approval",
            hint="GitLab sends approvals as merge request events with action 'approval' or "
            "'approved'",
        )
    attributes = root.get("object_attributes")
    action_node = attributes.get("action")
    action = action_node.optional_text()
    state = _GITLAB_ACTIONS.get(action or "")
    if state is None:
        what = f"{action[:60]!r} event" if action is not None else "event with no action"
        raise action_node.error(
            f"a GitLab merge request {what}, not an approval",
            hint="GitLab sends approvals as merge request events with action 'approval' or "
            "'approved' (and withdrawals with 'unapproval' or 'unapproved')",
        )
    notes: list[str] = []
    user = root.get("user")
    reviewer = user.get("username").text()
    reviewed_sha = attributes.get("last_commit").get("id").sha()
    iid = attributes.get("iid").positive_int()
    project = root.get("project")
    repository = project.get("path_with_namespace").text()

    extra: dict[str, JsonValue] = {
        "event": "merge_request",
        "action": action,
        "merge_request_iid": iid,
    }
    author: str | None = None
    author_id = _safe_int(attributes.mapping().get("author_id"))
    user_id = _safe_int(user.mapping().get("id"))
    if author_id is not None:
        extra["author_id"] = author_id
    if author_id is not None and author_id == user_id:
        author = reviewer  # the hook names the approver in full, and the author is the approver
    else:
        notes.append(
            "GitLab's merge request hook names the author by user id only"
            + (f" ({author_id})" if author_id is not None else "")
            + ": the author's username is not known from this file"
        )
    if attributes.mapping().get("system") is True:  # GitLab 18.6+: GitLab acted, not a person
        system_action = attributes.get("system_action").optional_text()
        extra["system"] = True
        extra["system_action"] = system_action
        if state is ReviewState.DISMISSED:
            notes.append(
                "GitLab itself withdrew approval"
                + (f" ({system_action})" if system_action else "")
                + ": every earlier approval of this merge request is void"
            )
    updated_at = attributes.get("updated_at").optional_text()
    if updated_at is not None:
        extra["merge_request_updated_at"] = updated_at
    result = Review(
        platform="gitlab",
        reviewer=reviewer,
        state=state,
        reviewed_sha=reviewed_sha,
        reviewed_sha_source="object_attributes.last_commit.id",
        author=author,
        change_id=f"{repository}!{iid}",
        repository=repository,
    )
    return _reading(result, "gitlab/merge_request", extra, notes)


# --- generic ------------------------------------------------------------------------------


def _commit_sha(value: str) -> str:
    if not _SHA1_HEX.fullmatch(value):
        raise ValueError("not a full commit SHA (40 lowercase hexadecimal digits)")
    return value


def _rfc3339(value: str) -> str:
    _parse_time(value)
    return value


_Text = Annotated[str, StringConstraints(min_length=1)]  # pydantic refuses lone surrogates
_Sha = Annotated[str, AfterValidator(_commit_sha)]
_Time = Annotated[str, AfterValidator(_rfc3339)]


class _GenericReview(BaseModel):
    """The generic review form (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    reviewer: _Text
    state: Literal["approved", "changes_requested", "commented", "dismissed"]
    reviewed_sha: _Sha
    author: _Text | None = None
    change_id: _Text | None = None
    repository: _Text | None = None
    commits: list[_Sha] = Field(default_factory=list)
    submitted_at: _Time | None = None


def _generic(doc: Mapping[str, object], source: str) -> Reading:
    try:
        form = _GenericReview.model_validate(doc)
    except ValidationError as e:
        raise _pydantic_error(e, source) from e
    notes: list[str] = []
    commits = tuple(dict.fromkeys(form.commits))
    if commits and form.reviewed_sha not in commits:
        notes.append(f"the reviewed commit {form.reviewed_sha} is not among the change's commits")
    if form.author is None:
        notes.append("the review does not name the change's author")
    result = Review(
        platform="generic",
        reviewer=form.reviewer,
        state=ReviewState(form.state),
        reviewed_sha=form.reviewed_sha,
        reviewed_sha_source="reviewed_sha",
        author=form.author,
        change_id=form.change_id,
        repository=form.repository,
        submitted_at=form.submitted_at,
        commits=commits,
    )
    return _reading(result, "generic/review", {}, notes)


def _pydantic_error(error: ValidationError, source: str) -> ReadError:
    problems = error.errors(include_url=False, include_input=False)
    # An unknown field first: it is usually a misspelt one, and explains the "missing" after it.
    first = min(problems, key=lambda p: p["type"] != "extra_forbidden")
    loc = tuple(first["loc"])
    if first["type"] == "extra_forbidden":
        fields = ", ".join(_GenericReview.model_fields)
        problem = f"unknown field {loc[-1]!r} (the generic review form has: {fields})"
    elif first["type"] == "missing":
        problem = f"the required field {loc[-1]!r} is missing"
    else:
        problem = str(first["msg"]).removeprefix("Value error, ")
    if len(problems) > 1:
        more = len(problems) - 1
        problem += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ReadError(source, problem, pointer=pointer(*loc))


# --- the reading --------------------------------------------------------------------------


def _reading(
    review: Review, format_: str, extra: Mapping[str, JsonValue], notes: list[str]
) -> Reading:
    if review.author is not None and review.reviewer.casefold() == review.author.casefold():
        notes.insert(
            0,
            f"self-review: {review.reviewer} reviewed their own change; an independent-review "
            "control must not count it",
        )
    summary: dict[str, JsonValue] = {
        "platform": review.platform,
        "reviewer": review.reviewer,
        "state": review.state.value,
        "reviewed_sha": review.reviewed_sha,
        "reviewed_sha_source": review.reviewed_sha_source,
        "author": review.author,
        "change_id": review.change_id,
        "repository": review.repository,
        "submitted_at": review.submitted_at,
    }
    detail: dict[str, JsonValue] = {**summary, "commits": list(review.commits), **extra}
    commits = tuple(dict.fromkeys((*filter(None, [review.reviewed_sha]), *review.commits)))
    return Reading(
        kind=EvidenceKind.REVIEW,
        format=format_,
        summary=summary,
        detail=detail,
        commits=commits,
        notes=tuple(notes),
    )


# --- walking a JSON document --------------------------------------------------------------


class _Absent:
    """What a `_Node` holds where the document has no such member."""


_ABSENT: Final = _Absent()


class _Node:
    """A value in a JSON document and the pointer to it, so every error says where."""

    __slots__ = ("path", "source", "value")

    def __init__(self, value: object, source: str, path: tuple[str | int, ...] = ()) -> None:
        self.value = value
        self.source = source
        self.path = path

    def error(self, problem: str, *, hint: str | None = None) -> ReadError:
        return ReadError(self.source, problem, pointer=pointer(*self.path), hint=hint)

    def mapping(self) -> Mapping[str, object]:
        if isinstance(self.value, _Absent):
            raise self.error("missing")
        if not isinstance(self.value, dict):
            raise self.error(f"expected an object, found {_json_type(self.value)}")
        return self.value

    def get(self, key: str) -> _Node:
        return _Node(self.mapping().get(key, _ABSENT), self.source, (*self.path, key))

    def absent_or_null(self) -> bool:
        return self.value is None or isinstance(self.value, _Absent)

    def text(self) -> str:
        if isinstance(self.value, _Absent):
            raise self.error("missing")
        if not isinstance(self.value, str):
            raise self.error(f"expected a string, found {_json_type(self.value)}")
        if not self.value:
            raise self.error("empty")
        if not _text_ok(self.value):
            raise self.error("text with a lone surrogate (not valid Unicode)")
        return self.value

    def optional_text(self) -> str | None:
        return None if self.absent_or_null() else self.text()

    def positive_int(self) -> int:
        value = self.value
        if isinstance(value, _Absent):
            raise self.error("missing")
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(f"expected an integer, found {_json_type(value)}")
        if not 0 < value <= _MAX_SAFE_INT:
            raise self.error(f"expected a positive number, found {value}")
        return value

    def sha(self) -> str:
        value = self.text()
        if not _SHA1_HEX.fullmatch(value):
            raise self.error(
                f"{value[:60]!r} is not a full commit SHA (40 lowercase hexadecimal digits)"
            )
        return value

    def timestamp(self) -> str | None:
        value = self.optional_text()
        if value is not None:
            try:
                _parse_time(value)
            except ValueError as e:
                raise self.error(str(e)) from e
        return value


def _parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as e:
        raise ValueError(f"{value[:60]!r} is not an RFC 3339 timestamp") from e
    if moment.tzinfo is None:
        raise ValueError(f"{value[:60]!r} has no UTC offset (add Z or +hh:mm)")
    return moment


def _text_ok(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _safe_int(value: object) -> int | None:
    """`value` when it is an integer canonical JSON can hold, else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT else None


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"  # what is left of what json.loads makes
