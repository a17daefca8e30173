"""The gate's scenario: a real git repository, a real instance and the evidence a release
collects, with the policy most gate tests decide under. Shared by the gate's tests and every
test that needs a release in a given state."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs installed

from changeproof.domain.rfc import content_digest
from tests.conftest import Cli
from tests.integration.gitrepo import GitRepo

POLICY = """
version: 1
tickets: jira:PAY,github
high_risk:
  - name: database migrations
    paths: ["db/migrations/**"]
    experts: dba
standard_changes:
  - kind: content
    paths: ["docs/**"]
    max_changed_lines: 100
freeze_windows:
  - name: year end
    start: 2026-12-20T00:00:00Z
    end: 2027-01-04T00:00:00Z
    environments: [frozen]
environments:
  production:
    deployer_role: production-pusher
    controls:
      - ticket-reference
      - independent-review
      - expert-review
      - tests-passed
      - scan-clean
      - deployer-role
      - deployer-not-author
  frozen:
    urgent_may_bypass: [tests-passed]
    controls:
      - freeze-window
      - tests-passed
      - deployer-not-author
"""

ADA = "Ada Lovelace <ada@example.com>"
GRACE = "Grace Hopper <grace@example.com>"


class Scenario:
    def __init__(self, home: Path, tmp: Path, cli: Cli) -> None:
        self.home, self.tmp, self.cli = home, tmp, cli
        self.repo = GitRepo(tmp / "repo")
        self.policy = tmp / "changeproof.yaml"
        self.policy.write_text(POLICY)
        self._n = 0
        for args in (
            ["ada", "--email", "ada@example.com", "--github", "ada-l"],
            ["grace", "--email", "grace@example.com", "--github", "grace-h", "--group", "dba"],
            ["carol", "--email", "carol@example.com", "--github", "carol-c"],
            ["pat", "--email", "pat@example.com", "--role", "production-pusher"],
        ):
            self.run_ok("actor", "add", *args, "--actor", "admin")

    def run_ok(self, *args: str | Path) -> str:
        result = self.cli(*args, "--home", self.home)
        assert result.code == 0, result.err
        return result.out

    def release(self, name: str = "1.0") -> str:
        self.run_ok("release", "create", "--service", "payments", "--name", name,
                    "--repo", self.repo.path, "--to", "main")  # fmt: skip
        return f"payments/{name}"

    def evidence(self, kind: str, release: str, content: str, suffix: str = ".json") -> None:
        self._n += 1
        path = self.tmp / f"evidence-{self._n}{suffix}"
        path.write_text(content)
        self.run_ok("attest", kind, path, "--release", release)

    def review(self, release: str, reviewer: str, sha: str, state: str = "approved") -> None:
        """A review of a change made of `sha` and every commit before it."""
        doc = {"reviewer": reviewer, "state": state, "reviewed_sha": sha, "author": "ada-l",
               "commits": self.repo.git("rev-list", sha).split()}  # fmt: skip
        self.evidence("review", release, json.dumps(doc))

    def tests(self, release: str, failing: bool = False) -> None:
        failure = '<failure message="boom">assert 1 == 2</failure>' if failing else ""
        self.evidence(
            "test-results",
            release,
            '<testsuite name="pytest" tests="2"><testcase classname="t" name="test_ok"/>'
            f'<testcase classname="t" name="test_refund">{failure}</testcase></testsuite>',
            ".xml",
        )

    def scan(self, release: str, *, suppressed: bool) -> None:
        result: dict[str, object] = {
            "ruleId": "B324",
            "level": "error",
            "message": {"text": "weak hash"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "app.py"},
                        "region": {"startLine": 3},
                    }
                }
            ],
        }
        if suppressed:
            result["suppressions"] = [{"kind": "inSource"}]
        sarif = {
            "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "bandit"}}, "results": [result]}],
        }
        self.evidence("scan", release, json.dumps(sarif))

    def activate(self) -> None:
        """Make the policy file the active one (nothing is recorded when it already is): only
        a decision under the active policy is recorded."""
        self.run_ok("policy", "activate", self.policy, "--actor", "admin")

    def gate(
        self, release: str, env: str = "production", *extra: str
    ) -> tuple[int, dict[str, object]]:
        self.activate()
        result = self.cli("gate", "--release", release, "--env", env, "--policy", self.policy,
                          "--home", self.home, "--output", "json", *extra)  # fmt: skip
        assert result.code in (0, 1), result.err
        doc: dict[str, object] = json.loads(result.out)
        return result.code, doc


def failing(doc: dict[str, object]) -> dict[str, str]:
    controls = doc["controls"]
    assert isinstance(controls, list)
    return {c["id"]: c["reason"] for c in controls if c["status"] == "fail"}


def compliant(s: Scenario) -> str:
    s.repo.commit("PAY-1 add refunds", {"refunds.py": "x = 1\n"}, author=ADA)
    head = s.repo.commit("PAY-2 round half-even", {"money.py": "y = 2\n"}, author=ADA)
    release = s.release()
    s.review(release, "carol-c", head)
    s.tests(release)
    s.scan(release, suppressed=True)
    return release


CHANGE_POLICY = """
version: 1
tickets: jira:PAY,github
high_risk:
  - name: database migrations
    paths: ["db/migrations/**"]
    experts: dba
environments:
  pci-production:
    deployer_role: production-pusher
    controls:
      - ticket-reference
      - independent-review
      - tests-passed
      - deployer-role
      - deployer-not-author
      - change-approval:
          normal:
            quorum: 2
            role: approver
            valid_for_hours: 24
            groups: [{group: dba, when: migrations}]
          urgent: {quorum: 1, role: emergency-approver}
          urgent_review_business_days: 2
"""
ENV = "pci-production"
RFC_SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "schemas" / "change.schema.json").read_text()
)


class Changes(Scenario):
    def __init__(self, home: Path, tmp: Path, cli: Cli) -> None:
        super().__init__(home, tmp, cli)
        self.policy.write_text(CHANGE_POLICY)
        for args in (
            ["alan", "--email", "alan@example.com", "--role", "approver"],
            ["barbara", "--email", "barbara@example.com", "--role", "approver", "--group", "dba"],
            ["eve", "--email", "eve@example.com", "--role", "emergency-approver"],
            ["dave", "--email", "dave@example.com"],
        ):
            self.run_ok("actor", "add", *args, "--actor", "admin")
        self.run_ok("actor", "grant", "ada", "--role", "approver", "--actor", "admin")
        self.artifact = tmp / "payments.tar.gz"
        self.artifact.write_bytes(b"payments build\n")
        self.activate()  # a change's approval rule is the active policy's

    def ready(
        self, name: str = "1.0", files: dict[str, str | bytes] | None = None
    ) -> tuple[str, str]:
        """A release that passes every control but change-approval, and its artifact digest."""
        head = self.repo.commit(f"PAY-{name} work", files or {"refunds.py": name}, author=ADA)
        release = self.release(name)
        self.review(release, "carol-c", head)
        self.tests(release)
        self.run_ok("attest", "artifact", self.artifact, "--release", release,
                            "--output", "json")  # fmt: skip
        digest = hashlib.sha256(self.artifact.read_bytes()).hexdigest()
        return release, digest

    def open(self, release: str, *extra: str | Path) -> str:
        doc = json.loads(self.run_ok("change", "open", "--release", release, "--env", ENV,
                                     "--actor", "ada", "--output", "json", *extra))  # fmt: skip
        return str(doc["id"])

    def approve(self, change: str, who: str) -> tuple[int, str]:
        result = self.cli("change", "approve", change, "--as", who, "--home", self.home)
        return result.code, result.out + result.err

    def show(self, change: str) -> dict[str, Any]:
        """The RFC as JSON, checked against its published schema every time it is read."""
        doc: dict[str, Any] = json.loads(self.run_ok("change", "show", change, "--format", "json"))
        jsonschema.validate(doc, RFC_SCHEMA)
        assert content_digest(doc) == doc["digest"]  # anyone can recompute it from the JSON
        return doc

    def deploy(self, release: str, digest: str, who: str) -> tuple[int, dict[str, object]]:
        result = self.cli("deploy", "record", "--release", release, "--env", ENV,
                          "--artifact", digest, "--status", "succeeded", "--as", who,
                          "--pipeline-run", "https://ci.example/run/7",
                          "--home", self.home, "--output", "json")  # fmt: skip
        assert result.code in (0, 1), result.err
        doc: dict[str, object] = json.loads(result.out)
        return result.code, doc
