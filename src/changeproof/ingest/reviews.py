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
    (`reviewed_sha_source`). The change's author is `pull_request.user.login`; its base,
    `pull_request.base.sha`, tells the commits the review covers (base..reviewed SHA).

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
          "commits": ["<40 lowercase hex>", ...],    # the change's commits (it covers them)
          "base_sha": "<40 lowercase hex>",          # the change's base (it covers base..head)
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
`X-Gitlab-Token` (a shared secret), both compared in constant time; they live in
`changeproof.ingest.webhooks` and are re-exported here. The payload readers are in
`changeproof.ingest.review_payloads`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.ingest.errors import ReadError
from changeproof.ingest.jsondoc import json_type, load_json
from changeproof.ingest.registry import Option, ReadOptions, Source, reader
from changeproof.ingest.review_json import Node, text_ok
from changeproof.ingest.webhooks import verify_github_signature, verify_gitlab_token

__all__ = [
    "FLAVOURS",
    "read_review",
    "review_reader",
    "verify_github_signature",
    "verify_gitlab_token",
]

FLAVOURS: Final = ("github", "gitlab", "generic")

_USE_A_REVIEW: Final = (
    "give a GitHub pull_request_review webhook payload, a GitLab merge request approval hook, "
    "or the generic review form described in changeproof.ingest.reviews"
)


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


def read_review(data: bytes, source: str, *, flavour: str | None = None) -> Reading:
    """Read one code review; `flavour` ("github", "gitlab", "generic") skips recognition."""
    if flavour is not None and flavour not in FLAVOURS:
        raise ReadError(source, f"unknown review flavour {flavour!r} (github, gitlab or generic)")
    doc = load_json(data, source)
    if isinstance(doc, list):
        raise _array_error(doc, source)
    if not isinstance(doc, dict):
        raise ReadError(source, f"a JSON {json_type(doc)}, not a review", hint=_USE_A_REVIEW)
    seen = _recognise(doc)
    if flavour is not None and seen is not None and seen != flavour:
        raise ReadError(
            source,
            f"the {flavour} flavour was asked for, but this looks like a {seen} document",
            hint="leave the flavour out to let the reader recognise it",
        )
    # The payload models are pydantic: built where a review is read, not where it registers.
    from changeproof.ingest.review_payloads import generic_review, github_review, gitlab_review

    chosen = flavour or seen
    root = Node(doc, source)
    if chosen == "github":
        if "review" not in doc:
            raise _not_a_review(doc, source)
        return github_review(root)
    if chosen == "gitlab":
        return gitlab_review(root)
    if chosen == "generic":
        return generic_review(doc, source)
    raise _not_a_review(doc, source)


@reader(
    "review",
    command="review",
    kind=EvidenceKind.REVIEW,
    title="code review",
    summary="GitHub pull_request_review webhooks, GitLab merge request approval hooks, "
    "a generic JSON form",
    formats=FLAVOURS,
    records=("github/pull_request_review", "gitlab/merge_request", "generic/review"),
    options=frozenset({Option.WEBHOOK_SIGNATURE}),
)
def review_reader(sources: Sequence[Source], options: ReadOptions) -> Reading:
    (source,) = sources
    return read_review(source.data, source.name, flavour=options.format)


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
        if isinstance(action, str) and text_ok(action):
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
