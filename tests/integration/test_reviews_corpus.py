"""The review reader against real GitHub webhook payloads (the shared corpus, when present)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from changeproof.domain.canonical import canonical_json
from changeproof.domain.evidence import EvidenceKind
from changeproof.ingest.errors import ReadError
from changeproof.ingest.reviews import read_review

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
WEBHOOKS = CORPUS / "webhooks"
LEGACY = "legacy-2016__pull_request_review.submitted.approved__probot-minimum-reviews.json"

pytestmark = pytest.mark.skipif(
    not WEBHOOKS.is_dir(), reason=f"the shared evidence corpus is not at {CORPUS}"
)


def _truth() -> list[dict[str, Any]]:
    if not WEBHOOKS.is_dir():
        return []
    entries: list[dict[str, Any]] = json.loads((WEBHOOKS / "GROUND_TRUTH.json").read_text())
    return entries


TRUTH = _truth()
REVIEWS = [e for e in TRUTH if e["event"] == "pull_request_review"]
NOT_REVIEWS = [e for e in TRUTH if e["event"] != "pull_request_review"]


def _read(name: str) -> bytes:
    return (WEBHOOKS / name).read_bytes()


def test_ground_truth_covers_every_payload_but_the_legacy_one() -> None:
    payloads = {p.name for p in WEBHOOKS.glob("*.json")} - {"GROUND_TRUTH.json", LEGACY}
    assert {Path(e["file"]).name for e in TRUTH} == payloads
    assert len(REVIEWS) == 4


@pytest.mark.parametrize("truth", REVIEWS, ids=lambda e: Path(e["file"]).name)
def test_pull_request_review_reads_as_ground_truth_says(truth: dict[str, Any]) -> None:
    name = Path(truth["file"]).name

    reading = read_review(_read(name), name)

    assert reading.kind is EvidenceKind.REVIEW
    summary = reading.summary.to_data()
    assert summary["platform"] == "github"
    assert summary["reviewer"] == truth["reviewer"]
    assert summary["state"] == truth["review_state"]
    assert summary["author"] == truth["pr_author"]
    assert summary["reviewed_sha"] == truth["review_commit_id"]
    assert summary["reviewed_sha_source"] == "review.commit_id"
    assert summary["submitted_at"] == truth["review_submitted_at"]
    assert summary["repository"] == truth["repository"]
    assert summary["change_id"] == f"{truth['repository']}#{truth['pr_number']}"
    assert reading.detail.to_data()["head_sha"] == truth["head_sha"]
    assert reading.detail.to_data()["action"] == truth["action"]
    assert reading.commits == (truth["review_commit_id"],)
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())


def test_trap_self_review_is_a_comment_by_the_author_and_says_so() -> None:
    name = "pull_request_review.submitted.1.json"
    reading = read_review(_read(name), name)

    assert (
        reading.summary.to_data()["reviewer"] == reading.summary.to_data()["author"] == "Codertocat"
    )
    assert reading.summary.to_data()["state"] == "commented"
    assert reading.notes[0].startswith("self-review: Codertocat")


def test_trap_dismissed_review_reads_as_dismissed() -> None:
    name = "pull_request_review.dismissed.1.json"
    reading = read_review(_read(name), name)

    assert reading.summary.to_data()["state"] == "dismissed"
    assert reading.detail.to_data()["action"] == "dismissed"


def test_trap_legacy_approved_review_without_commit_id_binds_to_the_head() -> None:
    reading = read_review(_read(LEGACY), LEGACY)

    assert reading.summary.to_data()["reviewer"] == "baxterthehacker"
    assert reading.summary.to_data()["author"] == "skalnik"
    assert reading.summary.to_data()["state"] == "approved"
    assert reading.summary.to_data()["change_id"] == "baxterthehacker/public-repo#8"
    sha = reading.summary.to_data()["reviewed_sha"]
    assert isinstance(sha, str)
    assert sha.startswith("b7a1f9c2")
    assert reading.summary.to_data()["reviewed_sha_source"] == "pull_request.head.sha"
    assert reading.commits == (sha,)
    assert any("no review.commit_id" in note for note in reading.notes)
    assert not any(note.startswith("self-review") for note in reading.notes)


@pytest.mark.parametrize("truth", NOT_REVIEWS, ids=lambda e: Path(e["file"]).name)
def test_other_events_are_refused_naming_the_event(truth: dict[str, Any]) -> None:
    name = Path(truth["file"]).name

    with pytest.raises(ReadError) as caught:
        read_review(_read(name), name)

    problem = caught.value.problem
    assert problem.startswith(f"a GitHub {truth['event']} event")
    assert "not a review" in problem
    if truth["action"] is not None:
        assert f"(action {truth['action']!r})" in problem
    assert caught.value.source == name


@pytest.mark.parametrize("truth", NOT_REVIEWS, ids=lambda e: Path(e["file"]).name)
def test_other_events_are_refused_even_with_the_github_flavour_forced(
    truth: dict[str, Any],
) -> None:
    name = Path(truth["file"]).name
    with pytest.raises(ReadError, match=f"a GitHub {truth['event']} event"):
        read_review(_read(name), name, flavour="github")
