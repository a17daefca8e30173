"""The gate in real repositories with real evidence: one scenario per control and per
classification path, each asserting the exit code, the failing controls and the words."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from changeproof.bootstrap import Instance, open_instance
from changeproof.domain.decisions import ControlStatus
from changeproof.domain.releases import ReleaseRef
from changeproof.ledger import NoteSigner
from changeproof.services.evidence import AttestKind
from changeproof.services.gate import GateRequest, GateService
from changeproof.services.instance import load_config, load_signer
from changeproof.store import ledger
from changeproof.store.entry_check import entry_checks
from changeproof.store.unit_of_work import UnitOfWork
from tests.conftest import Cli, ints
from tests.integration.scenario import ADA, POLICY, Scenario, compliant, failing


@pytest.fixture
def scenario(home: Path, tmp_path: Path, cli: Cli) -> Scenario:
    return Scenario(home, tmp_path, cli)


def test_a_compliant_release_is_allowed_and_recorded(scenario: Scenario) -> None:
    release = compliant(scenario)
    code, doc = scenario.gate(release, "production", "--deployer", "pat")
    assert code == 0, failing(doc)
    assert doc["allowed"] is True
    assert doc["classification"] == "normal"
    assert doc["approval_required"] is True
    assert isinstance(doc["decision_seq"], int)
    assert len(str(doc["policy_digest"])) == 64


def test_a_gate_deciding_again_reads_its_policy_file_again(scenario: Scenario) -> None:
    release = compliant(scenario)
    request = GateRequest(ReleaseRef.parse(release), "production", scenario.policy, "pat")
    stricter = POLICY.replace(
        "- independent-review\n", "- independent-review: {min_approvals: 2}\n"
    )
    scenario.activate()
    with open_instance(scenario.home) as instance:
        first = instance.gate.decide(request, actor="ci")
        again = instance.gate.decide(request, actor="ci")
        scenario.policy.write_text(stricter)
        edited = instance.gate.decide(request, actor="ci")
    assert first.decision.allowed
    assert again.decision == first.decision
    assert not edited.decision.allowed
    assert edited.decision.policy_digest != first.decision.policy_digest
    # The edited file is not the active policy: its decision is a dry run, recorded nowhere.
    assert edited.dry_run
    assert edited.seq is None
    assert edited.active_digest == first.decision.policy_digest
    scenario.activate()
    with open_instance(scenario.home) as instance:
        active = instance.gate.decide(request, actor="ci")
        assert active.seq is not None
        replayed = instance.gate.replay(active.seq)
    assert active.decision == edited.decision
    assert replayed.same


def test_self_approval_fails_independent_review(scenario: Scenario) -> None:
    head = scenario.repo.commit("PAY-1 change", author=ADA)
    release = scenario.release()
    scenario.review(release, "ada-l", head)
    scenario.tests(release)
    scenario.scan(release, suppressed=True)
    code, doc = scenario.gate(release, "production", "--deployer", "pat")
    assert code == 1
    reason = failing(doc)["independent-review"]
    assert head[:7] in reason
    assert "ada" in reason


def test_approval_by_a_co_author_does_not_count(scenario: Scenario) -> None:
    head = scenario.repo.commit(
        "PAY-1 pair work\n\nCo-authored-by: Carol <carol@example.com>", author=ADA
    )
    release = scenario.release()
    scenario.review(release, "carol-c", head)
    code, doc = scenario.gate(release, "production", "--deployer", "pat")
    assert code == 1
    assert "carol" in failing(doc)["independent-review"]


def test_review_of_an_older_sha_does_not_cover_a_later_commit(scenario: Scenario) -> None:
    first = scenario.repo.commit("PAY-1 one", author=ADA)
    later = scenario.repo.commit("PAY-2 two", author=ADA)
    release = scenario.release()
    scenario.review(release, "carol-c", first)
    code, doc = scenario.gate(release, "production", "--deployer", "pat")
    assert code == 1
    assert later[:7] in failing(doc)["independent-review"]


def test_changes_requested_after_approval_cancels_it(scenario: Scenario) -> None:
    head = scenario.repo.commit("PAY-1 one", author=ADA)
    release = scenario.release()
    scenario.review(release, "carol-c", head)
    scenario.review(release, "carol-c", head, state="changes_requested")
    code, doc = scenario.gate(release, "production", "--deployer", "pat")
    assert code == 1
    assert "independent-review" in failing(doc)


def test_a_migration_needs_the_dba(scenario: Scenario) -> None:
    head = scenario.repo.commit(
        "PAY-1 add column", {"db/migrations/0007.sql": "ALTER TABLE t ADD c INT;\n"}, author=ADA
    )
    release = scenario.release()
    scenario.review(release, "carol-c", head)
    scenario.tests(release)
    scenario.scan(release, suppressed=True)
    code, doc = scenario.gate(release, "production", "--deployer", "pat")
    assert code == 1
    reason = failing(doc)["expert-review"]
    assert "db/migrations/0007.sql" in reason
    assert "dba" in reason
    scenario.review(release, "grace-h", head)
    code, doc = scenario.gate(release, "production", "--deployer", "pat")
    assert code == 0, failing(doc)


def test_a_failing_test_blocks(scenario: Scenario) -> None:
    release = compliant(scenario)
    scenario.tests(release, failing=True)
    code, doc = scenario.gate(release, "production", "--deployer", "pat")
    assert code == 1
    assert "test_refund" in failing(doc)["tests-passed"]


def test_a_scan_error_blocks_unless_suppressed(scenario: Scenario) -> None:
    release = compliant(scenario)
    code, _ = scenario.gate(release, "production", "--deployer", "pat")
    assert code == 0
    scenario.scan(release, suppressed=False)
    code, doc = scenario.gate(release, "production", "--deployer", "pat")
    assert code == 1
    assert "B324" in failing(doc)["scan-clean"]


def test_a_deployer_who_authored_a_commit_or_lacks_the_role_is_blocked(scenario: Scenario) -> None:
    release = compliant(scenario)
    code, doc = scenario.gate(release, "production", "--deployer", "ada")
    assert code == 1
    reasons = failing(doc)
    assert "deployer-not-author" in reasons
    assert "deployer-role" in reasons
    assert "production-pusher" in reasons["deployer-role"]


def test_a_deploy_inside_a_freeze_is_blocked_unless_urgent(scenario: Scenario) -> None:
    release = compliant(scenario)
    scenario.tests(release, failing=True)
    frozen = (
        scenario.policy.read_text()
        .replace("2026-12-20", "2020-01-01")
        .replace("2027-01-04", "2100-01-01")
    )
    scenario.policy.write_text(frozen)
    code, doc = scenario.gate(release, "frozen", "--deployer", "pat")
    assert code == 1
    assert "year end" in failing(doc)["freeze-window"]
    code, doc = scenario.gate(
        release, "frozen", "--deployer", "pat", "--urgent", "--reason", "INC-7 outage"
    )
    assert code == 0, failing(doc)
    assert doc["classification"] == "urgent"
    assert doc["bypassed"] == ["tests-passed"]


def test_classification_standard_and_a_false_standard_claim(scenario: Scenario) -> None:
    scenario.repo.commit("PAY-1 docs", {"docs/guide.md": "hello\n"}, author=ADA)
    release = scenario.release("docs")
    _, doc = scenario.gate(release, "production", "--deployer", "pat")
    assert doc["classification"] == "standard"
    scenario.repo.commit("PAY-2 migrate", {"db/migrations/1.sql": "x\n"}, author=ADA)
    risky = scenario.release("risky")
    _, doc = scenario.gate(risky, "production", "--deployer", "pat", "--declare", "standard")
    assert doc["classification"] == "normal"
    assert str(doc["classification_reason"]).startswith(
        "declared standard, but it changes db/migrations/1.sql"
    )


def test_every_recorded_decision_replays_to_the_same_verdict(scenario: Scenario) -> None:
    release = compliant(scenario)
    seqs = []
    for deployer in ("pat", "ada"):
        _, doc = scenario.gate(release, "production", "--deployer", deployer)
        seqs.append(doc["decision_seq"])
    scenario.tests(release, failing=True)  # later evidence must not change a past verdict
    for seq in seqs:
        result = scenario.cli("decision", "replay", str(seq), "--home", scenario.home, "-o", "json")
        assert result.code == 0, result.err
        assert json.loads(result.out)["same"] is True


class _WrittenBehindItsBack(UnitOfWork):
    """An optimistic unit of work during whose reads another instance records something."""

    def __init__(self, instance: Instance, signer: NoteSigner, meanwhile: Callable[[], object]):
        super().__init__(instance.db, signer, instance.clock, optimistic=True)
        self._meanwhile = meanwhile

    def __enter__(self) -> UnitOfWork:
        super().__enter__()
        ledger.read_head(self.conn)  # the snapshot begins with the first read
        self._meanwhile()
        return self


def test_a_decision_whose_facts_went_stale_is_made_again_on_the_new_ones(
    scenario: Scenario,
) -> None:
    """The gate reads and records in one transaction holding no lock; when another writer
    appends meanwhile (here: a failing test run), nothing of the stale decision is recorded
    and the release is decided again, under the ledger's lock, on what is now recorded."""
    release = compliant(scenario)
    scenario.activate()
    failing_run = scenario.tmp / "failing.xml"
    failing_run.write_text(
        '<testsuite name="pytest" tests="1"><testcase classname="t" name="test_refund">'
        '<failure message="boom">assert 1 == 2</failure></testcase></testsuite>'
    )
    signer = load_signer(load_config(scenario.home))
    attempts: list[bool] = []
    with open_instance(scenario.home) as instance, open_instance(scenario.home) as other:

        def record_failing_run() -> object:
            return other.evidence.attest(
                AttestKind.TEST_RESULTS, [failing_run], ReleaseRef.parse(release), actor="ci"
            )

        def unit_of_work(*, optimistic: bool = False) -> UnitOfWork:
            attempts.append(optimistic)
            if not optimistic:
                return UnitOfWork(instance.db, signer, instance.clock)
            return _WrittenBehindItsBack(instance, signer, record_failing_run)

        gate = GateService(
            instance.db, unit_of_work, instance.clock, entry_checks(signer.verifier, signer.name)
        )
        request = GateRequest(ReleaseRef.parse(release), "production", scenario.policy, "pat")
        result = gate.decide(request, actor="ci")

    assert attempts == [True, False]
    assert not result.decision.allowed
    reasons = {c.id: c.reason for c in result.decision.controls if c.status is ControlStatus.FAIL}
    assert set(reasons) == {"tests-passed"}
    assert "test_refund" in reasons["tests-passed"]
    (failing_seq,) = ints(
        scenario.home,
        "SELECT seq FROM evidence WHERE kind = 'test-run' ORDER BY seq DESC LIMIT 1",
    )
    assert result.as_of_seq > failing_seq
    assert ints(
        scenario.home, "SELECT seq FROM ledger_events WHERE event_type = 'gate.decided'"
    ) == [result.seq]
    verified = scenario.cli("ledger", "verify", "--home", scenario.home)
    assert verified.code == 0, verified.err
