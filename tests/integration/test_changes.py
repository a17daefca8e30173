"""Change requests, approvals, urgent changes and deployments, end to end in real
repositories with real evidence, through the CLI a pipeline and an approver use."""

from __future__ import annotations

import html
import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from changeproof.bootstrap import open_instance
from changeproof.domain.errors import PermissionDeniedError
from changeproof.domain.releases import ReleaseRef
from changeproof.services.changes import OpenRequest
from tests.conftest import Cli, FixedClock
from tests.integration.scenario import ENV, Changes, failing
from tests.integration.test_ticketing import TOKEN, FakeRemote, remote  # noqa: F401 - a fixture


@pytest.fixture
def changes(home: Path, tmp_path: Path, cli: Cli) -> Iterator[Changes]:
    """A scenario; after it, every entry verifies and every projection equals its rebuild
    from the ledger, so each state change above was a ledger event and nothing else."""
    scenario = Changes(home, tmp_path, cli)
    yield scenario
    assert "OK: every projection equals its rebuild" in scenario.run_ok("ledger", "rebuild",
                                                                        "--check")  # fmt: skip
    assert scenario.run_ok("ledger", "verify").startswith("OK")


def test_a_normal_change_approved_by_quorum_deploys(changes: Changes) -> None:
    release, digest = changes.ready()
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert code == 1
    assert "no change request for payments/1.0" in failing(doc)["change-approval"]
    change = changes.open(release)
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert "needs 2 more approvals from role approver" in failing(doc)["change-approval"]
    assert changes.approve(change, "alan")[0] == 0
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert "needs 1 more approval from role approver" in failing(doc)["change-approval"]
    assert "counted so far: alan" in failing(doc)["change-approval"]
    assert changes.approve(change, "barbara")[0] == 0
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert code == 0, failing(doc)
    shown = changes.show(change)
    assert shown["state"] == "approved"
    assert [a["actor"] for a in shown["approvals"]] == ["alan", "barbara"]
    code, deployed = changes.deploy(release, digest, "pat")
    assert code == 0
    assert deployed["authorized"] is True
    assert deployed["change"] == change
    listed = changes.run_ok("deploy", "list", "--env", ENV, "--output", "json")
    assert [(d["deployer"], d["status"]) for d in json.loads(listed)] == [("pat", "succeeded")]
    assert changes.run_ok("ledger", "rebuild", "--check")


def test_approving_ones_own_change_is_refused(changes: Changes) -> None:
    release, _ = changes.ready()
    change = changes.open(release)
    code, said = changes.approve(change, "ada")  # ada wrote the commit and opened the change
    assert code == 2
    assert "ada cannot approve" in said
    assert "separation of duties" in said
    assert changes.show(change)["approvals"] == []


def test_new_evidence_voids_earlier_approvals_until_refreshed_and_re_approved(
    changes: Changes,
) -> None:
    release, digest = changes.ready()
    change = changes.open(release)
    changes.approve(change, "alan")
    changes.approve(change, "barbara")
    before = str(changes.show(change)["digest"])
    changes.scan(release, suppressed=True)  # new evidence after the approvals
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert code == 1
    reason = failing(doc)["change-approval"]
    assert f"digest {before[:12]}" in reason
    assert f"change refresh {change}" in reason
    assert "alan, barbara" in reason
    refreshed = changes.run_ok("change", "refresh", change)
    assert "approvals by alan, barbara no longer count" in refreshed
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    reason = failing(doc)["change-approval"]
    assert "alan, barbara approved an earlier RFC" in reason
    changes.approve(change, "alan")
    changes.approve(change, "barbara")
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert code == 0, failing(doc)


def test_a_migration_needs_a_dba_among_the_approvers(changes: Changes) -> None:
    release, digest = changes.ready(files={"db/migrations/0002_refunds.sql": "ALTER TABLE x;"})
    change = changes.open(release)
    changes.approve(change, "alan")
    changes.run_ok("actor", "add", "zoe", "--email", "zoe@example.com", "--role", "approver",
                   "--actor", "admin")  # fmt: skip
    changes.approve(change, "zoe")
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert "a member of group dba" in failing(doc)["change-approval"]
    rfc = changes.show(change)
    assert rfc["what"]["migrations"] == ["db/migrations/0002_refunds.sql"]
    assert rfc["risk"]["level"] == "high"
    changes.approve(change, "barbara")
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert code == 0, failing(doc)


def test_a_rejected_change_cannot_deploy(changes: Changes) -> None:
    release, digest = changes.ready()
    change = changes.open(release)
    changes.approve(change, "alan")
    changes.run_ok("change", "reject", change, "--as", "barbara", "--reason", "no rollback plan")
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert "rejected by barbara: no rollback plan" in failing(doc)["change-approval"]
    code, said = changes.approve(change, "barbara")
    assert code == 2
    assert "was rejected" in said
    code, deployed = changes.deploy(release, digest, "pat")
    assert code == 1
    assert deployed["authorized"] is False


def test_an_unauthorized_deployment_is_recorded_and_flagged(changes: Changes) -> None:
    release, digest = changes.ready()
    code, deployed = changes.deploy(release, digest, "pat")
    assert code == 1
    assert deployed["authorized"] is False
    assert "no gate decision allowed payments/1.0 into pci-production" in str(deployed["reason"])
    listed = json.loads(changes.run_ok("deploy", "list", "--output", "json"))
    assert [d["authorized"] for d in listed] == [False]


def test_a_deployer_without_production_pusher_is_blocked(changes: Changes) -> None:
    release, digest = changes.ready()
    change = changes.open(release)
    changes.approve(change, "alan")
    changes.approve(change, "barbara")
    code, doc = changes.gate(release, ENV, "--deployer", "dave", "--artifact", digest)
    assert code == 1
    assert "production-pusher" in failing(doc)["deployer-role"]
    code, _ = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert code == 0
    code, deployed = changes.deploy(release, digest, "dave")
    assert code == 1
    assert "asked for deployer pat, not dave" in str(deployed["reason"])


def test_an_urgent_change_deploys_with_one_emergency_approval_and_is_reviewed_late(
    changes: Changes, home: Path
) -> None:
    release, digest = changes.ready()
    code, _ = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest,
                           "--urgent", "--reason", "card outage")  # fmt: skip
    assert code == 1  # no change yet: the RFC takes its approval rule from this decision
    # Opened on a Friday: two business days later is Tuesday.
    clock = FixedClock(datetime(2026, 1, 2, 15, 0, tzinfo=UTC))
    with open_instance(home, clock) as instance:
        view = instance.changes.open(
            OpenRequest(ReleaseRef.parse(release), ENV, urgent=True, reason="card outage"),
            by="ada",
        )
        change = view.id
        assert view.row.review_due == "2026-01-06T15:00:00.000000Z"
        clock.advance(days=3)
        assert [v.id for v in instance.changes.list(overdue=True)] == []
        clock.advance(days=2)
        assert [v.id for v in instance.changes.list(overdue=True)] == [change]
    code, said = changes.approve(change, "alan")  # an approver, but not an emergency approver
    assert code != 0
    assert "needs role emergency-approver" in said
    assert changes.approve(change, "eve")[0] == 0
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest,
                             "--urgent", "--reason", "card outage")  # fmt: skip
    assert code == 0, failing(doc)
    assert doc["classification"] == "urgent"
    assert changes.deploy(release, digest, "pat")[0] == 0
    overdue = changes.cli("change", "overdue", "--output", "json", "--home", changes.home)
    assert overdue.code == 1  # something is overdue: a monitor alerts
    assert [c["id"] for c in json.loads(overdue.out)] == [change]
    assert "URGENT" in changes.run_ok("change", "list")
    changes.run_ok("change", "review", change, "--as", "barbara", "--outcome", "accepted",
                   "--notes", "hotfix matched the incident")  # fmt: skip
    assert json.loads(changes.run_ok("change", "overdue", "--output", "json")) == []
    assert changes.show(change)["review"]["outcome"] == "accepted"
    assert "URGENT" in changes.run_ok("deploy", "list")


def test_an_overdue_review_stops_its_requester_opening_another_urgent_change(
    changes: Changes, home: Path
) -> None:
    """Urgent changes cannot become the normal path: whoever owes an overdue after-the-fact
    review opens no other urgent change until it is done; others still may."""
    release, _ = changes.ready()
    other, _ = changes.ready("2.0")
    clock = FixedClock(datetime(2026, 1, 2, 15, 0, tzinfo=UTC))
    with open_instance(home, clock) as instance:
        first = instance.changes.open(
            OpenRequest(ReleaseRef.parse(release), ENV, urgent=True, reason="card outage"),
            by="ada",
        ).id
        clock.advance(days=5)  # the review was due on Tuesday
        with pytest.raises(PermissionDeniedError) as refused:
            instance.changes.open(
                OpenRequest(ReleaseRef.parse(other), ENV, urgent=True, reason="again"),
                by=" ADA ",
            )
        assert f"{first}, an urgent change requested by ada" in refused.value.message
        assert f"change review {first}" in (refused.value.hint() or "")
        # Someone else may, and ada may still open a normal change.
        instance.changes.open(
            OpenRequest(ReleaseRef.parse(other), ENV, urgent=True, reason="outage"), by="dave"
        )
        instance.changes.open(OpenRequest(ReleaseRef.parse(other), ENV), by="ada")
        instance.changes.review(first, by="barbara", outcome="accepted", notes="fine")
        instance.changes.open(
            OpenRequest(ReleaseRef.parse(other), ENV, urgent=True, reason="now"), by="ada"
        )


def test_markdown_and_html_state_the_same_facts_as_the_json(changes: Changes, home: Path) -> None:
    with (home / "config.toml").open("a", encoding="utf-8") as config:
        config.write('\n[tickets]\njira_url = "https://acme.atlassian.net/browse/{key}"\n')
    release, _ = changes.ready()
    plan = changes.tmp / "plan.md"
    plan.write_text("1. helm upgrade payments | canary\n2. watch the <dashboards>\n")
    change = changes.open(release, "--plan", plan, "--window",
                          "2026-12-01T22:00:00Z/2026-12-01T23:00:00Z")  # fmt: skip
    changes.approve(change, "alan")
    doc = changes.show(change)
    assert doc["why"]["tickets"][0]["url"] == "https://acme.atlassian.net/browse/PAY-1"
    md = changes.run_ok("change", "show", change, "--format", "md")
    page = changes.run_ok("change", "show", change, "--format", "html")
    assert _markdown_cells(md) == _html_cells(page)
    assert "helm upgrade payments | canary" in md
    assert "helm upgrade payments | canary" in html.unescape(page)
    cells = _markdown_cells(md)
    for fact in (
        change,
        str(doc["digest"]),
        "2026-12-01T22:00:00Z",
        "alan",
        "https://acme.atlassian.net/browse/PAY-1",
        *(str(c["sha"]) for c in doc["what"]["commits"]),
        *(str(e["sha256"]) for e in doc["evidence"]),
    ):
        assert fact in cells, fact


def _markdown_cells(text: str) -> list[str]:
    """Every table cell of a Markdown page, in order, unescaped."""
    cells: list[str] = []
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            # Split on the pipes that are not escaped, then undo every backslash escape.
            for cell in re.split(r"(?<!\\) \| ", line[2:-2].replace("\\\\", "\x00")):
                unescaped = re.sub(r"\\(.)", r"\1", cell).replace("\x00", "\\")
                cells.append(html.unescape(unescaped))
    return cells


def _html_cells(page: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", page)]


def _together(*calls: Callable[[], object]) -> list[object]:
    """Run each call in its own thread, released at the same moment; results or errors."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[i] = call()
        except Exception as e:  # what the caller would have seen
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_approvers_approving_at_the_same_moment_each_count_once(
    changes: Changes, home: Path
) -> None:
    release, digest = changes.ready()
    changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    change = changes.open(release)
    instances = [open_instance(home) for _ in range(4)]
    try:
        _together(
            *(
                (lambda i=i, who=who: instances[i].changes.approve(change, by=who))
                for i, who in enumerate(("alan", "barbara", "alan", "barbara"))
            )
        )
    finally:
        for instance in instances:
            instance.close()
    shown = changes.show(change)
    assert sorted(a["actor"] for a in shown["approvals"]) == ["alan", "barbara"]
    assert shown["state"] == "approved"
    assert changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)[0] == 0


def test_a_refresh_racing_an_approval_never_lets_the_old_digest_count(
    changes: Changes, home: Path
) -> None:
    release, digest = changes.ready()
    changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    change = changes.open(release)
    for round_ in range(3):
        old = str(changes.show(change)["digest"])
        rebuilt = changes.tmp / f"rebuild-{round_}.tar.gz"
        rebuilt.write_bytes(f"rebuild {round_}\n".encode())
        changes.run_ok("attest", "artifact", rebuilt, "--release", release)
        _race(home, change, old)
        shown = changes.show(change)
        assert shown["digest"] != old
        counted = [a for a in shown["approvals"] if a["counts"]]
        assert all(a["digest"] == shown["digest"] for a in counted)
        assert "alan" not in [a["actor"] for a in counted]


def _race(home: Path, change: str, old: str) -> None:
    """A refresh and an approval of the digest read before it, at the same moment."""
    first, second = open_instance(home), open_instance(home)
    try:
        _together(
            lambda: first.changes.refresh(change, by="ci"),
            lambda: second.changes.approve(change, by="alan", digest=old),
        )
    finally:
        first.close()
        second.close()


def test_export_to_servicenow_creates_once_updates_after_a_refresh_and_keeps_no_token(
    changes: Changes,
    home: Path,
    remote: FakeRemote,  # noqa: F811 - the fake ServiceNow of test_ticketing, a fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release, digest = changes.ready()
    changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    change = changes.open(release)
    with (home / "config.toml").open("a", encoding="utf-8") as config:
        config.write(f'\n[servicenow]\nbase_url = "{remote.base_url}"\n'
                     'token_env = "SERVICENOW_TOKEN"\n')  # fmt: skip
    monkeypatch.setenv("SERVICENOW_TOKEN", TOKEN)
    first = json.loads(changes.run_ok("change", "export", change, "--to", "servicenow",
                                      "--output", "json"))  # fmt: skip
    again = json.loads(changes.run_ok("change", "export", change, "--to", "servicenow",
                                      "--output", "json"))  # fmt: skip
    assert again["remote_id"] == first["remote_id"]
    assert list(remote.changes) == [first["remote_id"]]
    assert remote.changes[first["remote_id"]]["correlation_id"] == change
    assert [e["remote_id"] for e in changes.show(change)["exports"]] == [first["remote_id"]]
    rebuilt = changes.tmp / "rebuild.tar.gz"
    rebuilt.write_bytes(b"rebuilt\n")
    changes.run_ok("attest", "artifact", rebuilt, "--release", release)
    changes.run_ok("change", "refresh", change)
    changes.run_ok("change", "export", change, "--to", "servicenow")
    assert len(remote.changes) == 1  # updated in place, not created again
    assert "PATCH" in " ".join(remote.calls())
    exports = changes.show(change)["exports"]
    assert [e["remote_id"] for e in exports] == [first["remote_id"]] * 2
    dump = changes.tmp / "ledger.jsonl"
    changes.run_ok("ledger", "export", "--out", dump)
    assert TOKEN not in dump.read_text()
    assert "change.exported" in dump.read_text()
    assert changes.run_ok("ledger", "rebuild", "--check")


def test_export_without_configuration_says_what_is_missing(changes: Changes) -> None:
    release, _ = changes.ready()
    change = changes.open(release)
    result = changes.cli("change", "export", change, "--to", "jira", "--home", changes.home)
    assert result.code == 2
    assert "has no [jira] table" in result.err


def test_with_a_token_approvals_and_deployments_act_as_its_actor_and_never_show_it(
    changes: Changes, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, digest = changes.ready()
    changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    change = changes.open(release)
    tokens = {
        who: changes.run_ok("token", "create", "--actor", who, "--as", who).strip()
        for who in ("alan", "barbara", "pat")
    }
    said: list[str] = []
    monkeypatch.setenv("CHANGEPROOF_TOKEN", tokens["alan"])
    claimed = changes.cli("change", "approve", change, "--as", "barbara", "--home", changes.home)
    assert claimed.code == 2  # a token acts as its own actor only
    said.append(claimed.out + claimed.err)
    for who in ("alan", "barbara"):
        monkeypatch.setenv("CHANGEPROOF_TOKEN", tokens[who])
        said.append(changes.run_ok("change", "approve", change))
    monkeypatch.delenv("CHANGEPROOF_TOKEN")
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert code == 0, failing(doc)
    monkeypatch.setenv("CHANGEPROOF_TOKEN", tokens["pat"])
    deployed = changes.cli("deploy", "record", "--release", release, "--env", ENV,
                           "--artifact", digest, "--status", "succeeded",
                           "--home", changes.home, "--output", "json")  # fmt: skip
    monkeypatch.delenv("CHANGEPROOF_TOKEN")
    assert deployed.code == 0, deployed.err
    assert json.loads(deployed.out)["deployer"] == "pat"
    said.append(deployed.out + deployed.err)
    assert [a["actor"] for a in changes.show(change)["approvals"]] == ["alan", "barbara"]
    dump = changes.tmp / "ledger.jsonl"
    changes.run_ok("ledger", "export", "--out", dump)
    said.append(dump.read_text())
    said.append(changes.run_ok("change", "show", change, "--format", "html"))
    said.append(changes.run_ok("deploy", "list", "--output", "json"))
    for token in tokens.values():
        secret = token.rsplit("_", 1)[1]
        assert all(secret not in text for text in said)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["change", "open", "--release", "payments/1.0", "--env", "e" * 101], "--env 'eeee"),
        (["change", "open", "--release", "payments/9", "--env", ENV], "no release payments/9"),
        (["change", "open", "--release", "nope", "--env", ENV], "must be written SERVICE/NAME"),
        (
            ["change", "open", "--release", "payments/1.0", "--env", ENV, "--window", "2026"],
            "--window must be START/END",
        ),
        (
            ["change", "open", "--release", "payments/1.0", "--env", ENV, "--reason", "x"],
            "--reason goes with --urgent",
        ),
        (
            ["change", "open", "--release", "payments/1.0", "--env", ENV, "--urgent"],
            "an urgent change needs --reason",
        ),
        (["change", "approve", "CHG-x"], "'CHG-x' is not a change id"),
        (["change", "approve", "CHG-999", "--as", "alan"], "no change CHG-999"),
        (
            ["change", "review", "CHG-999", "--outcome", "fine", "--notes", "n"],
            "--outcome must be accepted or remediate",
        ),
        (
            [
                "deploy",
                "record",
                "--release",
                "payments/1.0",
                "--env",
                ENV,
                "--artifact",
                "zz",
                "--status",
                "succeeded",
            ],
            "--artifact must be a SHA-256",
        ),
        (
            [
                "deploy",
                "record",
                "--release",
                "payments/1.0",
                "--env",
                ENV,
                "--artifact",
                "a" * 64,
                "--status",
                "done",
            ],
            "--status must be one of started",
        ),
        (
            [
                "deploy",
                "record",
                "--release",
                "payments/1.0",
                "--env",
                ENV,
                "--artifact",
                "a" * 64,
                "--status",
                "started",
                "--pipeline-run",
                "ftp://x",
            ],
            "--pipeline-run must be",
        ),
        (
            ["deploy", "check", "--deployment", "DEP-77", "--name", "smoke", "--status", "pass"],
            "no deployment DEP-77",
        ),
        (["deploy", "list", "--since", "yesterday"], "--since 'yesterday' is not a date or time"),
    ],
)
def test_bad_input_is_refused_naming_the_option_and_records_nothing(
    changes: Changes, args: list[str], words: str
) -> None:
    changes.ready()
    before = changes.run_ok("ledger", "status", "--output", "json")
    result = changes.cli(*args, "--home", changes.home)
    assert result.code == 2, result.out + result.err
    assert words in result.err
    assert changes.run_ok("ledger", "status", "--output", "json") == before


def test_a_plan_that_is_not_text_or_too_large_is_refused(changes: Changes) -> None:
    changes.ready()
    binary = changes.tmp / "plan.bin"
    binary.write_bytes(b"\xff\xfe\x00plan")
    huge = changes.tmp / "plan.txt"
    huge.write_bytes(b"x" * (1024 * 1024 + 1))
    for plan, words in ((binary, "is not UTF-8 text (byte 0)"), (huge, "1,048,576-byte limit")):
        result = changes.cli("change", "open", "--release", "payments/1.0", "--env", ENV,
                             "--plan", plan, "--home", changes.home)  # fmt: skip
        assert result.code == 2
        assert words in result.err


def test_a_deployer_whose_role_was_revoked_after_the_gate_is_flagged(changes: Changes) -> None:
    release, digest = changes.ready()
    change = changes.open(release)
    changes.approve(change, "alan")
    changes.approve(change, "barbara")
    code, doc = changes.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert code == 0, failing(doc)
    changes.run_ok("actor", "revoke", "pat", "--role", "production-pusher", "--actor", "admin")
    code, deployed = changes.deploy(release, digest, "pat")
    assert code == 1
    assert deployed["authorized"] is False
    assert "pat does not hold role production-pusher" in str(deployed["reason"])
