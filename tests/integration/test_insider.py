"""A database administrator without the signing key edits projection rows to sway a security
decision. Every fact a decision, an approval check or a deployment's authorization relies on
is held to the ledger entry it came from: the edit stops the command with exit 4, naming the
table and the entry, and nothing is recorded. Both backends."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from changeproof.services.instance import load_config, load_signer
from tests.conftest import Cli, query, tamper
from tests.integration.scenario import ENV, Changes, failing


@pytest.fixture
def changes(home: Path, tmp_path: Path, cli: Cli) -> Changes:
    return Changes(home, tmp_path, cli)


def size(s: Changes) -> int:
    doc = json.loads(s.run_ok("ledger", "status", "--output", "json"))
    return int(doc["tree_size"])


def gate(s: Changes, release: str, digest: str) -> tuple[int, str, str]:
    result = s.cli("gate", "--release", release, "--env", ENV, "--deployer", "pat",
                   "--artifact", digest, "--home", s.home, "-o", "json")  # fmt: skip
    return result.code, result.out, result.err


def seq_of(s: Changes, statement: str) -> int:
    ((seq,),) = query(s.home, statement)
    assert isinstance(seq, int)
    return seq


def test_a_flipped_decision_row_does_not_authorize_a_deployment(changes: Changes) -> None:
    """The DBA flips `decisions.allowed` of a blocked decision, then records a deployment:
    it used to be recorded as authorized by that decision."""
    s = changes
    release, digest = s.ready()
    code, out, _ = gate(s, release, digest)
    assert code == 1  # no approved change
    blocked = int(json.loads(out)["decision_seq"])
    tamper(s.home, f"UPDATE decisions SET allowed = TRUE WHERE seq = {blocked}")
    before = size(s)
    result = s.cli("deploy", "record", "--release", release, "--env", ENV, "--artifact", digest,
                   "--status", "succeeded", "--as", "pat", "--home", s.home)  # fmt: skip
    assert result.code == 4, result.out + result.err
    assert f"table decisions row for entry {blocked}" in result.err
    assert "allowed is true" in result.err
    assert size(s) == before  # nothing recorded
    # The document edited too, to agree with the column: the entry still disagrees.
    tamper(
        s.home,
        f"UPDATE decisions SET document = REPLACE(document, :old, :new) WHERE seq = {blocked}",
        params={"old": '"allowed":false', "new": '"allowed":true'},
    )
    result = s.cli("deploy", "record", "--release", release, "--env", ENV, "--artifact", digest,
                   "--status", "succeeded", "--as", "pat", "--home", s.home)  # fmt: skip
    assert result.code == 4
    assert f"ledger entry {blocked} says false" in result.err
    assert size(s) == before


def test_a_forged_approval_row_is_not_counted_by_the_gate(changes: Changes) -> None:
    """A row planted in change_verdicts used to be signed into a decision as an approval."""
    s = changes
    release, digest = s.ready()
    change = s.open(release)
    assert s.approve(change, "alan")[0] == 0
    seq = int(change.removeprefix("CHG-"))
    rfc_digest = str(s.show(change)["digest"])
    # barbara's approval, planted on an entry that is something else (the release's creation).
    other = seq_of(s, "SELECT seq FROM releases")
    tamper(
        s.home,
        "INSERT INTO change_verdicts (seq, change_seq, verdict, actor, digest, comment, "
        f"decided_at) VALUES ({other}, {seq}, 'approved', 'barbara', '{rfc_digest}', NULL, "
        "'2026-11-25T12:00:00.000000Z')",
    )
    before = size(s)
    code, _, err = gate(s, release, digest)
    assert code == 4, err
    assert f"table change_verdicts row for entry {other}" in err
    assert "release.created" in err
    assert size(s) == before


def test_a_forged_role_grant_does_not_make_an_approver(changes: Changes) -> None:
    """A row planted in actor_grants used to make dave an approver the gate counted."""
    s = changes
    release, digest = s.ready()
    change = s.open(release)
    assert s.approve(change, "alan")[0] == 0
    planted = seq_of(s, "SELECT MAX(seq) FROM change_verdicts")
    tamper(
        s.home,
        "INSERT INTO actor_grants (seq, name, kind, value, granted_by, revoked_seq) "
        f"VALUES ({planted}, 'dave', 'role', 'approver', 'admin', NULL)",
    )
    before = size(s)
    said = s.approve(change, "dave")
    assert said[0] == 4, said[1]
    assert f"table actor_grants row for entry {planted}" in said[1]
    code, _, err = gate(s, release, digest)
    assert code == 4
    assert "actor_grants" in err
    assert size(s) == before


def test_an_edited_evidence_row_does_not_change_the_verdict(changes: Changes) -> None:
    """The gate reads evidence from its ledger entries: a failing test run edited to look
    passing in the projection still fails."""
    s = changes
    release, digest = s.ready()
    s.tests(release, failing=True)
    failing_seq = seq_of(s, "SELECT MAX(seq) FROM evidence WHERE kind = 'test-run'")
    code, out, _ = gate(s, release, digest)
    assert "tests-passed" in failing(json.loads(out))
    tamper(
        s.home,
        f"UPDATE evidence SET summary = REPLACE(summary, :old, :new) WHERE seq = {failing_seq}",
        params={"old": '"failures":1', "new": '"failures":0'},
    )
    ((summary,),) = query(s.home, f"SELECT summary FROM evidence WHERE seq = {failing_seq}")
    assert '"failures":0' in str(summary)  # the projection now says it passed
    code, out, _ = gate(s, release, digest)
    assert code == 1
    assert "tests-passed" in failing(json.loads(out))
    # Moving one release's evidence onto another is caught: its entry names its own release.
    other, _ = s.ready("2.0")
    tamper(s.home, f"UPDATE evidence SET release = '{other}' WHERE seq = {failing_seq}")
    code, _, err = gate(s, other, digest)
    assert code == 4, err
    assert f"table evidence row for entry {failing_seq}" in err


def test_a_ledger_body_rewritten_with_its_leaf_hash_is_refused(changes: Changes) -> None:
    """Editing the entry itself, leaf hash and all, no longer leads to the signed root."""
    s = changes
    release, digest = s.ready()
    s.tests(release, failing=True)
    failing_seq = seq_of(s, "SELECT MAX(seq) FROM evidence WHERE kind = 'test-run'")
    ((body,),) = query(s.home, f"SELECT body FROM ledger_events WHERE seq = {failing_seq}")
    assert isinstance(body, bytes | memoryview)
    text = bytes(body).decode()
    assert '"failures":1' in text
    forged = text.replace('"failures":1', '"failures":0').encode()
    tamper(
        s.home,
        "UPDATE ledger_events SET body = :body, leaf_hash = :leaf WHERE seq = :seq",
        params={
            "body": forged,
            "leaf": hashlib.sha256(b"\x00" + forged).digest(),
            "seq": failing_seq,
        },
    )
    before = size(s)
    code, _, err = gate(s, release, digest)
    assert code == 4, err
    assert "do not lead to the root the instance signed" in err
    assert size(s) == before


# --- ledger audit: the ledger's meaning ---------------------------------------------------------


def audit(s: Changes) -> tuple[int, dict[str, object], str]:
    result = s.cli("ledger", "audit", "--home", s.home, "-o", "json")
    return result.code, json.loads(result.out), result.err


def approved_and_deployed(s: Changes) -> tuple[str, str]:
    release, digest = s.ready()
    change = s.open(release)
    assert s.approve(change, "alan")[0] == 0
    assert s.approve(change, "barbara")[0] == 0
    code, _, err = gate(s, release, digest)
    assert code == 0, err
    code, deployed = s.deploy(release, digest, "pat")
    assert (code, deployed["authorized"]) == (0, True)
    return release, digest


def test_an_honest_ledger_passes_its_audit(changes: Changes) -> None:
    approved_and_deployed(changes)
    code, report, _ = audit(changes)
    assert code == 0, report
    assert report["findings"] == []
    assert (report["deployments"], report["approvals"]) == (1, 2)
    assert isinstance(report["decisions"], int)
    assert report["decisions"] >= 1
    text = changes.cli("ledger", "audit", "--home", changes.home)
    assert text.out.startswith("OK: ")


def test_a_row_hidden_during_a_decision_and_restored_is_found_by_the_audit(
    changes: Changes,
) -> None:
    """The DBA hides a failing test run's row while the gate decides, then puts it back:
    `ledger verify` and `ledger rebuild --check` pass, the audit names the decision."""
    s = changes
    release, digest = s.ready()
    change = s.open(release)
    s.approve(change, "alan")
    s.approve(change, "barbara")
    s.tests(release, failing=True)
    s.run_ok("change", "refresh", change, "--actor", "ada")
    s.approve(change, "alan")
    s.approve(change, "barbara")
    hidden = seq_of(s, "SELECT MAX(seq) FROM evidence WHERE kind = 'test-run'")
    saved = query(s.home, f"SELECT * FROM evidence WHERE seq = {hidden}")
    tamper(s.home, f"DELETE FROM evidence WHERE seq = {hidden}")
    code, out, err = gate(s, release, digest)
    assert code == 0, err  # the hidden run is a row nobody can name: the gate cannot see it
    decided = int(json.loads(out)["decision_seq"])
    columns = ", ".join(f":c{i}" for i in range(len(saved[0])))
    tamper(
        s.home,
        f"INSERT INTO evidence VALUES ({columns})",
        params={f"c{i}": v for i, v in enumerate(saved[0])},
    )
    assert s.cli("ledger", "verify", "--home", s.home).code == 0
    assert s.cli("ledger", "rebuild", "--check", "--home", s.home).code == 0
    code, report, _ = audit(s)
    assert code == 4
    findings = report["findings"]
    assert isinstance(findings, list)
    assert [(f["seq"], f["kind"]) for f in findings] == [(decided, "decision")]
    assert "recorded allowed, replays blocked" in findings[0]["message"]
    assert "tests-passed" in findings[0]["message"]
    text = s.cli("ledger", "audit", "--home", s.home)
    assert text.code == 4
    assert f"entry {decided} (decision)" in text.err


def _record(s: Changes, event_type: str, data: dict[str, object], actor: str) -> int:
    """Append an entry as an older changeproof (or someone holding the key) would have."""
    from changeproof.bootstrap import open_instance
    from changeproof.domain.events import ActorId, Event
    from changeproof.store.unit_of_work import UnitOfWork

    with open_instance(s.home) as instance:
        signer = load_signer(load_config(s.home))
        with UnitOfWork(instance.db, signer, instance.clock) as uow:
            uow.record(Event(event_type, ActorId(actor), instance.clock.now(), data))  # type: ignore[arg-type]
        return uow.recorded[0].seq


def test_a_deployment_authorized_by_a_blocked_decision_is_found_by_the_audit(
    changes: Changes,
) -> None:
    """What the flipped-row attack left in ledgers before deployments were held to their
    decision's entry: a deployment recorded as authorized by a decision that blocked."""
    s = changes
    release, digest = s.ready()
    code, out, _ = gate(s, release, digest)
    assert code == 1
    blocked = int(json.loads(out)["decision_seq"])
    deployed = _record(
        s,
        "deployment.recorded",
        {
            "release": release,
            "environment": ENV,
            "artifact": digest,
            "status": "succeeded",
            "pipeline_run": None,
            "authorized": True,
            "reason": f"allowed by gate decision {blocked}",
            "decision": blocked,
            "change": None,
            "urgent": False,
        },
        "pat",
    )
    code, report, _ = audit(s)
    assert code == 4
    findings = report["findings"]
    assert isinstance(findings, list)
    assert [(f["seq"], f["kind"]) for f in findings] == [(deployed, "deployment")]
    assert f"authorized by decision {blocked}, which blocked the release" in findings[0]["message"]


def test_a_decision_counting_an_approval_that_does_not_exist_is_found_by_the_audit(
    changes: Changes,
) -> None:
    """What a forged verdict row left in ledgers before the gate held verdicts to their
    entries: a decision that counted an approval no entry holds."""
    s = changes
    release, digest = s.ready()
    change = s.open(release)
    s.approve(change, "alan")
    s.approve(change, "barbara")
    code, out, _ = gate(s, release, digest)
    assert code == 0
    document = json.loads(out)
    for control in document["controls"]:
        if control["id"] == "change-approval":
            forged = next(r for r in control["evidence"] if r["kind"] == "approval")
            forged["note"] = "dave"
    forged_seq = _record(
        s,
        "gate.decided",
        {k: v for k, v in document.items() if k not in ("decision_seq", "dry_run",
                                                         "active_policy_digest")}
        | {"declared": None, "now": "2026-11-25T12:00:00+00:00"},
        "ci",
    )  # fmt: skip
    code, report, _ = audit(s)
    assert code == 4
    findings = report["findings"]
    assert isinstance(findings, list)
    kinds = {(f["seq"], f["kind"]) for f in findings}
    assert (forged_seq, "approval") in kinds
    message = next(f["message"] for f in findings if f["kind"] == "approval")
    assert "by dave" in message
    assert "alan's approval" in message or "barbara's approval" in message


def test_a_decision_under_a_policy_that_was_not_active_authorizes_nothing(
    changes: Changes,
) -> None:
    """Before dry runs, `gate --policy lax.yaml` recorded an allowing decision under a policy
    that was never active. Such a decision, in a ledger from then, authorizes no deployment."""
    from changeproof.policy.loader import load_policy

    s = changes
    release, digest = s.ready()
    code, out, _ = gate(s, release, digest)
    assert code == 1
    lax = load_policy(b"version: 1\nenvironments:\n  pci-production:\n    controls: []\n", "lax")
    _record(
        s,
        "policy.recorded",
        {"digest": lax.digest, "policy": lax.policy.model_dump(mode="json"), "source": "lax"},
        "ci",
    )
    document = json.loads(out)
    decided = {
        k: v
        for k, v in document.items()
        if k not in ("decision_seq", "dry_run", "active_policy_digest")
    } | {
        "allowed": True,
        "controls": [],
        "policy_digest": lax.digest,
        "declared": None,
        "now": "2026-11-25T12:00:00+00:00",
    }
    legacy = _record(s, "gate.decided", decided, "ci")
    code, deployed = s.deploy(release, digest, "pat")
    assert code == 1
    assert deployed["authorized"] is False
    assert f"decision {legacy}: it was made under policy {lax.digest[:12]}" in str(
        deployed["reason"]
    )
    assert "only a decision under the active policy authorizes a deployment" in str(
        deployed["reason"]
    )


def test_a_token_row_pointed_at_another_actor_authenticates_nobody(
    changes: Changes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Who a token acts as is read from the entry that created it: a DBA who points dave's
    token row at alan (an approver) does not get to approve as alan."""
    s = changes
    release, _ = s.ready()
    change = s.open(release)
    created = s.cli("token", "create", "--actor", "dave", "--as", "dave", "--home", s.home,
                    "-o", "json")  # fmt: skip
    assert created.code == 0, created.err
    token = json.loads(created.out)
    tamper(s.home, f"UPDATE tokens SET actor = 'alan' WHERE id = '{token['id']}'")
    monkeypatch.setenv("CHANGEPROOF_TOKEN", token["token"])
    before = size(s)
    result = s.cli("change", "approve", change, "--home", s.home)
    assert result.code == 4, result.out + result.err
    assert "table tokens row for entry" in result.err
    assert 'says actor is "alan", but ledger entry' in result.err
    monkeypatch.delenv("CHANGEPROOF_TOKEN")
    assert size(s) == before


def test_a_planted_activation_row_does_not_make_a_lax_policy_active(changes: Changes) -> None:
    """A row planted in policy_activations (with the lax policy's document in policies, whose
    digest checks out) would make the gate decide, and record, under a policy nobody
    activated: the activation row is held to its entry first."""
    from changeproof.policy.loader import load_policy

    s = changes
    release, digest = s.ready()
    lax = load_policy(b"version: 1\nenvironments:\n  pci-production:\n    controls: []\n", "lax")
    planted = seq_of(s, "SELECT MAX(seq) FROM artifacts")  # newer than the real activation
    tamper(
        s.home,
        "INSERT INTO policies (digest, seq, document, source) VALUES (:d, :s, :doc, 'lax')",
        "INSERT INTO policy_activations (seq, digest, previous_digest, source, actor, "
        "activated_at) VALUES (:s, :d, NULL, 'lax', 'admin', '2026-11-25T12:00:00.000000Z')",
        params={"d": lax.digest, "s": planted, "doc": lax.document},
    )
    before = size(s)
    code, _, err = gate(s, release, digest)
    assert code == 4, err
    assert f"table policy_activations row for entry {planted}" in err
    assert size(s) == before


def test_an_rfc_row_edited_out_of_shape_is_an_integrity_failure(changes: Changes) -> None:
    """The DBA edits a change's RFC rows into a shape the code never wrote (a quorum as text,
    or no JSON at all): approving, showing or gating on it says the store was altered (exit
    4) and records nothing, as for an edit the digest catches."""
    s = changes
    release, _ = s.ready()
    change = s.open(release)
    seq = int(change.removeprefix("CHG-"))
    for old, new in (('"quorum":2', '"quorum":"2"'), ("{", "{{")):
        for table in ("changes", "change_revisions"):
            column = "seq" if table == "changes" else "change_seq"
            tamper(
                s.home,
                f"UPDATE {table} SET document = REPLACE(document, :old, :new) "
                f"WHERE {column} = {seq}",
                params={"old": old, "new": new},
            )
        before = size(s)
        for argv in (("change", "approve", change, "--as", "alan"), ("change", "show", change)):
            result = s.cli(*argv, "--home", s.home)
            assert result.code == 4, result.out + result.err
            assert "the store was altered behind the ledger" in result.err
        assert size(s) == before
