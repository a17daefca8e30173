"""The three review payloads `read_review` reads, each to a `Reading`: GitHub's
`pull_request_review` webhook, GitLab's merge request approval hook, and the generic review
form (all described in `changeproof.ingest.reviews`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Final, Literal

from pydantic import (
    MISSING,
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from changeproof.domain.evidence import EvidenceKind, Reading, Review, ReviewState
from changeproof.domain.evidence_documents import ReviewDetail, ReviewSummary, present
from changeproof.ingest.errors import ReadError
from changeproof.ingest.jsondoc import pointer
from changeproof.ingest.review_json import COMMIT_SHA, Node, parse_time, safe_int

__all__ = ["generic_review", "github_review", "gitlab_review"]

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


# --- GitHub -------------------------------------------------------------------------------


def github_review(root: Node) -> Reading:
    """A `pull_request_review` webhook payload (the caller has seen its `review` member)."""
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
    base = pull.get("base")
    base_sha = None if base.absent_or_null() else base.get("sha").optional_text()
    if base_sha is not None:
        base_sha = base.get("sha").sha()
    else:
        notes.append(
            "the pull request names no base commit (no pull_request.base.sha): the review "
            "covers the reviewed commit only"
        )
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

    review_id = safe_int(review.mapping().get("id"))
    association = review.get("author_association").optional_text()
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
        base_sha=base_sha,
    )
    detail = replace(
        _detail(result),
        event="pull_request_review",
        action=action,
        review_state=raw_state,
        head_sha=head_sha,
        pull_request_number=number,
        review_id=present(review_id),
        author_association=present(association),
    )
    return _reading(result, "github/pull_request_review", detail, notes)


# --- GitLab -------------------------------------------------------------------------------


def gitlab_review(root: Node) -> Reading:
    """A merge request hook: an approval, or an approval withdrawn."""
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
    if action is None or state is None:
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

    author: str | None = None
    author_id = safe_int(attributes.mapping().get("author_id"))
    user_id = safe_int(user.mapping().get("id"))
    if author_id is not None and author_id == user_id:
        author = reviewer  # the hook names the approver in full, and the author is the approver
    else:
        notes.append(
            "GitLab's merge request hook names the author by user id only"
            + (f" ({author_id})" if author_id is not None else "")
            + ": the author's username is not known from this file"
        )
    system: bool | MISSING = MISSING
    system_action: str | MISSING | None = MISSING
    if attributes.mapping().get("system") is True:  # GitLab 18.6+: GitLab acted, not a person
        system, system_action = True, attributes.get("system_action").optional_text()
        if state is ReviewState.DISMISSED:
            notes.append(
                "GitLab itself withdrew approval"
                + (f" ({system_action})" if system_action else "")
                + ": every earlier approval of this merge request is void"
            )
    updated_at = attributes.get("updated_at").optional_text()
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
    detail = replace(
        _detail(result),
        event="merge_request",
        action=action,
        merge_request_iid=iid,
        author_id=present(author_id),
        system=system,
        system_action=system_action,
        merge_request_updated_at=present(updated_at),
    )
    return _reading(result, "gitlab/merge_request", detail, notes)


# --- generic ------------------------------------------------------------------------------


def _commit_sha(value: str) -> str:
    if not COMMIT_SHA.fullmatch(value):
        raise ValueError("not a full commit SHA (40 lowercase hexadecimal digits)")
    return value


def _rfc3339(value: str) -> str:
    parse_time(value)
    return value


_Text = Annotated[str, StringConstraints(min_length=1)]  # pydantic refuses lone surrogates
_Sha = Annotated[str, AfterValidator(_commit_sha)]
_Time = Annotated[str, AfterValidator(_rfc3339)]


class _GenericReview(BaseModel):
    """The generic review form (see `changeproof.ingest.reviews`)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    reviewer: _Text
    state: Literal["approved", "changes_requested", "commented", "dismissed"]
    reviewed_sha: _Sha
    author: _Text | None = None
    change_id: _Text | None = None
    repository: _Text | None = None
    commits: list[_Sha] = Field(default_factory=list)
    base_sha: _Sha | None = None
    submitted_at: _Time | None = None


def generic_review(doc: Mapping[str, object], source: str) -> Reading:
    """The generic review form, validated by pydantic with the first problem reported."""
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
    if form.base_sha is not None and form.base_sha == form.reviewed_sha:
        notes.append("the base is the reviewed commit itself: the review covers no commit")
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
        base_sha=form.base_sha,
    )
    return _reading(result, "generic/review", _detail(result), notes)


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


def _detail(review: Review) -> ReviewDetail:
    """The review's detail, with none of its platform's own keys."""
    return ReviewDetail(
        platform=review.platform,
        reviewer=review.reviewer,
        state=review.state,
        reviewed_sha=review.reviewed_sha,
        reviewed_sha_source=review.reviewed_sha_source,
        author=review.author,
        change_id=review.change_id,
        repository=review.repository,
        submitted_at=review.submitted_at,
        base_sha=present(review.base_sha),
        commits=review.commits,
    )


def _reading(review: Review, format_: str, detail: ReviewDetail, notes: list[str]) -> Reading:
    if review.author is not None and review.reviewer.casefold() == review.author.casefold():
        notes.insert(
            0,
            f"self-review: {review.reviewer} reviewed their own change; an independent-review "
            "control must not count it",
        )
    summary = ReviewSummary(
        platform=review.platform,
        reviewer=review.reviewer,
        state=review.state,
        reviewed_sha=review.reviewed_sha,
        reviewed_sha_source=review.reviewed_sha_source,
        author=review.author,
        change_id=review.change_id,
        repository=review.repository,
        submitted_at=review.submitted_at,
        base_sha=present(review.base_sha),
    )
    commits = tuple(dict.fromkeys((*filter(None, [review.reviewed_sha]), *review.commits)))
    return Reading(
        kind=EvidenceKind.REVIEW,
        format=format_,
        summary=summary,
        detail=detail,
        commits=commits,
        notes=tuple(notes),
    )
