"""Gate benchmark: `changeproof gate` over releases of 10, 1,000 and 10,000 commits.

    .venv/bin/python bench/gate.py [--quick] [--sizes N,N,...] [--seed S] [--rounds R]
                                   [--backend sqlite|postgresql|all] [--postgres-url URL]
                                   [--workdir DIR] [--cache DIR] [--profile DIR]

Builds one history per size deterministically from a seed with `git fast-import` (cached
under bench/.cache/ like bench/ingest.py), records each as a release on one fresh instance
with the evidence a compliant release has (reviews of its pull requests, an approval of its
head by two people who wrote none of it, the DBA's approval of its migrations, a passing test
run, a clean scan, an artifact with signed provenance, a deployer with the role), all through
the services the CLI calls. Then measures, in one run, `GateService.decide` end to end beside
the time to merely load the same facts from their ledger entries, each proven into the signed
tree, as the gate reads them (`facts_as_of` with an entry check: the limit), and the
decision without its recording (load, policy file, evaluation) beside the same limit. Prints
one JSON object per line on stdout, in bench/ledger.py's form; progress goes to stderr.
docs/benchmarks.md explains each line.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import json
import os
import pstats
import random
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from changeproof.bootstrap import Instance, SystemClock, open_instance
from changeproof.domain.decisions import ControlStatus, Decision
from changeproof.domain.evidence import EvidenceKind
from changeproof.domain.releases import ReleaseRef
from changeproof.policy.evaluation import evaluate
from changeproof.policy.facts import Facts
from changeproof.policy.loader import LoadedPolicy, PolicyFiles, load_policy_file
from changeproof.services.evidence import AttestKind
from changeproof.services.gate import GateRequest, facts_as_of
from changeproof.services.initialize import initialize
from changeproof.services.instance import load_signer
from changeproof.store import ledger as stored
from changeproof.store.entry_check import EntryCheck
from ingest import FastImport, add_history_arguments, git, modify
from ledger import (
    Line,
    Stopwatch,
    chosen_backends,
    describe_server,
    fresh_database,
    say,
    within,
)

GENERATOR: Final = 2  # bump whenever the generated history changes: it is part of the cache key
FULL_SIZES: Final = (10, 1_000, 10_000)
QUICK_SIZES: Final = (10, 100, 1_000)
SEED: Final = 20261125
CACHE: Final = Path(__file__).resolve().parent / ".cache"
OVERHEAD: Final = 1.5  # "the evaluation itself adds at most 50% over loading"
BUDGET_COMMITS: Final = 1_000
BUDGET_S: Final = 0.2  # "a 1,000-commit release decides in under 200 ms"
SERVICE: Final = "payments"
ENVIRONMENT: Final = "pci-production"
REPOSITORY: Final = "acme/payments"
BUILDER: Final = "https://github.com/acme/payments/.github/workflows/release.yml@refs/heads/main"
TESTS: Final = 1_200  # test cases in the passing run, over 24 JUnit files
BASE_TIME: Final = 1_767_225_600  # 2026-01-01T00:00:00Z

# The policy decided under: the PCI template's pci-production, two approvals per commit.
POLICY: Final = f"""\
version: 1
tickets: jira,github
high_risk:
  - name: database migrations
    paths: ["db/migrations/**"]
    experts: dba
  - name: payments
    paths: ["payments/**"]
    experts: payments-owners
standard_changes:
  - kind: content
    paths: ["docs/**", "*.md"]
    max_changed_lines: 500
    max_commits: 50
environments:
  {ENVIRONMENT}:
    deployer_role: production-pusher
    controls:
      - ticket-reference
      - independent-review: {{min_approvals: 2}}
      - expert-review
      - tests-passed: {{min_tests: 100}}
      - scan-clean: {{level: warning}}
      - artifact-integrity:
          require_provenance: true
          trusted_builders: ["https://github.com/acme/"]
      - deployer-role
      - deployer-not-author
"""
CONTROLS: Final = 8


# -- people -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    name: str  # the actor's name
    full: str  # as git records it
    email: str
    login: str  # GitHub
    zone: str  # fixed UTC offset, +HHMM
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def signature(self, when: int) -> bytes:
        return f"{self.full} <{self.email}> {when} {self.zone}".encode()


DEVELOPERS: Final = (
    Person("ada", "Ada Moreau", "ada.moreau@acme.example", "ada-m", "+0100"),
    Person("bongani", "Bongani Dlamini", "bongani@acme.example", "bdlamini", "+0200"),
    Person("chen", "Chen Wei", "chen.wei@acme.example", "chenwei", "+0800"),
    Person("dana", "Dana Levi", "dana@acme.example", "dana-l", "+0200"),
    Person("emile", "Émile Gagnon", "emile.gagnon@acme.example", "egagnon", "-0500"),
    Person("farah", "Farah Haddad", "farah@acme.example", "farah-h", "+0300"),
    Person("gustavo", "Gustavo Lima", "glima@acme.example", "glima", "-0300"),
    Person("hiroshi", "Hiroshi Tanaka", "h.tanaka@acme.example", "htanaka", "+0900"),
)
DEVELOPER_WEIGHTS: Final = (16, 14, 13, 12, 10, 9, 8, 6)
# Write no code: the release reviewer, the DBA (expert for migrations), the payments owner
# (expert for an area no commit touches) and the deployer.
RELEASE_REVIEWER: Final = Person("rhea", "Rhea Okafor", "rhea@acme.example", "rhea-o", "+0000")
DBA: Final = Person(
    "grace", "Grace Hopper", "grace@acme.example", "grace-h", "-0500", groups=("dba",)
)
PAYMENTS_OWNER: Final = Person(
    "nadia", "Nadia Rahman", "nadia@acme.example", "nadia-r", "+0600", groups=("payments-owners",)
)
DEPLOYER: Final = Person(
    "pat", "Pat Quinn", "pat@acme.example", "pquinn", "+0000", roles=("production-pusher",)
)
PEOPLE: Final = (*DEVELOPERS, RELEASE_REVIEWER, DBA, PAYMENTS_OWNER, DEPLOYER)
GITHUB_COMMITTER: Final = b"GitHub <noreply@github.com>"  # maps to no actor, as in real life
RELEASE_BOT: Final = "acme-release-bot"  # opens the release pull request the head review is on

# -- the generated history --------------------------------------------------------------------

SERVICES: Final = ("payments", "ledger", "accounts", "notifications", "reporting", "gateway")
MODULES: Final = (
    "api", "handlers", "models", "views", "tasks", "client", "schema", "auth", "cache",
    "retry", "metrics", "config", "errors", "queue", "storage", "export", "import", "audit",
    "limits", "utils",
)  # fmt: skip
LIBS: Final = ("money", "http", "authn", "db")
PROJECTS: Final = ("PAY", "OPS", "WEB", "CORE", "DATA")
VERBS: Final = (
    "Fix", "Add", "Remove", "Refactor", "Update", "Handle", "Guard against", "Speed up",
    "Document", "Simplify", "Rename", "Log", "Retry", "Validate", "Cache", "Test",
)  # fmt: skip
THINGS: Final = (
    "rounding in refunds", "webhook retries", "currency conversion", "login rate limit",
    "ledger export", "invoice footer", "settlement batch timeout", "null merchant id",
    "card range lookup", "audit trail pagination", "stale feature flags", "metrics labels",
    "payout scheduling", "dispute evidence upload", "tax report totals", "session expiry",
)  # fmt: skip
WORDS: Final = (
    "amount", "total", "merchant", "payout", "refund", "ledger", "batch", "currency", "rate",
    "retry", "limit", "session", "token", "report", "account", "entry",
)  # fmt: skip
FILES_PER_COMMIT: Final = (50, 25, 15, 10)  # weights of touching 1..4 files
MIGRATION_EVERY: Final = 40  # every 40th non-merge commit adds a migration (high-risk)
DIRECT_RATE: Final = 0.15  # commits made on main directly, not through a pull request
CO_AUTHOR_RATE: Final = 0.08
REBASED_RATE: Final = 0.1  # direct commits committed by someone else than their author


@dataclass(frozen=True, slots=True)
class PlannedReview:
    """One review webhook the history's pull requests produced, in the order they came."""

    number: int  # review id
    reviewer: str  # GitHub login
    state: str  # approved | changes_requested | commented
    sha: str  # the commit reviewed
    pull: int
    head: str  # the pull request's head when reviewed
    author: str  # the pull request's author (login)
    at: int  # epoch seconds
    base: str  # the pull request's base: the review covers base..sha


@dataclass
class Plan:
    """What was built: the history's size and the reviews its pull requests had."""

    commits: int = 0
    merges: int = 0
    pulls: int = 0
    migrations: int = 0  # commits adding a migration (the high-risk area)
    co_authored: int = 0
    base: str = ""  # the release goes from here (excluded) ...
    head: str = ""  # ... to here
    seconds: float = 0.0
    reviews: list[PlannedReview] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Pending:
    reviewer: str
    state: str
    mark: int
    pull: int
    head_mark: int
    author: str
    at: int
    base_mark: int


def code_line(rng: random.Random) -> str:
    indent = "    " * rng.randrange(3)
    left, right = rng.choice(WORDS), rng.choice(WORDS)
    return f"{indent}{left}_{rng.randrange(1000)} = {right}({rng.randrange(100)})"


def file_bytes(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


class History:
    """The files as the generator sees them, and what it has streamed so far."""

    def __init__(self, rng: random.Random, out: FastImport) -> None:
        self.rng, self.out = rng, out
        self.plan = Plan()
        self.files: dict[str, list[str]] = {}
        self.paths: list[str] = []
        self.pending: list[_Pending] = []
        self.marks = 0
        self.main = 0  # mark of main's tip
        self.clock = BASE_TIME
        self.edits = 0  # non-merge commits after the base
        self.pull = 100
        self.review = 5_000_000

    def tick(self, low: int = 300, high: int = 5_400) -> int:
        self.clock += self.rng.randint(low, high)
        return self.clock

    def commit(
        self,
        ref: str,
        author: bytes,
        committer: bytes,
        message: str,
        parents: Sequence[int],
        changes: Sequence[bytes],
    ) -> int:
        self.marks += 1
        self.out.commit(ref, self.marks, author, committer, message, parents, changes)
        return self.marks

    def base(self) -> None:
        """The code base before the release: about 200 files, migrations included."""
        rng = self.rng
        for service in SERVICES:
            for module in MODULES:
                self.files[f"services/{service}/{module}.py"] = []
        for lib in LIBS:
            for n in range(10):
                self.files[f"libs/{lib}/{rng.choice(WORDS)}_{n}.go"] = []
        for n in range(10):
            self.files[f"deploy/{SERVICES[n % len(SERVICES)]}-{n}.yaml"] = []
            self.files[f"docs/{rng.choice(WORDS)}-{n}.md"] = []
        for n in range(1, 21):
            self.files[f"db/migrations/{n:04d}_{rng.choice(WORDS)}.sql"] = []
        for lines in self.files.values():
            lines.extend(code_line(rng) for _ in range(rng.randint(30, 90)))
        self.paths = sorted(p for p in self.files if not p.startswith("db/"))
        first = DEVELOPERS[0].signature(self.tick())
        changes = [modify(path, file_bytes(lines)) for path, lines in sorted(self.files.items())]
        self.main = self.commit("refs/heads/main", first, first, "OPS-1: import\n", [], changes)

    def message(self, co_authors: Sequence[Person]) -> str:
        """A subject naming a ticket the way people do, sometimes a body, co-authors."""
        rng = self.rng
        key = f"{rng.choice(PROJECTS)}-{rng.randint(1, 4000)}"
        text = f"{rng.choice(VERBS)} {rng.choice(THINGS)}"
        body: list[str] = []
        style = rng.random()
        if style < 0.15:
            subject, body = text, [f"Refs {key}"]
        elif style < 0.3:
            subject = f"{text} (#{rng.randint(1, 900)})"
        elif style < 0.45:
            subject = f"[{key}] {text}"
        elif style < 0.6:
            subject = f"{text} ({key})"
        else:
            subject = f"{key}: {text}"
        if co_authors:
            body.append("\n".join(f"Co-authored-by: {p.full} <{p.email}>" for p in co_authors))
        return "\n\n".join([subject, *body]) + "\n"

    def changes(self, touched: set[str]) -> list[bytes]:
        """Edit 1-4 files (and every 40th commit add a migration); the fast-import lines."""
        rng = self.rng
        self.edits += 1
        count = rng.choices(range(1, len(FILES_PER_COMMIT) + 1), FILES_PER_COMMIT)[0]
        paths = rng.sample(self.paths, count)
        if self.edits % MIGRATION_EVERY == 3:
            self.plan.migrations += 1
            migration = f"db/migrations/{20 + self.plan.migrations:04d}_{rng.choice(WORDS)}.sql"
            self.files[migration] = [code_line(rng) for _ in range(rng.randint(3, 30))]
            paths.append(migration)
        for path in paths:
            lines = self.files[path]
            for _ in range(rng.choice((1, 1, 2, 3))):
                at = rng.randrange(len(lines))
                lines[at : at + rng.randint(0, 2)] = [
                    code_line(rng) for _ in range(rng.randint(1, 3))
                ]
        touched.update(paths)
        return [modify(p, file_bytes(self.files[p])) for p in sorted(paths)]

    def direct(self) -> None:
        """A commit on main itself, sometimes committed by another developer (a rebase)."""
        rng = self.rng
        author = rng.choices(DEVELOPERS, DEVELOPER_WEIGHTS)[0]
        committer = author
        if rng.random() < REBASED_RATE:
            committer = rng.choice([d for d in DEVELOPERS if d != author])
        co = self.co_authors(author)
        when = self.tick()
        self.main = self.commit(
            "refs/heads/main",
            author.signature(when),
            committer.signature(when + rng.randint(0, 3_600)),
            self.message(co),
            [self.main],
            self.changes(set()),
        )

    def co_authors(self, author: Person) -> list[Person]:
        if self.rng.random() >= CO_AUTHOR_RATE:
            return []
        self.plan.co_authored += 1
        return [self.rng.choice([d for d in DEVELOPERS if d != author])]

    def pull_request(self, length: int) -> None:
        """`length` commits on a branch by one author, reviewed, merged by GitHub."""
        rng = self.rng
        self.pull += rng.randint(1, 3)
        author = rng.choices(DEVELOPERS, DEVELOPER_WEIGHTS)[0]
        writers = {author}
        touched: set[str] = set()
        marks: list[int] = []
        tip = fork = self.main
        migrations = self.plan.migrations
        for _ in range(length):
            co = self.co_authors(author)
            writers.update(co)
            signature = author.signature(self.tick())
            tip = self.commit(
                "refs/heads/topic",
                signature,
                signature,
                self.message(co),
                [tip],
                self.changes(touched),
            )
            marks.append(tip)
        others = [d for d in DEVELOPERS if d not in writers]
        reviewer = rng.choice(others)
        if length > 1 and rng.random() < 0.15:  # changes requested on an early commit
            self.pending.append(
                _Pending(
                    reviewer.login,
                    "changes_requested",
                    marks[0],
                    self.pull,
                    marks[0],
                    author.login,
                    self.tick(60, 600),
                    fork,
                )
            )
        if rng.random() < 0.1:
            commenter = rng.choice([*others, author])
            self.pending.append(
                _Pending(
                    commenter.login,
                    "commented",
                    tip,
                    self.pull,
                    tip,
                    author.login,
                    self.tick(60, 600),
                    fork,
                )
            )
        approvers = [reviewer]
        if rng.random() < 0.1 and len(others) > 1:
            approvers.append(rng.choice([d for d in others if d != reviewer]))
        if self.plan.migrations != migrations:
            approvers.append(DBA)  # a migration: the DBA reviews the pull request too
        for approver in approvers:
            self.pending.append(
                _Pending(
                    approver.login,
                    "approved",
                    tip,
                    self.pull,
                    tip,
                    author.login,
                    self.tick(60, 900),
                    fork,
                )
            )
        merged = self.tick(60, 600)
        title = f"{rng.choice(VERBS).lower()}-{rng.choice(THINGS).replace(' ', '-')}"
        self.main = self.commit(
            "refs/heads/main",
            author.signature(merged),
            b"%s %d +0000" % (GITHUB_COMMITTER, merged),
            f"Merge pull request #{self.pull} from {REPOSITORY.split('/')[0]}/{title}\n\n"
            f"{rng.choice(PROJECTS)}-{rng.randint(1, 4000)}: {title.replace('-', ' ')}\n",
            [self.main, tip],
            [modify(p, file_bytes(self.files[p])) for p in sorted(touched)],
        )
        self.plan.pulls += 1
        self.plan.merges += 1

    def release_reviews(self) -> None:
        """The release pull request: its head approved by two people who wrote none of it."""
        self.pull += 1
        for approver in (RELEASE_REVIEWER, DBA):
            self.pending.append(
                _Pending(
                    approver.login,
                    "approved",
                    self.main,
                    self.pull,
                    self.main,
                    RELEASE_BOT,
                    self.tick(60, 900),
                    1,  # the release pull request starts from the release base
                )
            )

    def resolve(self) -> None:
        """Ask fast-import for the SHAs the reviews name (before the stream ends)."""
        shas: dict[int, str] = {}

        def sha(mark: int) -> str:
            if mark not in shas:
                shas[mark] = self.out.sha(mark)
            return shas[mark]

        self.plan.base, self.plan.head = sha(1), sha(self.main)
        for p in self.pending:
            self.review += 1
            self.plan.reviews.append(
                PlannedReview(
                    self.review,
                    p.reviewer,
                    p.state,
                    sha(p.mark),
                    p.pull,
                    sha(p.head_mark),
                    p.author,
                    p.at,
                    sha(p.base_mark),
                )
            )


def generate(out: FastImport, seed: int, commits: int) -> Plan:
    """A base commit, then exactly `commits` commits: pull requests and some direct ones."""
    rng = random.Random(seed * 100_003 + commits)  # noqa: S311 - reproducible, not secret
    history = History(rng, out)
    history.base()
    left = commits
    while left > 0:
        length = rng.randint(1, 6)  # a pull request's commits, its merge besides
        if rng.random() < DIRECT_RATE or length + 1 > left:
            history.direct()
            left -= 1
        else:
            history.pull_request(length)
            left -= length + 1
    history.plan.commits = commits
    history.release_reviews()
    history.resolve()
    return history.plan


def repository(seed: int, commits: int, cache: Path) -> tuple[Path, Plan]:
    """The history for (seed, commits): from the cache, else built and cached."""
    name = f"gate-g{GENERATOR}-seed{seed}-commits{commits}.git"
    repo = cache / name
    info = repo / "bench-plan.json"
    if info.is_file():
        raw = json.loads(info.read_text(encoding="utf-8"))
        reviews = [PlannedReview(**r) for r in raw.pop("reviews")]
        plan = Plan(**raw, reviews=reviews)
        say(f"  {commits:,} commits: cached at {repo}")
        return repo, plan
    shutil.rmtree(repo, ignore_errors=True)
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / f"{name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    git("init", "--quiet", "--bare", "--initial-branch=main", str(partial))
    started = time.perf_counter()
    with (partial / "fast-import.log").open("wb") as log:
        out = FastImport(partial, log)
        try:
            plan = generate(out, seed, commits)
        finally:
            out.close()
    git("update-ref", "-d", "refs/heads/topic", cwd=partial)
    git("pack-refs", "--all", cwd=partial)
    plan.seconds = round(time.perf_counter() - started, 1)
    counted = int(git("rev-list", "--count", f"{plan.base}..main", cwd=partial))
    merges = int(git("rev-list", "--count", "--merges", f"{plan.base}..main", cwd=partial))
    if (counted, merges) != (commits, plan.merges):
        raise SystemExit(f"bench bug: built {counted} commits ({merges} merges), not {commits}")
    (partial / "bench-plan.json").write_text(json.dumps(asdict(plan), indent=1) + "\n")
    partial.rename(repo)
    say(
        f"  {commits:,} commits: built in {plan.seconds:.1f}s ({plan.merges:,} merges, "
        f"{len(plan.reviews):,} reviews, {plan.migrations} migrations)"
    )
    return repo, plan


# -- evidence files ---------------------------------------------------------------------------


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def review_payload(review: PlannedReview) -> dict[str, object]:
    """A GitHub `pull_request_review` webhook, as GitHub sends it (the fields read)."""
    return {
        "action": "submitted",
        "review": {
            "id": review.number,
            "user": {"login": review.reviewer, "type": "User"},
            "body": None,
            "commit_id": review.sha,
            "submitted_at": iso(review.at),
            "state": review.state,
            "author_association": "MEMBER",
            "html_url": f"https://github.com/{REPOSITORY}/pull/{review.pull}"
            f"#pullrequestreview-{review.number}",
        },
        "pull_request": {
            "number": review.pull,
            "state": "open",
            "user": {"login": review.author, "type": "User"},
            "head": {"ref": f"feature/{review.pull}", "sha": review.head},
            "base": {"ref": "main", "sha": review.base},
        },
        "repository": {"full_name": REPOSITORY, "private": True},
        "sender": {"login": review.reviewer},
    }


def junit_files(directory: Path, rng: random.Random) -> list[Path]:
    """A passing run: TESTS test cases over 24 suites, a few skipped."""
    paths = []
    per = TESTS // 24
    for n in range(24):
        service = SERVICES[n % len(SERVICES)]
        cases = []
        skipped = 0
        for k in range(per):
            name = f"test_{rng.choice(WORDS)}_{rng.choice(WORDS)}_{k}"
            if rng.random() < 0.01:
                skipped += 1
                cases.append(
                    f'<testcase classname="tests.{service}.test_{n}" name="{name}" time="0.001">'
                    '<skipped message="needs the sandbox"/></testcase>'
                )
            else:
                cases.append(
                    f'<testcase classname="tests.{service}.test_{n}" name="{name}" '
                    f'time="{rng.random() / 10:.3f}"/>'
                )
        path = directory / f"junit-{n:02d}.xml"
        path.write_text(
            '<?xml version="1.0" encoding="utf-8"?>\n<testsuites>'
            f'<testsuite name="pytest" errors="0" failures="0" skipped="{skipped}" '
            f'tests="{per}" time="12.5" timestamp="2026-03-01T10:00:00">'
            + "".join(cases)
            + "</testsuite></testsuites>\n"
        )
        paths.append(path)
    return paths


def sarif_log() -> dict[str, object]:
    """bandit's SARIF: notes below the policy's level, and one error suppressed in source."""
    results: list[dict[str, object]] = [
        {
            "ruleId": f"B{101 + n}",
            "level": "note",
            "message": {"text": f"low-severity finding {n}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f"services/{SERVICES[n]}/utils.py"},
                        "region": {"startLine": 10 + n},
                    }
                }
            ],
        }
        for n in range(4)
    ]
    results.append(
        {
            "ruleId": "B324",
            "level": "error",
            "message": {"text": "Use of weak MD5 hash for security"},
            "suppressions": [{"kind": "inSource", "justification": "checksum, not security"}],
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "services/ledger/export.py"},
                        "region": {"startLine": 42},
                    }
                }
            ],
        }
    )
    return {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{"tool": {"driver": {"name": "Bandit", "version": "1.8.0"}}, "results": results}],
    }


def provenance_envelope(key: Ed25519PrivateKey, name: str, digest: str, head: str) -> bytes:
    """A DSSE envelope, signed, of an in-toto Statement v1 with SLSA provenance v1."""
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": digest}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {
                    "workflow": {
                        "ref": "refs/heads/main",
                        "repository": f"https://github.com/{REPOSITORY}",
                        "path": ".github/workflows/release.yml",
                    }
                },
                "resolvedDependencies": [
                    {
                        "uri": f"git+https://github.com/{REPOSITORY}@refs/heads/main",
                        "digest": {"gitCommit": head},
                    }
                ],
            },
            "runDetails": {
                "builder": {"id": BUILDER},
                "metadata": {"invocationId": f"https://github.com/{REPOSITORY}/actions/runs/1"},
            },
        },
    }
    payload = json.dumps(statement).encode()
    kind = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(kind), kind.encode(), len(payload), payload)
    envelope = {
        "payloadType": kind,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(key.sign(pae)).decode()}],
    }
    return json.dumps(envelope).encode()


# -- the instance -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prepared:
    """A release recorded with its evidence, and the request a pipeline sends the gate."""

    commits: int
    plan: Plan
    request: GateRequest
    policy: Path
    evidence: int  # evidence records bound to the release
    reviews: int
    setup_s: float


def add_people(instance: Instance) -> None:
    for person in PEOPLE:
        instance.actors.add(
            person.name,
            emails=[person.email],
            github=person.login,
            roles=person.roles,
            groups=person.groups,
            by="admin",
        )


def prepare(
    instance: Instance, repo: Path, plan: Plan, files: Path, policy: Path, seed: int
) -> Prepared:
    """`release create`, then every piece of evidence, through the services the CLI calls."""
    started = time.perf_counter()
    ref = ReleaseRef.of(SERVICE, f"{plan.commits}-commits")
    view = instance.releases.create(
        ref, repository=repo, to_ref="main", from_ref=plan.base, actor="ci", tickets="jira,github"
    )
    if view.release.commit_count != plan.commits or view.untracked_commits:
        raise SystemExit(f"bench bug: release create returned {view.release}")
    files.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed + plan.commits)  # noqa: S311 - reproducible, not secret

    # Reviews arrive one webhook each; a pipeline attests them in batches.
    paths = []
    for review in plan.reviews:
        path = files / f"review-{review.number}.json"
        path.write_text(json.dumps(review_payload(review)))
        paths.append(path)
    for at in range(0, len(paths), 200):
        instance.evidence.attest(AttestKind.REVIEW, paths[at : at + 200], ref, actor="github")
    instance.evidence.attest(AttestKind.TEST_RESULTS, junit_files(files, rng), ref, actor="ci")
    scan = files / "bandit.sarif"
    scan.write_text(json.dumps(sarif_log()))
    instance.evidence.attest(AttestKind.SCAN, [scan], ref, actor="ci")

    artifact = files / f"payments-{plan.commits}.tar.gz"
    artifact.write_bytes(rng.randbytes(256 * 1024))
    (recorded,) = instance.attest.artifacts(
        [artifact], service=None, version=ref.name, actor="ci", release=ref
    )
    digest = recorded.artifact.sha256
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"builder %d" % seed).digest())
    public = files / "builder.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    provenance = files / f"{artifact.name}.intoto.json"
    provenance.write_bytes(provenance_envelope(key, artifact.name, digest, plan.head))
    (signed,) = instance.evidence.attest(
        AttestKind.PROVENANCE, [provenance], ref, actor="ci", public_keys=[public]
    )
    if signed.summary.get("signature_verified") is not True:
        raise SystemExit(f"bench bug: the provenance signature did not verify: {signed.summary}")
    # Only a decision under the active policy is recorded: make the bench's policy active (the
    # instance has no admin, so it is active at once), else every decision is a dry run.
    instance.policies.activate(policy, actor="admin")
    request = GateRequest(
        release=ref,
        environment=ENVIRONMENT,
        policy_file=policy,
        deployer=DEPLOYER.name,
        artifact=digest,
    )
    # One review file per webhook, test results merged into one record, scan, provenance.
    evidence = len(plan.reviews) + 3
    return Prepared(
        plan.commits,
        plan,
        request,
        policy,
        evidence,
        len(plan.reviews),
        time.perf_counter() - started,
    )


# -- the measurement --------------------------------------------------------------------------


def load(instance: Instance, request: GateRequest, loaded: LoadedPolicy) -> Facts:
    """The limit: what `decide` reads before it evaluates, exactly as it reads it: the facts
    from their ledger entries, each proven into the signed tree."""
    now = instance.clock.now()
    verifier = load_signer(instance.config).verifier
    with instance.db.read() as conn:
        as_of = stored.read_head(conn).tree_size
        check = EntryCheck(conn, verifier, instance.config.origin)
        return facts_as_of(conn, request, loaded, as_of, now, check)


def check(decision: Decision, facts: Facts, prepared: Prepared) -> None:
    """The gate decided on everything it was given and allowed the release, or the run stops."""
    failed = {c.id: c.reason for c in decision.controls if c.status is not ControlStatus.PASS}
    if not decision.allowed or failed or len(decision.controls) != CONTROLS:
        raise SystemExit(f"bench bug: the gate did not pass every control: {failed}")
    reviews = len(facts.of_kind(EvidenceKind.REVIEW))
    if (len(facts.commits), len(facts.evidence), reviews, len(facts.artifacts)) != (
        prepared.commits,
        prepared.evidence,
        prepared.reviews,
        1,
    ):
        raise SystemExit(
            f"bench bug: loaded {len(facts.commits)} commits, {len(facts.evidence)} evidence "
            f"({reviews} reviews), {len(facts.artifacts)} artifacts for {prepared.request.release}"
        )
    expert = next(c for c in decision.controls if c.id == "expert-review")
    if prepared.plan.migrations and not expert.facts.get("high_risk_paths"):
        raise SystemExit(f"bench bug: expert-review saw no high-risk path: {expert.reason}")


@dataclass(frozen=True, slots=True)
class Measured:
    prepared: Prepared
    gate_s: float
    load_s: float
    evaluate_s: float
    policy_s: float
    rest_s: float  # gate - load - evaluate - policy, per round: recording the decision, mostly
    evaluated_s: float  # load + policy + evaluate, per round: the decision without recording it
    first_s: float
    rounds: int
    ledger_entries: int
    approvers: int


def rounds_for(commits: int, asked: int | None) -> int:
    if asked is not None:
        return asked
    return 21 if commits <= 1_000 else 11


def measure(
    instance: Instance, prepared: Prepared, rounds: int, profile: Path | None, backend: str
) -> Measured:
    request = prepared.request
    loaded = load_policy_file(prepared.policy)
    # What decide pays for its policy file after its first decision: reading it and finding
    # the bytes it validated last time (GateService keeps a PolicyFiles of its own).
    files = PolicyFiles()
    files.load(prepared.policy)
    with Stopwatch() as first:
        result = instance.gate.decide(request, actor="ci")
    facts = load(instance, request, loaded)
    check(result.decision, facts, prepared)
    if result.dry_run:
        raise SystemExit("bench bug: the bench's policy is not the active one: a dry run")
    gate, limit, evaluation, policy, rest, evaluated = [], [], [], [], [], []
    for n in range(rounds):
        # Alternate which goes first, so drift in the machine falls on both alike.
        for step in ("load", "gate") if n % 2 == 0 else ("gate", "load"):
            if step == "gate":
                with Stopwatch() as watch:
                    decided = instance.gate.decide(request, actor="ci")
                gate.append(watch.seconds)
                if not decided.decision.allowed or decided.dry_run:
                    raise SystemExit("bench bug: a later decision blocked or was not recorded")
            else:
                with Stopwatch() as watch:
                    facts = load(instance, request, loaded)
                limit.append(watch.seconds)
        with Stopwatch() as watch:
            evaluate(loaded.policy, loaded.digest, facts)
        evaluation.append(watch.seconds)
        with Stopwatch() as watch:
            files.load(prepared.policy)
        policy.append(watch.seconds)
        rest.append(gate[-1] - limit[-1] - evaluation[-1] - policy[-1])
        evaluated.append(limit[-1] + policy[-1] + evaluation[-1])
    if profile is not None:
        profile_gate(instance, request, profile, f"gate-{backend}-{prepared.commits}", rounds)
    independent = next(c for c in result.decision.controls if c.id == "independent-review")
    measured = Measured(
        prepared,
        statistics.median(gate),
        statistics.median(limit),
        statistics.median(evaluation),
        statistics.median(policy),
        statistics.median(rest),
        statistics.median(evaluated),
        first.seconds,
        rounds,
        instance.ledger.size(),
        int(str(independent.facts.get("approvers", 0))),
    )
    say(
        f"  {prepared.commits:,} commits: gate {measured.gate_s * 1000:.1f} ms, load "
        f"{measured.load_s * 1000:.1f} ms, evaluate {measured.evaluate_s * 1000:.1f} ms, "
        f"policy file {measured.policy_s * 1000:.1f} ms, the rest "
        f"{measured.rest_s * 1000:.1f} ms (medians of {rounds}; first decision "
        f"{measured.first_s * 1000:.1f} ms)"
    )
    return measured


def profile_gate(
    instance: Instance, request: GateRequest, directory: Path, label: str, rounds: int
) -> None:
    """`rounds` more decisions under cProfile, after the timed ones: they do not count."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        for _ in range(rounds):
            instance.gate.decide(request, actor="ci")
    finally:
        profiler.disable()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{label}.prof"
    profiler.dump_stats(target)
    say(f"  profile of {rounds} decisions written to {target}; the top by own time:")
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)


def lines_of(measured: Sequence[Measured], backend: str) -> list[Line]:
    lines = []
    for m in measured:
        p = m.prepared
        lines.append(
            Line(
                f"gate_latency_{p.commits}",
                "s",
                m.gate_s,
                m.load_s,
                m.load_s / m.gate_s,
                1 / OVERHEAD,
                backend,
                {
                    "commits": p.commits,
                    "merges": p.plan.merges,
                    "reviews": p.reviews,
                    "evidence": p.evidence,
                    "approvers": m.approvers,
                    "migrations": p.plan.migrations,
                    "controls": CONTROLS,
                    "allowed": True,
                    "rounds": m.rounds,
                    "evaluate_s": round(m.evaluate_s, 5),
                    "policy_s": round(m.policy_s, 5),
                    "rest_s": round(m.rest_s, 5),
                    "first_s": round(m.first_s, 4),
                    "ledger_entries": m.ledger_entries,
                    "setup_s": round(p.setup_s, 1),
                },
            )
        )
    lines.extend(
        Line(
            f"gate_evaluation_{m.prepared.commits}",
            "s",
            m.evaluated_s,
            m.load_s,
            m.load_s / m.evaluated_s,
            1 / OVERHEAD,
            backend,
            {
                "commits": m.prepared.commits,
                "rounds": m.rounds,
                "evaluate_s": round(m.evaluate_s, 5),
                "policy_s": round(m.policy_s, 5),
            },
        )
        for m in measured
    )
    lines.extend(
        Line(
            f"gate_{BUDGET_COMMITS}_commits_under_{round(BUDGET_S * 1000)}ms",
            "s",
            m.gate_s,
            BUDGET_S,
            BUDGET_S / m.gate_s,
            1.0,
            backend,
            {"commits": BUDGET_COMMITS, "rounds": m.rounds, "load_s": round(m.load_s, 4)},
        )
        for m in measured
        if m.prepared.commits == BUDGET_COMMITS
    )
    return lines


def run_backend(
    backend: str,
    histories: Sequence[tuple[Path, Plan]],
    workdir: Path,
    postgres_url: str,
    args: argparse.Namespace,
) -> None:
    home = workdir / f"{backend}-gate"
    policy = workdir / "changeproof.yaml"
    policy.write_text(POLICY)
    with fresh_database(backend, postgres_url) as url:
        initialize(
            home,
            database_url=url,
            origin=f"bench.example/gate-{backend}",
            actor="bench",
            clock=SystemClock(),
        )
        with open_instance(home) as instance:
            add_people(instance)
            prepared = []
            for repo, plan in histories:
                files = workdir / f"evidence-{backend}-{plan.commits}"
                done = prepare(instance, repo, plan, files, policy, args.seed)
                say(
                    f"  {plan.commits:,} commits: release and {done.evidence:,} evidence "
                    f"records ({done.reviews:,} reviews) in {done.setup_s:.1f}s"
                )
                prepared.append(done)
            measured = [
                measure(
                    instance,
                    p,
                    rounds_for(p.commits, args.rounds),
                    args.profile if p is prepared[-1] else None,
                    backend,
                )
                for p in prepared
            ]
    for line in lines_of(measured, backend):
        line.emit()


# -- the run ----------------------------------------------------------------------------------


def parse_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes are commits, at least 1 each")
    return sizes


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Gate benchmark: JSON lines on stdout, progress on stderr."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"releases of {', '.join(f'{n:,}' for n in QUICK_SIZES)} commits",
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        help="commits per release, comma-separated (default "
        f"{','.join(str(n) for n in FULL_SIZES)}; overrides --quick)",
    )
    parser.add_argument(
        "--rounds", type=int, help="decisions timed per size (default 21, 11 above 1,000 commits)"
    )
    add_history_arguments(parser)
    parser.add_argument(
        "--profile",
        type=Path,
        help="after the timed rounds, profile as many decisions at the largest size with "
        "cProfile into this folder (the figures are unaffected)",
    )
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes: tuple[int, ...] = args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES)
    backends, postgres_url = chosen_backends(args, default="auto")
    say(
        f"gate: releases of {', '.join(f'{n:,}' for n in sizes)} commits, seed {args.seed}, "
        f"backends {', '.join(backends)}"
    )
    say(f"{git('--version')}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    if "postgresql" in backends:
        say(f"PostgreSQL {describe_server(postgres_url)}")
    started = time.perf_counter()
    say("histories (git fast-import, cached)")
    histories = [repository(args.seed, n, args.cache) for n in sizes]

    def run(workdir: Path) -> None:
        for backend in backends:
            say(f"{backend}: one fresh instance, every release on it")
            run_backend(backend, histories, workdir, postgres_url, args)

    within(args.workdir, run, prefix="changeproof-gate-")
    say(f"all done in {time.perf_counter() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
