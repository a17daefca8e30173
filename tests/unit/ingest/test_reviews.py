"""The code-review reader: GitHub and GitLab webhooks, the generic form, and signatures."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.canonical import canonical_json
from changeproof.domain.evidence import EvidenceKind, Reading, ReviewState
from changeproof.ingest.errors import ReadError
from changeproof.ingest.reviews import read_review, verify_github_signature, verify_gitlab_token

HEAD = hashlib.sha1(b"head", usedforsecurity=False).hexdigest()
OLDER = hashlib.sha1(b"older", usedforsecurity=False).hexdigest()
OTHER = hashlib.sha1(b"other", usedforsecurity=False).hexdigest()

Payload = dict[str, Any]


def github_review(**review: Any) -> Payload:
    """A pull_request_review webhook payload cut down to what the reader looks at."""
    body: Payload = {
        "action": "submitted",
        "review": {
            "id": 80,
            "user": {"login": "alice"},
            "body": "Looks right.",
            "commit_id": HEAD,
            "submitted_at": "2026-11-25T10:00:00Z",
            "state": "approved",
            "author_association": "MEMBER",
        },
        "pull_request": {
            "number": 12,
            "user": {"login": "bob"},
            "head": {"sha": HEAD, "ref": "feature"},
            "base": {"sha": OTHER, "ref": "main"},
        },
        "repository": {"full_name": "acme/payments"},
        "sender": {"login": "alice"},
    }
    body["review"].update(review)
    return body


def gitlab_hook(action: str | None = "approval", **attributes: Any) -> Payload:
    """A GitLab merge request hook, shaped as GitLab's webhook documentation shows it."""
    body: Payload = {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": {"id": 7, "name": "Carol", "username": "carol"},
        "project": {"id": 100, "path_with_namespace": "acme/payments"},
        "object_attributes": {
            "id": 99,
            "iid": 34,
            "author_id": 51,
            "state": "opened",
            "updated_at": "2026-11-25T10:00:00Z",
            "last_commit": {"id": HEAD, "message": "Fix rounding"},
        },
    }
    if action is not None:
        body["object_attributes"]["action"] = action
    body["object_attributes"].update(attributes)
    return body


def generic(**fields: Any) -> Payload:
    body: Payload = {
        "reviewer": "alice@example.com",
        "state": "approved",
        "reviewed_sha": HEAD,
        "author": "bob@example.com",
        "change_id": "payments!34",
        "repository": "acme/payments",
        "commits": [OLDER, HEAD],
        "submitted_at": "2026-11-25T10:00:00+01:00",
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not _DROP}


_DROP: Any = object()


def read(payload: object, *, flavour: str | None = None) -> Reading:
    return read_review(json.dumps(payload).encode(), "review.json", flavour=flavour)


def refused(payload: object, *, flavour: str | None = None) -> ReadError:
    with pytest.raises(ReadError) as caught:
        read(payload, flavour=flavour)
    return caught.value


def assert_canonical(reading: Reading) -> None:
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())


# --- GitHub pull_request_review -----------------------------------------------------------


def test_github_approved_review_names_reviewer_commit_and_author() -> None:
    reading = read(github_review())

    assert reading.kind is EvidenceKind.REVIEW
    assert reading.format == "github/pull_request_review"
    assert dict(reading.summary.to_data()) == {
        "platform": "github",
        "reviewer": "alice",
        "state": "approved",
        "reviewed_sha": HEAD,
        "reviewed_sha_source": "review.commit_id",
        "author": "bob",
        "change_id": "acme/payments#12",
        "repository": "acme/payments",
        "submitted_at": "2026-11-25T10:00:00Z",
        "base_sha": OTHER,
    }
    assert reading.commits == (HEAD,)
    assert reading.notes == ()
    assert reading.detail.to_data()["action"] == "submitted"
    assert reading.detail.to_data()["review_id"] == 80
    assert reading.detail.to_data()["head_sha"] == HEAD
    assert_canonical(reading)


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("approved", ReviewState.APPROVED),
        ("APPROVED", ReviewState.APPROVED),
        ("changes_requested", ReviewState.CHANGES_REQUESTED),
        ("CHANGES_REQUESTED", ReviewState.CHANGES_REQUESTED),
        ("commented", ReviewState.COMMENTED),
        ("COMMENTED", ReviewState.COMMENTED),
        ("dismissed", ReviewState.DISMISSED),
        ("DISMISSED", ReviewState.DISMISSED),
        ("PENDING", ReviewState.PENDING),
    ],
)
def test_github_states_in_webhook_and_rest_api_spelling(raw: str, state: ReviewState) -> None:
    reading = read(github_review(state=raw))
    assert reading.summary.to_data()["state"] == state.value
    assert reading.detail.to_data()["review_state"] == raw


def test_github_dismissed_action_voids_an_approval_whatever_the_state_says() -> None:
    payload = github_review(state="approved")
    payload["action"] = "dismissed"

    reading = read(payload)

    assert reading.summary.to_data()["state"] == "dismissed"
    assert any("action is 'dismissed'" in note for note in reading.notes)


def test_github_edited_review_keeps_its_state() -> None:
    payload = github_review(state="changes_requested")
    payload["action"] = "edited"
    assert read(payload).summary.to_data()["state"] == "changes_requested"


@pytest.mark.parametrize("commit_id", [_DROP, None], ids=["absent", "null"])
def test_github_review_without_commit_id_falls_back_to_head_and_says_so(commit_id: Any) -> None:
    payload = github_review()
    if commit_id is _DROP:
        del payload["review"]["commit_id"]
    else:
        payload["review"]["commit_id"] = commit_id

    reading = read(payload)

    assert reading.summary.to_data()["reviewed_sha"] == HEAD
    assert reading.summary.to_data()["reviewed_sha_source"] == "pull_request.head.sha"
    assert any("no review.commit_id" in note for note in reading.notes)


def test_github_review_on_an_older_commit_binds_to_that_commit_not_the_head() -> None:
    reading = read(github_review(commit_id=OLDER))

    assert reading.summary.to_data()["reviewed_sha"] == OLDER
    assert reading.commits == (OLDER,)
    assert any(OLDER in note and HEAD in note for note in reading.notes)


@pytest.mark.parametrize("reviewer", ["bob", "Bob"])
def test_github_self_review_is_read_faithfully_with_a_note(reviewer: str) -> None:
    reading = read(github_review(user={"login": reviewer}))

    assert reading.summary.to_data()["reviewer"] == reviewer
    assert reading.summary.to_data()["author"] == "bob"
    assert reading.summary.to_data()["state"] == "approved"
    assert reading.notes[0].startswith("self-review:")


def test_github_pull_request_without_author_reads_with_author_unknown() -> None:
    payload = github_review()
    payload["pull_request"]["user"] = None

    reading = read(payload)

    assert reading.summary.to_data()["author"] is None
    assert any("no author" in note for note in reading.notes)


def test_github_pending_review_has_no_submission_time() -> None:
    reading = read(github_review(state="pending", submitted_at=None))
    assert reading.summary.to_data()["state"] == "pending"
    assert reading.summary.to_data()["submitted_at"] is None


def test_github_payload_without_repository_still_names_the_pull_request() -> None:
    payload = github_review()
    del payload["repository"]

    reading = read(payload)

    assert reading.summary.to_data()["change_id"] == "#12"
    assert reading.summary.to_data()["repository"] is None


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [
        (lambda p: p["review"].update(state="lgtm"), "/review/state", "unknown review state"),
        (lambda p: p.update(action="deleted"), "/action", "unknown pull_request_review action"),
        (lambda p: p.pop("action"), "/action", "missing"),
        (lambda p: p["review"].update(commit_id="abc123"), "/review/commit_id", "commit SHA"),
        (
            lambda p: p["review"].update(commit_id=HEAD.upper()),
            "/review/commit_id",
            "40 lowercase hexadecimal",
        ),
        (lambda p: p["review"]["user"].pop("login"), "/review/user/login", "missing"),
        (lambda p: p["review"].update(user=None), "/review/user", "expected an object"),
        (lambda p: p["review"]["user"].update(login=""), "/review/user/login", "empty"),
        (lambda p: p["review"]["user"].update(login=7), "/review/user/login", "a string"),
        (lambda p: p["pull_request"]["head"].pop("sha"), "/pull_request/head/sha", "missing"),
        (lambda p: p["pull_request"].update(number=True), "/pull_request/number", "integer"),
        (lambda p: p["pull_request"].update(number=0), "/pull_request/number", "positive"),
        (
            lambda p: p["review"].update(submitted_at="2026-11-25T10:00:00"),
            "/review/submitted_at",
            "no UTC offset",
        ),
        (
            lambda p: p["review"].update(submitted_at="yesterday"),
            "/review/submitted_at",
            "not an RFC 3339 timestamp",
        ),
        (lambda p: p["review"]["user"].update(login="\ud800"), "/review/user/login", "surrogate"),
    ],
    ids=[
        "state",
        "action",
        "no-action",
        "short-sha",
        "upper-sha",
        "no-login",
        "null-user",
        "empty-login",
        "number-login",
        "no-head",
        "bool-number",
        "zero-number",
        "naive-time",
        "bad-time",
        "lone-surrogate",
    ],
)
def test_github_malformed_review_names_the_json_pointer(
    change: Any, where: str, words: str
) -> None:
    payload = github_review()
    change(payload)

    error = refused(payload)

    assert error.pointer == where
    assert words in error.problem


def test_github_pull_request_event_is_not_review_evidence() -> None:
    payload = github_review()
    del payload["review"]
    payload["action"] = "closed"
    payload["number"] = 12
    payload["pull_request"]["merged"] = False

    error = refused(payload)

    assert error.problem.startswith("a GitHub pull_request event (action 'closed'), not a review")
    assert "no reviewer" in error.problem
    assert "pull_request_review" in (error.hint() or "")


@pytest.mark.parametrize(
    ("keys", "event"),
    [
        (("ref", "before", "after", "commits", "pusher"), "push"),
        (("ref", "before", "after", "commits"), "push"),
        (("check_suite",), "check_suite"),
        (("check_run",), "check_run"),
        (("deployment", "workflow", "workflow_run"), "deployment"),
        (("deployment", "deployment_status", "check_run", "workflow_run"), "deployment_status"),
        (("workflow", "workflow_run"), "workflow_run"),
        (("workflow_job",), "workflow_job"),
        (("issue", "comment"), "issue_comment"),
        (("comment", "pull_request"), "pull_request_review_comment"),
        (("release",), "release"),
    ],
)
def test_other_github_events_are_refused_by_name(keys: tuple[str, ...], event: str) -> None:
    payload: Payload = {key: {} for key in keys}
    payload.update(repository={"full_name": "acme/payments"}, sender={"login": "alice"})

    error = refused(payload)

    assert f"a GitHub {event} event" in error.problem
    assert error.problem.endswith("not a review")


def test_github_event_is_named_even_when_the_github_flavour_is_forced() -> None:
    error = refused({"action": "completed", "workflow_run": {}}, flavour="github")
    assert error.problem == "a GitHub workflow_run event (action 'completed'), not a review"


def test_github_rest_review_list_is_refused_with_how_many_it_holds() -> None:
    listing = [
        {"user": {"login": "alice"}, "state": "APPROVED", "commit_id": HEAD},
        {"user": {"login": "carol"}, "state": "COMMENTED", "commit_id": HEAD},
    ]

    error = refused(listing)

    assert "a list of 2 reviews" in error.problem
    assert "one review per file" in (error.hint() or "")


def test_github_rest_single_review_is_refused_for_lacking_the_author() -> None:
    error = refused({"id": 80, "user": {"login": "alice"}, "state": "APPROVED", "commit_id": HEAD})
    assert "REST API review object" in error.problem
    assert "author" in error.problem


@pytest.mark.parametrize(
    ("payload", "words"),
    [([], "a JSON array"), ([1, 2], "a JSON array"), (3, "a JSON number"), ("x", "a JSON string")],
)
def test_documents_that_are_not_objects_are_refused(payload: object, words: str) -> None:
    assert refused(payload).problem.startswith(words)


def test_unrecognised_object_is_refused_with_the_forms_it_could_be() -> None:
    error = refused({"hello": "world"})
    assert error.problem == "not a review this reader knows"
    assert "generic review form" in (error.hint() or "")


# --- GitLab merge request hook ------------------------------------------------------------


def test_gitlab_approval_names_approver_and_commit_but_not_author() -> None:
    reading = read(gitlab_hook("approval"))

    assert reading.format == "gitlab/merge_request"
    assert dict(reading.summary.to_data()) == {
        "platform": "gitlab",
        "reviewer": "carol",
        "state": "approved",
        "reviewed_sha": HEAD,
        "reviewed_sha_source": "object_attributes.last_commit.id",
        "author": None,
        "change_id": "acme/payments!34",
        "repository": "acme/payments",
        "submitted_at": None,
    }
    assert reading.commits == (HEAD,)
    assert reading.detail.to_data()["author_id"] == 51
    assert reading.detail.to_data()["action"] == "approval"
    assert any("author by user id only (51)" in note for note in reading.notes)
    assert_canonical(reading)


@pytest.mark.parametrize(
    ("action", "state"),
    [
        ("approval", ReviewState.APPROVED),
        ("approved", ReviewState.APPROVED),
        ("unapproval", ReviewState.DISMISSED),
        ("unapproved", ReviewState.DISMISSED),
    ],
)
def test_gitlab_approval_actions(action: str, state: ReviewState) -> None:
    assert read(gitlab_hook(action)).summary.to_data()["state"] == state.value


def test_gitlab_self_approval_is_recognised_from_the_user_id() -> None:
    reading = read(gitlab_hook("approved", author_id=7))

    assert reading.summary.to_data()["author"] == "carol"
    assert reading.summary.to_data()["state"] == "approved"
    assert reading.notes[0].startswith("self-review:")


def test_gitlab_system_reset_of_approvals_is_a_dismissal_with_its_reason() -> None:
    reading = read(gitlab_hook("unapproved", system=True, system_action="approvals_reset_on_push"))

    assert reading.summary.to_data()["state"] == "dismissed"
    assert reading.detail.to_data()["system_action"] == "approvals_reset_on_push"
    assert any("approvals_reset_on_push" in note for note in reading.notes)


def test_gitlab_system_flag_without_an_action_name_is_kept() -> None:
    reading = read(gitlab_hook("unapproved", system=True))
    assert reading.detail.to_data()["system_action"] is None
    assert any(note.startswith("GitLab itself withdrew approval:") for note in reading.notes)


@pytest.mark.parametrize(
    ("action", "words"),
    [
        ("open", "a GitLab merge request 'open' event, not an approval"),
        ("update", "a GitLab merge request 'update' event, not an approval"),
        ("merge", "a GitLab merge request 'merge' event, not an approval"),
        (None, "a GitLab merge request event with no action, not an approval"),
    ],
)
def test_gitlab_other_merge_request_events_are_refused(action: str | None, words: str) -> None:
    error = refused(gitlab_hook(action))
    assert error.problem == words
    assert error.pointer == "/object_attributes/action"


def test_gitlab_other_object_kinds_are_refused_by_name() -> None:
    error = refused({"object_kind": "push", "before": OLDER, "after": HEAD})
    assert error.problem == "a GitLab push event, not a merge request approval"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda p: p["object_attributes"].pop("last_commit"), "/object_attributes/last_commit"),
        (
            lambda p: p["object_attributes"]["last_commit"].update(id="da15608"),
            "/object_attributes/last_commit/id",
        ),
        (lambda p: p["user"].pop("username"), "/user/username"),
        (lambda p: p["object_attributes"].update(iid="34"), "/object_attributes/iid"),
        (lambda p: p.pop("project"), "/project"),
    ],
    ids=["no-last-commit", "short-sha", "no-username", "string-iid", "no-project"],
)
def test_gitlab_malformed_hook_names_the_json_pointer(change: Any, where: str) -> None:
    payload = gitlab_hook()
    change(payload)
    assert refused(payload).pointer == where


def test_gitlab_approvals_api_response_is_refused_for_lacking_the_commit() -> None:
    response = {
        "id": 5,
        "iid": 5,
        "project_id": 1,
        "approvals_required": 2,
        "approved_by": [{"user": {"username": "root", "id": 1}}],
    }

    error = refused(response)

    assert "approvals API response" in error.problem
    assert "without the commit" in error.problem


# --- generic ------------------------------------------------------------------------------


def test_generic_review_reads_every_field() -> None:
    reading = read(generic())

    assert reading.format == "generic/review"
    assert dict(reading.summary.to_data()) == {
        "platform": "generic",
        "reviewer": "alice@example.com",
        "state": "approved",
        "reviewed_sha": HEAD,
        "reviewed_sha_source": "reviewed_sha",
        "author": "bob@example.com",
        "change_id": "payments!34",
        "repository": "acme/payments",
        "submitted_at": "2026-11-25T10:00:00+01:00",
    }
    assert reading.detail.to_data()["commits"] == [OLDER, HEAD]
    assert reading.commits == (HEAD, OLDER)
    assert reading.notes == ()
    assert_canonical(reading)


def test_generic_minimal_review_notes_the_missing_author() -> None:
    reading = read({"reviewer": "alice", "state": "commented", "reviewed_sha": HEAD})

    assert reading.summary.to_data()["author"] is None
    assert reading.commits == (HEAD,)
    assert reading.notes == ("the review does not name the change's author",)


def test_generic_self_review_and_a_reviewed_commit_outside_the_change_are_noted() -> None:
    reading = read(generic(author="Alice@Example.com", commits=[OLDER, OLDER, OTHER]))

    assert reading.notes[0].startswith("self-review:")
    assert any("not among the change's commits" in note for note in reading.notes)
    assert reading.commits == (HEAD, OLDER, OTHER)


@pytest.mark.parametrize(
    ("payload", "where", "words"),
    [
        (generic(approver="x"), "/approver", "unknown field 'approver'"),
        (generic(reviewed_sha=_DROP), "/reviewed_sha", "required field 'reviewed_sha' is missing"),
        (generic(reviewed_sha=HEAD[:12]), "/reviewed_sha", "not a full commit SHA"),
        (generic(reviewed_sha=HEAD.upper()), "/reviewed_sha", "40 lowercase hexadecimal"),
        (generic(commits=[HEAD, "main"]), "/commits/1", "not a full commit SHA"),
        (generic(commits=HEAD), "/commits", "valid list"),
        (generic(state="lgtm"), "/state", "approved"),
        (generic(state="APPROVED"), "/state", "approved"),
        (generic(reviewer=7), "/reviewer", "string"),
        (generic(reviewer=""), "/reviewer", "at least 1 character"),
        (generic(author="\udc80"), "/author", "valid string"),
        (generic(submitted_at="2026-11-25 10:00"), "/submitted_at", "no UTC offset"),
        (generic(submitted_at="soon"), "/submitted_at", "not an RFC 3339 timestamp"),
    ],
    ids=[
        "unknown-field",
        "missing-sha",
        "short-sha",
        "upper-sha",
        "bad-commit",
        "commits-not-list",
        "state",
        "upper-state",
        "number-reviewer",
        "empty-reviewer",
        "surrogate",
        "naive-time",
        "bad-time",
    ],
)
def test_generic_errors_name_the_json_pointer(payload: Payload, where: str, words: str) -> None:
    error = refused(payload)
    assert error.pointer == where
    assert words in error.problem


def test_generic_error_counts_the_other_problems() -> None:
    error = refused({"reviewer": 1, "state": "no", "reviewed_sha": "x"})
    assert error.problem.endswith("(and 2 more problems)")


# --- flavours and raw input ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "flavour"),
    [(github_review(), "github"), (gitlab_hook(), "gitlab"), (generic(), "generic")],
)
def test_forcing_the_right_flavour_reads_as_recognition_does(
    payload: Payload, flavour: str
) -> None:
    assert read(payload, flavour=flavour) == read(payload)


@pytest.mark.parametrize(
    ("payload", "flavour", "seen"),
    [
        (github_review(), "gitlab", "github"),
        (gitlab_hook(), "generic", "gitlab"),
        (generic(), "github", "generic"),
    ],
)
def test_forcing_the_wrong_flavour_says_what_the_document_looks_like(
    payload: Payload, flavour: str, seen: str
) -> None:
    error = refused(payload, flavour=flavour)
    assert error.problem == (
        f"the {flavour} flavour was asked for, but this looks like a {seen} document"
    )


def test_unknown_flavour_is_refused() -> None:
    error = refused(generic(), flavour="bitbucket")
    assert "unknown review flavour 'bitbucket'" in error.problem


def test_forced_generic_flavour_checks_an_unrecognised_object_as_the_generic_form() -> None:
    error = refused({"approver": "alice"}, flavour="generic")
    assert error.pointer == "/approver"
    assert error.problem.startswith("unknown field 'approver' (the generic review form has: ")
    assert error.problem.endswith("(and 3 more problems)")


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(ReadError) as caught:
        read_review(b'{\n  "reviewer": }', "r.json")
    assert (caught.value.line, caught.value.column) == (2, 15)


def test_utf8_bom_is_tolerated() -> None:
    reading = read_review(b"\xef\xbb\xbf" + json.dumps(generic()).encode(), "r.json")
    assert reading.summary.to_data()["reviewer"] == "alice@example.com"


# --- fuzz: a Reading or a ReadError, nothing else -----------------------------------------


def _outcome(data: bytes) -> Reading | ReadError:
    try:
        return read_review(data, "fuzz.json")
    except ReadError as e:
        return e


def _check_outcome(data: bytes) -> None:
    reading = _outcome(data)
    if isinstance(reading, ReadError):
        assert reading.source == "fuzz.json"
        return
    assert reading.kind is EvidenceKind.REVIEW
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())
    assert reading.commits
    assert all(len(c) == 40 and set(c) <= set("0123456789abcdef") for c in reading.commits)
    assert reading.summary.to_data()["reviewed_sha"] == reading.commits[0]
    assert reading.summary.to_data()["state"] in {s.value for s in ReviewState}


@given(st.binary(max_size=300))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    _check_outcome(data)


_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from([HEAD, HEAD.upper(), "", "approved", "APPROVED", "dismissed", "\ud800"])
)
_json_values = st.recursive(
    _json_scalars,
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3)
    ),
    max_leaves=8,
)
_bases = [
    github_review(),
    github_review(commit_id=None),
    gitlab_hook("approval"),
    gitlab_hook("unapproved", author_id=7),
    generic(),
]


def _paths(value: object, here: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*here, index))
    return found


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    doc = copy.deepcopy(draw(st.sampled_from(_bases)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(doc)))
        if not path:
            continue
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()):
            parent[path[-1]] = draw(_json_values)
        elif isinstance(parent, dict):
            del parent[path[-1]]
    return json.dumps(doc).encode("utf-8", "surrogatepass")


@given(_mutated())
def test_fuzz_mutated_valid_payloads(data: bytes) -> None:
    _check_outcome(data)


@given(st.sampled_from(_bases), st.integers(min_value=0))
def test_fuzz_truncated_valid_payloads(doc: Payload, cut: int) -> None:
    data = json.dumps(doc).encode()
    _check_outcome(data[: cut % (len(data) + 1)])


# --- X-Hub-Signature-256 ------------------------------------------------------------------

SECRET = b"It's a Secret to Everybody"
BODY = json.dumps(github_review()).encode()


def sign(body: bytes, secret: bytes = SECRET) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def test_github_signature_made_with_the_secret_verifies() -> None:
    verify_github_signature(BODY, sign(BODY), SECRET)
    verify_github_signature(BODY, sign(BODY).upper().replace("SHA256=", "sha256="), SECRET)


def test_github_signature_matches_githubs_documented_example() -> None:
    # docs.github.com "Validating webhook deliveries": secret and payload from its test values.
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    verify_github_signature(b"Hello, World!", header, SECRET)


def test_github_signature_fails_when_one_byte_of_the_body_changes() -> None:
    changed = bytearray(BODY)
    changed[10] ^= 0x01

    with pytest.raises(ReadError) as caught:
        verify_github_signature(bytes(changed), sign(BODY), SECRET)
    assert caught.value.problem == "the signature does not match the body"


def test_github_signature_fails_with_the_wrong_secret_and_never_shows_the_expected_digest() -> None:
    with pytest.raises(ReadError) as caught:
        verify_github_signature(BODY, sign(BODY, b"another secret"), SECRET)

    expected = sign(BODY).removeprefix("sha256=")
    assert expected not in str(caught.value)
    assert expected not in (caught.value.hint() or "")


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (None, "not signed"),
        ("", "not signed"),
        ("   ", "not signed"),
        ("sha1=" + "0" * 40, "legacy SHA-1"),
        ("sha512=" + "0" * 128, "does not start with 'sha256='"),
        ("SHA256=" + "0" * 64, "does not start with 'sha256='"),
        ("sha256=" + "g" * 64, "not 64 hexadecimal digits"),
        ("sha256=" + "0" * 63, "not 64 hexadecimal digits"),
        ("sha256=", "not 64 hexadecimal digits"),
        ("sha256=" + "٣" * 64, "not 64 hexadecimal digits"),
    ],
)
def test_github_signature_header_problems(header: str | None, words: str) -> None:
    with pytest.raises(ReadError) as caught:
        verify_github_signature(BODY, header, SECRET)
    assert words in caught.value.problem
    assert caught.value.source == "X-Hub-Signature-256"


def test_github_signature_needs_a_secret() -> None:
    with pytest.raises(ReadError, match="no webhook secret"):
        verify_github_signature(BODY, sign(BODY, b""), b"")


@given(st.binary(max_size=200), st.binary(min_size=1, max_size=40), st.data())
def test_github_signature_verifies_exactly_the_signed_bytes(
    body: bytes, secret: bytes, data: st.DataObject
) -> None:
    verify_github_signature(body, sign(body, secret), secret)
    if body:
        at = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
        flipped = bytearray(body)
        flipped[at] ^= data.draw(st.integers(min_value=1, max_value=255))
        with pytest.raises(ReadError):
            verify_github_signature(bytes(flipped), sign(body, secret), secret)


# --- X-Gitlab-Token -----------------------------------------------------------------------


def test_gitlab_token_equal_to_the_secret_passes() -> None:
    verify_gitlab_token("s3cret-token", "s3cret-token")


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (None, "no X-Gitlab-Token header"),
        ("", "no X-Gitlab-Token header"),
        ("s3cret-tokem", "does not match"),
        ("s3cret-token ", "does not match"),
        ("sécret", "does not match"),
        ("\udc80", "does not match"),
    ],
)
def test_gitlab_token_problems(header: str | None, words: str) -> None:
    with pytest.raises(ReadError) as caught:
        verify_gitlab_token(header, "s3cret-token")
    assert words in caught.value.problem
    assert "s3cret-token" not in str(caught.value)


def test_gitlab_token_needs_a_secret() -> None:
    with pytest.raises(ReadError, match="no webhook secret token"):
        verify_gitlab_token("", "")
