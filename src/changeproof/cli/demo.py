"""`changeproof demo`: the main job, end to end, on a throwaway SQLite instance.

It runs the same commands a pipeline and an auditor type, in-process, and shows each
one before its output, so reading the demo is reading the quick start.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import pygit2
import typer

from changeproof.bootstrap import open_instance
from changeproof.cli.render import out, safe
from changeproof.domain.errors import ChangeproofError
from changeproof.domain.releases import ReleaseRef


class DemoFailed(ChangeproofError):
    """A demo step did not end as the demo expects."""


def demo(
    keep: Annotated[
        Path | None, typer.Option(help="Build the demo instance here and keep it.")
    ] = None,
) -> None:
    """Record a release and its evidence, checkpoint, prove, verify online and offline."""
    with tempfile.TemporaryDirectory(prefix="changeproof-demo-") as scratch:
        work = keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        _run_demo(work)
        out.print(f"Instance: {safe(work / 'instance') if keep else '(temporary, removed)'}")


def _run_demo(work: Path) -> None:
    demo = _Demo(work)
    demo.people_and_policy()
    demo.first_candidate_blocked()
    demo.auditor_takes_a_checkpoint()
    demo.fix_goes_to_staging()
    demo.change_is_approved_and_deployed()
    demo.ledger_is_verified()


class _Demo:
    """The demo's acts, in order; each step runs one real command in-process."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.instance = work / "instance"
        self.home = ["--home", str(self.instance)]
        self.ci = ["--actor", "ci-pipeline"]
        self.repo = _sample_repository(work / "payments")
        self.build = work / "dist" / "payments-1.4.0.tar.gz"
        self.build.parent.mkdir(exist_ok=True)
        self.build.write_bytes(b"payments service build 1.4.0\n" * 4096)
        self.checkpoint = str(work / "checkpoint.txt")
        self.policy = str(work / "changeproof.yaml")
        self.fixed = ["--release", "payments/1.4.1"]
        self.digest = ""  # of the fix's build, once it exists

    def step(self, title: str, *argv: str, expect: int = 0) -> None:
        from changeproof.cli.main import run  # the demo drives the real CLI, entry point included

        out.rule(f"[bold]{title}")
        out.print(f"$ changeproof {shlex.join(argv)}", style="cyan", markup=False)
        code = run(list(argv))
        if code != expect:
            raise DemoFailed(f"demo step {title!r} exited {code}, expected {expect}")

    def people_and_policy(self) -> None:
        home = self.home
        self.step("Make an instance (SQLite, no server)", "init", *home, "--actor", "platform")
        self.step(
            "Platform makes the first admin: from now on only admins grant roles",
            *("actor", "add", "root", "--email", "root@example.com", "--role", "admin"),
            *("--actor", "platform", *home),
        )
        for name, *aliases in _PEOPLE:
            self.step(
                f"Root registers {name}", "actor", "add", name, *aliases, "--actor", "root", *home
            )
        self.step(
            "Olivia, a platform engineer, writes the policy (PCI template)",
            *("policy", "init", "--template", "pci", "--out", self.policy),
        )
        self.step(
            "She proposes it: a policy governs the pipeline, so it needs a second person",
            *("policy", "activate", self.policy, "--actor", "olivia", *home),
        )
        proposal = "POL-" + str(_newest_proposal(self.instance))
        self.step(
            "She cannot approve her own proposal (exit 2)",
            *("policy", "approve", proposal, "--actor", "olivia", *home),
            expect=2,
        )
        self.step(
            "Root, another admin, approves it: now it is the active policy",
            *("policy", "approve", proposal, "--actor", "root", *home),
        )
        self.step(
            "Which policy counts, and how the next one becomes active", "policy", "status", *home
        )

    def first_candidate_blocked(self) -> None:
        home, ci, release = self.home, self.ci, ["--release", "payments/1.4.0"]
        self.step(
            "The pipeline records the release candidate: every commit, its tickets and authors",
            *("release", "create", "--service", "payments", "--name", "1.4.0"),
            *("--repo", str(self.repo), "--to", "main", "--tickets", "jira:PAY,github", *ci, *home),
        )
        self.step(
            "It records what it built", "attest", "artifact", str(self.build), *release, *ci, *home
        )
        for kind, path, title in _sample_evidence(self.work, self.repo, self.build):
            self.step(title, "attest", kind, str(path), *release, *ci, *home)
        self.step(
            "Anyone can see what goes out, and why", "release", "show", "payments/1.4.0", *home
        )
        self.step(
            "The gate blocks it: a commit without a ticket, no security scan (exit 1)",
            *("gate", "--release", "payments/1.4.0", "--env", "production", *ci, *home),
            expect=1,
        )
        lax = self.work / "lax.yaml"
        lax.write_text("version: 1\nenvironments:\n  production:\n    controls: []\n")
        self.step(
            "A pipeline's own lax policy file is only a dry run: shown, recorded nowhere",
            *("gate", "--release", "payments/1.4.0", "--env", "production", "--policy", str(lax)),
            *(*ci, *home),
        )

    def auditor_takes_a_checkpoint(self) -> None:
        self.step(
            "An auditor takes a signed checkpoint away",
            *("ledger", "checkpoint", "--out", self.checkpoint, *self.home),
        )
        self.step(
            "Prove the release's entry is in that tree",
            *("ledger", "prove", str(_release_seq(self.instance, "payments/1.4.0"))),
            *("--checkpoint", self.checkpoint, "--output", "text", *self.home),
        )

    def fix_goes_to_staging(self) -> None:
        home, ci, fixed = self.home, self.ci, self.fixed
        _commit(
            self.repo,
            "Ada Lovelace",
            "ada+laptop@example.com",  # a second address of hers: the same person all the same
            "PAY-104 tidy imports, with a ticket",
            "refunds.py",
            "def refund() -> None:\n    ...\n",
        )
        self.step(
            "The fix becomes the next candidate (from the previous release)",
            *("release", "create", "--service", "payments", "--name", "1.4.1"),
            *("--repo", str(self.repo), "--to", "main", "--tickets", "jira:PAY,github", *ci, *home),
        )
        build = self.build.with_name("payments-1.4.1.tar.gz")
        build.write_bytes(b"payments service build 1.4.1\n" * 4096)
        self.step("It records what it built", "attest", "artifact", str(build), *fixed, *ci, *home)
        for kind, path, title in _sample_evidence(self.work, self.repo, build, scan=True):
            self.step(title, "attest", kind, str(path), *fixed, *ci, *home)
        self.digest = hashlib.sha256(build.read_bytes()).hexdigest()
        self.step(
            "Staging first: the gate allows 1.4.1 into staging",
            *("gate", "--release", "payments/1.4.1", "--env", "staging", *self._deployer()),
        )
        self.step(
            "Pat deploys it to staging",
            *("deploy", "record", *fixed, "--env", "staging", "--artifact", self.digest),
            *("--status", "succeeded", "--as", "pat", *home),
        )
        self.step(
            "Its smoke test passes in staging: the artifact may move on along its path",
            *("deploy", "check", "--deployment", "DEP-" + str(_newest_deployment(self.instance))),
            *("--name", "smoke-test", "--status", "pass", "--as", "pat", *home),
        )

    def _deployer(self) -> tuple[str, ...]:
        return ("--deployer", "pat", "--artifact", self.digest, *self.ci, *self.home)

    def change_is_approved_and_deployed(self) -> None:
        home, fixed = self.home, self.fixed
        gate = ("gate", "--release", "payments/1.4.1", "--env", "pci-production", *self._deployer())
        self.step(
            "PCI production also needs an approved change request: the gate says so (exit 1)",
            *gate,
            expect=1,
        )
        plan = self.work / "plan.md"
        plan.write_text("1. helm upgrade payments 1.4.1\n2. watch the refunds dashboard\n")
        rollback = self.work / "rollback.md"
        rollback.write_text("helm rollback payments\n")
        self.step(
            "The pipeline opens the change; its RFC is written from what the ledger holds",
            *("change", "open", *fixed, "--env", "pci-production"),
            *("--plan", str(plan), "--rollback", str(rollback), *self.ci, *home),
        )
        change = "CHG-" + str(_newest_change(self.instance))
        self.step("Approvers read the RFC", "change", "show", change, *home)
        self.step(
            "Ada wrote the fix (as ada+laptop@example.com): she may not approve it (exit 2)",
            *("change", "approve", change, "--as", "ada", *home),
            expect=2,
        )
        for approver in ("alan", "barbara"):
            self.step(
                f"{approver.title()} approves the RFC's digest",
                *("change", "approve", change, "--as", approver, *home),
            )
        self.step(
            "The gate allows it into PCI production, deployed by a production pusher (exit 0)",
            *gate,
        )
        self.step(
            "Pat deploys exactly the approved artifact; the ledger records who, what, where",
            *("deploy", "record", *fixed, "--env", "pci-production", "--artifact", self.digest),
            *("--status", "succeeded", "--as", "pat", *home),
        )
        deployment = "DEP-" + str(_newest_deployment(self.instance))
        self.step(
            "A post-deployment check proves it works in production",
            *("deploy", "check", "--deployment", deployment, "--name", "smoke-test"),
            *("--status", "pass", "--as", "pat", *home),
        )
        self.step("Who pushed what, where", "deploy", "list", "--env", "pci-production", *home)

    def ledger_is_verified(self) -> None:
        home = self.home
        self.step(
            "The ledger only grew since the auditor's checkpoint",
            *("ledger", "consistency", "--old", self.checkpoint, *home),
        )
        self.step(
            "Verify every entry against every signature",
            *("ledger", "verify", "--checkpoint", self.checkpoint, *home),
        )
        self.step(
            "Projections equal a rebuild from the ledger", "ledger", "rebuild", "--check", *home
        )
        self.step(
            "The ledger means what it says: decisions replay, deployments cite what allowed them",
            *("ledger", "audit", *home),
        )
        export = str(self.work / "ledger.jsonl")
        self.step("Export for offline verification", "ledger", "export", "--out", export, *home)

        out.rule("[bold]The auditor verifies offline, with only the public key")
        key = str(self.instance / "public-key.pem")
        argv = [sys.executable, "-m", "changeproof.verify", export, "--public-key", key]
        out.print(
            f"$ python -m changeproof.verify {shlex.join(argv[3:])}", style="cyan", markup=False
        )
        completed = subprocess.run(argv, check=False, capture_output=True, text=True)  # noqa: S603
        out.print(completed.stdout + completed.stderr, end="", markup=False)
        if completed.returncode != 0:
            raise DemoFailed(f"offline verification exited {completed.returncode}")
        out.rule("[bold green]Demo complete")


_PEOPLE = [
    ("ada", "--email", "ada@example.com", "--github", "ada"),
    ("grace", "--email", "grace@example.com", "--github", "grace", "--group", "dba"),
    ("carol", "--email", "carol@example.com", "--github", "carol"),
    ("pat", "--email", "pat@example.com", "--role", "production-pusher"),
    ("alan", "--email", "alan@example.com", "--role", "approver"),
    ("barbara", "--email", "barbara@example.com", "--role", "approver"),
    ("olivia", "--email", "olivia@example.com", "--role", "admin"),
]


def _release_seq(home: Path, ref: str) -> int:
    with open_instance(home) as instance:
        return instance.releases.show(ReleaseRef.parse(ref)).release.seq


def _newest_proposal(home: Path) -> int:
    with open_instance(home) as instance:
        return instance.policies.status().pending[-1].seq


def _newest_change(home: Path) -> int:
    with open_instance(home) as instance:
        return instance.changes.list()[-1].row.seq


def _newest_deployment(home: Path) -> int:
    with open_instance(home) as instance:
        return instance.deployments.list(environment=None, since=None)[-1].row.seq


def _commit(repo_path: Path, name: str, email: str, message: str, file: str, text: str) -> None:
    repo = pygit2.Repository(str(repo_path))
    target = repo_path / file
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    repo.index.add(file)
    repo.index.write()
    moment = 1_767_225_600 + 3600 * (
        len(list(repo.walk(repo.head.target))) if not repo.head_is_unborn else 0
    )
    who = pygit2.Signature(name, email, moment, 60)
    parents = [] if repo.head_is_unborn else [repo.head.target]
    repo.create_commit("HEAD", who, who, message, repo.index.write_tree(), parents)


def _sample_repository(path: Path) -> Path:
    """A small service history: tickets, a second author, one commit nobody ticketed."""
    repo = pygit2.init_repository(str(path), initial_head="main")
    history = [
        (
            "Ada Lovelace",
            "ada@example.com",
            "PAY-101 add refunds",
            "refunds.py",
            "def refund(): ...\n",
        ),
        (
            "Grace Hopper",
            "grace@example.com",
            "PAY-102 round half-even\n\nFixes #7",
            "money.py",
            "ROUNDING = 'half-even'\n",
        ),
        (
            "Ada Lovelace",
            "ada@example.com",
            "tidy imports",
            "refunds.py",
            "def refund():\n    ...\n",
        ),
        (
            "Grace Hopper",
            "grace@example.com",
            "PAY-103 migrate ledger table",
            "db/migrations/0007_ledger.sql",
            "ALTER TABLE ledger ADD COLUMN note TEXT;\n",
        ),
    ]
    del repo
    for name, email, message, file, content in history:
        _commit(path, name, email, message, file, content)
    return path


def _sample_evidence(
    work: Path, repo: Path, build: Path, *, scan: bool = False
) -> list[tuple[str, Path, str]]:
    """Evidence files as the pipeline's tools would leave them (named after the build)."""
    git = pygit2.Repository(str(repo))
    head = str(git.head.target)
    # The merge request's commits: a review covers those it names, else its reviewed SHA only.
    change = [str(c.id) for c in git.walk(git.head.target)]
    work = work / build.name.removesuffix(".tar.gz")
    work.mkdir(exist_ok=True)
    junit = work / "junit.xml"
    junit.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="pytest" tests="3" '
        'failures="0" errors="0" skipped="0" time="0.12">'
        '<testcase classname="tests.test_refunds" name="test_refund" time="0.01"/>'
        '<testcase classname="tests.test_money" name="test_round" time="0.02"/>'
        '<testcase classname="tests.test_money" name="test_half_even" time="0.01"/>'
        "</testsuite></testsuites>\n"
    )
    review = work / "review.json"
    review.write_text(
        json.dumps(
            {
                "reviewer": "carol",
                "state": "approved",
                "reviewed_sha": head,
                "author": "ada",
                "change_id": "payments!42",
                "commits": change,
            }
        )
    )
    provenance = work / "provenance.json"
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {
                "name": build.name,
                "digest": {"sha256": hashlib.sha256(build.read_bytes()).hexdigest()},
            }
        ],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://ci.example.com/build/v1",
                "externalParameters": {},
            },
            "runDetails": {"builder": {"id": "https://ci.example.com/runner"}},
        },
    }
    provenance.write_text(json.dumps(statement))
    evidence = [
        ("test-results", junit, "Tests ran: their JUnit report becomes evidence"),
        ("review", review, "Someone other than the author approved the head commit"),
        ("provenance", provenance, "The build says what it built, bound to the artifact"),
    ]
    if scan:
        sarif = work / "scan.sarif"
        sarif.write_text(
            json.dumps(
                {
                    "version": "2.1.0",
                    "runs": [
                        {"tool": {"driver": {"name": "Bandit", "version": "1.9.4"}}, "results": []}
                    ],
                }
            )
        )
        evidence.append(("scan", sarif, "The security scan found nothing"))
    return evidence
