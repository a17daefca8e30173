"""Webhooks in: every real payload of the corpus delivered to a real server, signed as its
sender signs it; what each becomes, and what an unsigned, forged, replayed, stale or
oversized delivery does to the ledger (nothing)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from changeproof.bootstrap import Instance, open_instance
from changeproof.domain.hooks import HookOutcome, HookSource
from changeproof.store.hooks import DeliveryRecord
from tests.conftest import Cli, FixedClock, ints, query
from tests.integration.api_scenario import (
    GITHUB_SECRET,
    GITLAB_TOKEN,
    HOOK_ACTORS,
    ROTATED_KEY,
    add_hooks,
    client,
    github_headers,
    standard_headers,
)
from tests.integration.gitrepo import GitRepo

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "webhooks"
LEGACY = "legacy-2016__pull_request_review.submitted.approved__probot-minimum-reviews.json"
LEGACY_HEAD = "b7a1f9c2"  # the legacy review's pull_request.head.sha starts so
GITHUB = "/api/v1/hooks/github"
GITLAB = "/api/v1/hooks/gitlab"
STANDARD = "/api/v1/hooks/standard"


def _size(home: Path) -> int:
    return ints(home, "SELECT tree_size FROM ledger_head")[0]


def _rejections(source: str, reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "changeproof_hook_rejections_total", {"source": source, "reason": reason}
    )
    return value or 0.0


@pytest.fixture
def hooked(home: Path, cli: Cli) -> Path:
    add_hooks(cli, home)
    return home


@pytest.fixture
def instance(hooked: Path) -> Iterator[Instance]:
    with open_instance(hooked) as opened:
        yield opened


def _settled(instance: Instance, source: str, delivery: str) -> DeliveryRecord:
    """The delivery once the server has processed it (it does so after answering)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = instance.hooks.delivery(HookSource(source), delivery)
        if found is not None and found.outcome is not None:
            return found
        time.sleep(0.02)
    raise AssertionError(f"delivery {delivery} was never processed")


def _corpus() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*.json") if p.name != "GROUND_TRUTH.json")


def _truth() -> dict[str, dict[str, Any]]:
    doc = json.loads((CORPUS / "GROUND_TRUTH.json").read_text())
    return {Path(item["file"]).name: item for item in doc}


def _event_of(path: Path, truth: dict[str, dict[str, Any]]) -> str:
    if path.name == LEGACY:
        return "pull_request_review"
    return str(truth[path.name]["event"])


def test_every_corpus_payload_is_answered_and_recorded_with_its_outcome(
    instance: Instance, hooked: Path
) -> None:
    truth = _truth()
    payloads = _corpus()
    assert len(payloads) == 63
    with client(hooked) as api:
        for n, path in enumerate(payloads):
            body = path.read_bytes()
            event = _event_of(path, truth)
            answer = api.post(GITHUB, content=body, headers=github_headers(body, event, f"d-{n}"))
            assert answer.status_code == 202, (path.name, answer.text)
            receipt = answer.json()
            assert (receipt["event"], receipt["duplicate"]) == (event, False)
            assert receipt["outcome"] == "received"
        for n, path in enumerate(payloads):
            settled = _settled(instance, "github", f"d-{n}")
            event = _event_of(path, truth)
            # No release holds any of the corpus's commits, and changeproof records nothing
            # for the other events: each is ignored, and says why.
            assert settled.outcome is HookOutcome.IGNORED, (path.name, settled.reason)
            assert settled.recorded == ()
            if event == "pull_request_review":
                head = truth.get(path.name, {}).get("head_sha", LEGACY_HEAD)
                assert "no release holds commit" in (settled.reason or ""), settled.reason
                assert str(head)[:8] in (settled.reason or "")
            elif event in {"pull_request", "push"}:
                assert "records nothing" in (settled.reason or "")
            elif event == "deployment_status":
                assert "no recorded deployment to" in (settled.reason or "")
            else:
                assert f"handles no github {event!r} events" in (settled.reason or "")
    received = ints(hooked, "SELECT count(*) FROM ledger_events WHERE event_type = 'hook.received'")
    processed = ints(
        hooked, "SELECT count(*) FROM ledger_events WHERE event_type = 'hook.processed'"
    )
    assert received == processed == [63]
    actors = query(hooked, "SELECT DISTINCT actor FROM hook_deliveries")
    assert actors == [(HOOK_ACTORS["github"],)]
    # Nothing of the body and no secret is in any entry.
    bodies = b"".join(bytes(r[0]) for r in query(hooked, "SELECT body FROM ledger_events"))  # type: ignore[call-overload]
    assert GITHUB_SECRET.encode() not in bodies
    assert b"Codertocat" not in bodies


def _legacy_in_a_release(tmp_path: Path, cli: Cli, home: Path) -> tuple[bytes, str]:
    """The legacy approved review, its head replaced by a commit of a recorded release."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit("PAY-1 base", {"app.py": "print('hi')\n"})
    head = repo.commit("PAY-2 more", {"app.py": "print('hello')\n"})
    done = cli("release", "create", "--service", "payments", "--name", "1.0",
               "--repo", repo.path, "--to", "main", "--home", home)  # fmt: skip
    assert done.code == 0, done.err
    doc = json.loads((CORPUS / LEGACY).read_text())
    old = doc["pull_request"]["head"]["sha"]
    assert old.startswith(LEGACY_HEAD)
    body = (CORPUS / LEGACY).read_bytes().replace(old.encode(), head.encode())
    return body, head


def test_an_approved_review_becomes_the_evidence_attest_review_records(
    instance: Instance, hooked: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body, head = _legacy_in_a_release(tmp_path, cli, hooked)
    headers = github_headers(body, "pull_request_review", "review-1")
    with client(hooked) as api:
        answer = api.post(GITHUB, content=body, headers=headers)
        assert answer.status_code == 202, answer.text
        settled = _settled(instance, "github", "review-1")
        assert settled.outcome is HookOutcome.RECORDED, settled.reason
        assert settled.reason == "review evidence for payments/1.0"
        (seq,) = settled.recorded
        again = api.post(GITHUB, content=body, headers=headers)
        assert again.status_code == 200
        assert (again.json()["outcome"], again.json()["recorded"]) == ("recorded", [seq])
    shown = json.loads(cli("release", "show", "payments/1.0", "-o", "json", "--home", hooked).out)
    (hooked_review,) = [e for e in shown["evidence"] if e["seq"] == seq]
    assert hooked_review["summary"]["webhook_signature"] == "verified"
    assert hooked_review["summary"]["reviewed_sha"] == head
    assert hooked_review["recorded_by"] == HOOK_ACTORS["github"]

    # The same file through the CLI, in a second instance's twin: the same evidence.
    payload = tmp_path / "github-review-1.json"
    payload.write_bytes(body)
    monkeypatch.setenv("HOOK_SECRET", GITHUB_SECRET)
    twin = tmp_path / "twin"
    done = cli("init", "--actor", "tester", "--origin", "test.example/twin", "--home", twin)
    assert done.code == 0, done.err
    repo = tmp_path / "repo"
    done = cli("release", "create", "--service", "payments", "--name", "1.0",
               "--repo", repo, "--to", "main", "--home", twin)  # fmt: skip
    assert done.code == 0, done.err
    attested = cli("attest", "review", payload, "--release", "payments/1.0",
                   "--signature", headers["X-Hub-Signature-256"], "--secret-env", "HOOK_SECRET",
                   "-o", "json", "--home", twin)  # fmt: skip
    assert attested.code == 0, attested.err
    twin_shown = json.loads(
        cli("release", "show", "payments/1.0", "-o", "json", "--home", twin).out
    )
    (by_cli,) = [e for e in twin_shown["evidence"] if e["kind"] == "review"]
    for key in ("kind", "format", "sha256", "summary", "files"):
        assert hooked_review[key] == by_cli[key], key


def test_a_replayed_delivery_records_nothing_twice(instance: Instance, hooked: Path) -> None:
    body = (CORPUS / "push.5.json").read_bytes()
    headers = github_headers(body, "push", "replayed")
    with client(hooked) as api:
        first = api.post(GITHUB, content=body, headers=headers)
        assert first.status_code == 202
        _settled(instance, "github", "replayed")
        size = _size(hooked)
        for _ in range(3):
            again = api.post(GITHUB, content=body, headers=headers)
            assert again.status_code == 200
            assert again.json()["duplicate"] is True
            assert again.json()["outcome"] == "ignored"
            assert again.json()["seq"] == first.json()["seq"]
    assert _size(hooked) == size


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("missing", "missing"),
        ("wrong", "mismatch"),
        ("secret", "mismatch"),
        ("sha1", "malformed"),
    ],
)
def test_an_unsigned_or_forged_delivery_is_401_and_records_nothing(
    hooked: Path, change: str, reason: str
) -> None:
    body = (CORPUS / "pull_request_review.submitted.1.json").read_bytes()
    headers = github_headers(body, "pull_request_review", f"forged-{change}")
    if change == "missing":
        del headers["X-Hub-Signature-256"]
    elif change == "wrong":
        headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    elif change == "secret":
        headers = github_headers(body, "pull_request_review", "forged", secret="not-the-secret")  # noqa: S106
    else:
        headers["X-Hub-Signature-256"] = "sha1=" + "0" * 40
    size = _size(hooked)
    counted = _rejections("github", reason)
    with client(hooked) as api:
        bearer = {**headers, "Authorization": "Bearer cpt_" + "0" * 16 + "_" + "1" * 64}
        for attempt in (headers, bearer):
            answer = api.post(GITHUB, content=body, headers=attempt)
            assert answer.status_code == 401, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
            assert GITHUB_SECRET not in answer.text
    assert _size(hooked) == size
    assert _rejections("github", reason) == counted + 2
    assert not (hooked / "hooks" / "spool").exists() or not any(
        (hooked / "hooks" / "spool").iterdir()
    )


def test_a_changed_body_under_a_good_signature_is_refused(hooked: Path) -> None:
    body = (CORPUS / "pull_request_review.submitted.1.json").read_bytes()
    headers = github_headers(body, "pull_request_review", "changed")
    size = _size(hooked)
    with client(hooked) as api:
        answer = api.post(GITHUB, content=body.replace(b"commented", b"approved"), headers=headers)
    assert answer.status_code == 401
    assert _size(hooked) == size


def test_an_unconfigured_source_refuses_every_delivery(home: Path) -> None:
    body = b'{"zen": "Keep it logically awesome."}'
    size = _size(home)
    with client(home) as api:
        answer = api.post(GITHUB, content=body, headers=github_headers(body, "ping", "p-1"))
    assert answer.status_code == 409
    assert answer.json()["type"].endswith("/not-configured")
    assert _size(home) == size


def test_deliveries_are_recorded_only_as_a_pipeline_identity(home: Path, cli: Cli) -> None:
    done = cli("actor", "add", "boss", "--role", "admin", "--as", "setup", "--home", home)
    assert done.code == 0, done.err
    (home / "gh").write_text(GITHUB_SECRET)
    with (home / "config.toml").open("a") as config:
        config.write('\n[hooks.github]\nactor = "boss"\nsecret_file = "gh"\n')
    body = b'{"zen": "Keep it logically awesome."}'
    size = _size(home)
    with client(home) as api:
        answer = api.post(GITHUB, content=body, headers=github_headers(body, "ping", "p-2"))
    assert answer.status_code == 409, answer.text
    assert "a person, not a pipeline identity" in answer.json()["detail"]
    assert _size(home) == size


def test_an_oversized_delivery_is_413_and_records_nothing(hooked: Path) -> None:
    body = b'{"pad": "' + b"x" * (25 * 1024 * 1024) + b'"}'
    size = _size(hooked)
    with client(hooked) as api:
        answer = api.post(GITHUB, content=body, headers=github_headers(body, "push", "big"))
        assert answer.status_code == 413
        assert answer.json()["type"].endswith("/too-large")

        def chunks() -> Iterator[bytes]:  # no Content-Length: refused as it streams in
            for _ in range(26):
                yield b"x" * (1024 * 1024)

        streamed = api.post(GITHUB, content=chunks(), headers=github_headers(b"", "push", "big2"))
        assert streamed.status_code == 413
    assert _size(hooked) == size


def test_malformed_json_under_a_good_signature_is_recorded_as_rejected(
    instance: Instance, hooked: Path
) -> None:
    body = b'{"action": "submitted", "review": '
    with client(hooked) as api:
        answer = api.post(
            GITHUB, content=body, headers=github_headers(body, "pull_request_review", "bad-json")
        )
        assert answer.status_code == 202
    settled = _settled(instance, "github", "bad-json")
    assert settled.outcome is HookOutcome.REJECTED
    assert "not JSON" in (settled.reason or "")


def test_a_deployment_status_updates_the_recorded_deployment(
    instance: Instance, hooked: Path, cli: Cli, tmp_path: Path
) -> None:
    _, head = _legacy_in_a_release(tmp_path, cli, hooked)
    done = cli("deploy", "record", "--release", "payments/1.0", "--env", "production",
               "--artifact", "a" * 64, "--status", "started", "-o", "json",
               "--home", hooked)  # fmt: skip
    assert done.code in (0, 1), done.err
    deployment = json.loads(done.out)["id"]
    doc = json.loads((CORPUS / "deployment_status.created.1.json").read_text())
    old = doc["deployment"]["sha"]
    body = (
        (CORPUS / "deployment_status.created.1.json")
        .read_bytes()
        .replace(old.encode(), head.encode())
    )
    with client(hooked) as api:
        answer = api.post(
            GITHUB, content=body, headers=github_headers(body, "deployment_status", "dep-1")
        )
        assert answer.status_code == 202
    settled = _settled(instance, "github", "dep-1")
    assert settled.outcome is HookOutcome.RECORDED, settled.reason
    assert settled.reason == f"{deployment} is now succeeded"
    shown = instance.deployments.show(deployment)
    assert shown.row.status == "succeeded"
    assert shown.updates[-1].actor == HOOK_ACTORS["github"]


def test_gitlab_deliveries_need_the_token(instance: Instance, hooked: Path) -> None:
    body = json.dumps({"object_kind": "push", "ref": "refs/heads/main"}).encode()
    base = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "gl-1"}
    size = _size(hooked)
    with client(hooked) as api:
        for token in (None, "wrong-token"):
            headers = dict(base) if token is None else {**base, "X-Gitlab-Token": token}
            assert api.post(GITLAB, content=body, headers=headers).status_code == 401
        assert _size(hooked) == size
        ok = api.post(GITLAB, content=body, headers={**base, "X-Gitlab-Token": GITLAB_TOKEN})
        assert ok.status_code == 202, ok.text
    settled = _settled(instance, "gitlab", "gl-1")
    assert settled.outcome is HookOutcome.IGNORED
    assert "Push Hook" in (settled.reason or "")


def test_gitlab_standard_webhooks_signatures_are_checked_when_present(hooked: Path) -> None:
    body = json.dumps({"object_kind": "push"}).encode()
    headers = {
        "X-Gitlab-Event": "Push Hook",
        "X-Gitlab-Token": GITLAB_TOKEN,
        **standard_headers(body, "gl-2", int(time.time())),
    }
    size = _size(hooked)
    with client(hooked) as api:
        # [hooks.gitlab] has no signing secret: a signed delivery cannot be checked, and is
        # refused rather than taken on the token alone.
        answer = api.post(GITLAB, content=body, headers=headers)
    assert answer.status_code == 401
    assert _size(hooked) == size


def test_standard_webhooks_take_any_current_key_and_refuse_stale_timestamps(
    instance: Instance, hooked: Path
) -> None:
    body = json.dumps({"type": "invoice.paid", "timestamp": "2026-12-08T00:00:00Z", "data": {}})
    payload = body.encode()
    now = int(time.time())
    size = _size(hooked)
    stale = _rejections("standard", "expired")
    with client(hooked) as api:
        expired = api.post(
            STANDARD, content=payload, headers=standard_headers(payload, "m1", now - 310)
        )
        assert expired.status_code == 401
        future = api.post(
            STANDARD, content=payload, headers=standard_headers(payload, "m1", now + 310)
        )
        assert future.status_code == 401
        assert _size(hooked) == size
        assert _rejections("standard", "expired") == stale + 2
        # Either secret of the rotation signs; one of several signatures is enough.
        rotated = standard_headers(payload, "m2", now, key=ROTATED_KEY)
        assert api.post(STANDARD, content=payload, headers=rotated).status_code == 202
        several = standard_headers(payload, "m3", now)
        several["webhook-signature"] = "v1,AAAA v1a,xyz " + several["webhook-signature"]
        assert api.post(STANDARD, content=payload, headers=several).status_code == 202
        forged = standard_headers(payload, "m4", now, key=b"an attacker's own key 0123456789")
        assert api.post(STANDARD, content=payload, headers=forged).status_code == 401
    settled = _settled(instance, "standard", "m2")
    assert settled.outcome is HookOutcome.IGNORED
    assert "'invoice.paid'" in (settled.reason or "")
    assert settled.actor == HOOK_ACTORS["standard"]


def test_a_delivery_received_but_not_processed_is_processed_when_the_server_starts(
    hooked: Path, instance: Instance
) -> None:
    def received(delivery_id: str, clock: FixedClock) -> str:
        body = (CORPUS / "push.1.json").read_bytes().replace(b"simple-tag", delivery_id.encode())
        headers = {k.lower(): v for k, v in github_headers(body, "push", delivery_id).items()}
        with open_instance(hooked, clock=clock) as stopped:
            delivery = stopped.hooks.authenticate(HookSource.GITHUB, body, headers)
            receipt = stopped.hooks.receive(delivery)  # ... and the server stopped here
        assert receipt.record.outcome is None
        assert (hooked / "hooks" / "spool" / delivery.sha256).is_file()
        return delivery.sha256

    now = datetime.now(UTC)
    old = received("crashed", FixedClock(now - timedelta(minutes=3)))
    young = received("in-flight", FixedClock(now))
    with client(hooked):
        pass  # it starts, takes up what a stop left, and stops
    settled = _settled(instance, "github", "crashed")
    assert settled.outcome is HookOutcome.IGNORED
    assert not (hooked / "hooks" / "spool" / old).exists()
    # Received just now: perhaps another replica's to finish; left for a later start.
    in_flight = instance.hooks.delivery(HookSource.GITHUB, "in-flight")
    assert in_flight is not None
    assert in_flight.outcome is None
    assert (hooked / "hooks" / "spool" / young).is_file()


def test_the_ledger_rebuilds_to_the_same_deliveries_and_audits_clean(
    instance: Instance, hooked: Path, cli: Cli
) -> None:
    body = (CORPUS / "push.5.json").read_bytes()
    with client(hooked) as api:
        api.post(GITHUB, content=body, headers=github_headers(body, "push", "rb-1"))
        api.post(GITHUB, content=body, headers=github_headers(body, "push", "rb-2"))
    _settled(instance, "github", "rb-1")
    _settled(instance, "github", "rb-2")
    checked = cli("ledger", "rebuild", "--check", "--home", hooked)
    assert checked.code == 0, checked.out + checked.err
    verified = cli("ledger", "verify", "--home", hooked)
    assert verified.code == 0, verified.err
    audited = cli("ledger", "audit", "--home", hooked)
    assert audited.code == 0, audited.out + audited.err


def test_a_gitlab_approval_becomes_review_evidence(
    instance: Instance, hooked: Path, cli: Cli, tmp_path: Path
) -> None:
    _, head = _legacy_in_a_release(tmp_path, cli, hooked)
    hook = {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": {"id": 7, "name": "Carol", "username": "carol"},
        "project": {"id": 100, "path_with_namespace": "acme/payments"},
        "object_attributes": {
            "id": 99,
            "iid": 34,
            "author_id": 51,
            "action": "approved",
            "updated_at": "2026-11-25T10:00:00Z",
            "last_commit": {"id": head, "message": "PAY-2 more"},
        },
    }
    body = json.dumps(hook).encode()
    headers = {
        "X-Gitlab-Event": "Merge Request Hook",
        "X-Gitlab-Token": GITLAB_TOKEN,
        "Idempotency-Key": "gl-approval-1",
    }
    with client(hooked) as api:
        assert api.post(GITLAB, content=body, headers=headers).status_code == 202
    settled = _settled(instance, "gitlab", "gl-approval-1")
    assert settled.outcome is HookOutcome.RECORDED, settled.reason
    shown = json.loads(cli("release", "show", "payments/1.0", "-o", "json", "--home", hooked).out)
    (review,) = [e for e in shown["evidence"] if e["seq"] in settled.recorded]
    assert review["format"] == "gitlab/merge_request"
    assert (review["summary"]["reviewer"], review["summary"]["state"]) == ("carol", "approved")
    # A token authenticates the delivery, not the payload: the review says so.
    assert review["summary"]["webhook_signature"] == "not checked"
    assert review["recorded_by"] == HOOK_ACTORS["gitlab"]
