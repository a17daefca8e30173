"""Write tests/fixtures/ledger-v1: an instance ledger as today's changeproof writes it.

    PYTHONPATH=src python tools/ledger_fixture.py [OUT]     # OUT: tests/fixtures/ledger-v1

The committed fixture is the witness of the ledger format of changeproof at commit
FIXTURE_COMMIT below (`git rev-parse HEAD` when it was made). It must NOT be regenerated
once the entry bodies, payload codecs or projections change: the point of
tests/integration/test_old_ledger.py is that a ledger written by that code still verifies,
rebuilds and replays identically with the code of the day. Regenerating it with new code
would test the new code against itself. Make a new fixture (ledger-v2, …) for a new format.

What it holds: everything `changeproof demo` records (actors, roles, a governed policy
activation, two releases with their commits, artifacts and evidence, blocked and allowing
gate decisions, a change with its approvals, deployments and their checks), and then,
through the same CLI (in-process) and services, the event types the demo does not write:
aliases, revoked roles and groups, a pipeline actor and its token (created, revoked), a
rejected policy proposal, the policy governance setting, a refreshed and a rejected
change, an urgent change with its after-the-fact review and its export to ServiceNow
(answered by an injected transport), a deployment's later status, an SBOM and a failed
post-deployment check. `policy.recorded` is no longer written by any service (an
activation records its policy); older gates wrote it on first use of a policy, so the
script appends one through the unit of work in the shape GateService writes it, which the
projection ignores (its digest is known already), as it ignored it then.

Reproducible where the code allows: the CLI reads time from the composition root's
SystemClock, and the script makes every reading one second after the last, from a fixed
start, so a re-run writes the same times and the same git commits. What still differs from
run to run: the signing key (and so the verifier key, origin and every checkpoint
signature), the token's secret hash, and the scratch folder's path inside evidence and
policy-source fields.

The fixture's signing key is TEST-ONLY (`TEST-ONLY-signing-key.pem`): an instance cannot be
opened without its key, and the test opens it to verify, audit and rebuild it. It signs
nothing anyone trusts.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import httpx
from sqlalchemy import create_engine

ROOT: Final = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the golden dumps' format lives in the test that reads them

from tests.integration.test_old_ledger import (  # noqa: E402
    ALL_EVENT_TYPES,
    KEY_FILE,
    dump_entries,
    dump_projections,
)

from changeproof import bootstrap  # noqa: E402
from changeproof.cli.main import run  # noqa: E402
from changeproof.domain.canonical import JsonValue  # noqa: E402
from changeproof.domain.events import ActorId, Event  # noqa: E402
from changeproof.domain.payloads import event_types  # noqa: E402
from changeproof.services.instance import load_signer  # noqa: E402
from changeproof.store import decisions as recorded  # noqa: E402
from changeproof.store.unit_of_work import UnitOfWork  # noqa: E402

FIXTURE_COMMIT: Final = "91c02a54326bfae53e744d44ba84099648cd5cc6"
START: Final = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday, after the demo's commits


class SteppingClock:
    """Each reading one second after the last: distinct, ordered, the same on every run."""

    def __init__(self, start: datetime) -> None:
        self._next = start

    def now(self) -> datetime:
        moment = self._next
        self._next += timedelta(seconds=1)
        return moment


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "tests" / "fixtures" / "ledger-v1"
    if out.exists():
        print(f"{out} exists: it is an old format's witness, never regenerated", file=sys.stderr)  # noqa: T201
        return 2
    clock = SteppingClock(START)
    # The CLI builds its own SystemClock per command; this is the one seam it offers.
    bootstrap.SystemClock.now = lambda self: clock.now()  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(prefix="changeproof-fixture-") as scratch:
        work = Path(scratch)
        cwd = work / "cwd"  # an empty folder: `gate` reads ./changeproof.yaml when present
        cwd.mkdir()
        os.chdir(cwd)
        home = work / "instance"
        with contextlib.redirect_stdout(sys.stderr):
            _cli("demo", "--keep", work)
            _extras(work, home, clock)
        _write(work, home, out)
    return 0


def _cli(*argv: str | Path, expect: int = 0) -> str:
    """Run one command in-process; its stdout, after checking its exit code."""
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        code = run([str(a) for a in argv])
    if code != expect:
        raise SystemExit(f"changeproof {' '.join(map(str, argv))}: exit {code}, expected {expect}")
    return text.getvalue()


def _json(*argv: str | Path, expect: int = 0) -> dict[str, object]:
    doc: dict[str, object] = json.loads(_cli(*argv, "--output", "json", expect=expect))
    return doc


def _extras(work: Path, home: Path, clock: SteppingClock) -> None:
    h = ("--home", home)
    root = ("--as", "root", *h)
    ci = ("--actor", "ci-pipeline", *h)

    _cli(
        "actor",
        "alias",
        "add",
        "carol",
        "--email",
        "carol@corp.example",
        "--gitlab",
        "carol",
        *root,
    )
    _cli("actor", "grant", "carol", "--role", "reviewer", *root)
    _cli("actor", "revoke", "carol", "--role", "reviewer", *root)
    _cli("actor", "grant", "carol", "--group", "payments-owners", *root)
    _cli("actor", "revoke", "carol", "--group", "payments-owners", *root)
    _cli("actor", "add", "deploy-bot", "--pipeline", "--role", "qa-pusher", *root)
    token = _json("token", "create", "--actor", "deploy-bot", "--name", "fixture", *root)
    _cli("token", "revoke", str(token["id"]), *root)

    variant = work / "variant.yaml"
    policy = (work / "changeproof.yaml").read_text(encoding="utf-8")
    variant.write_text(policy.replace("min_tests: 1", "min_tests: 3"), encoding="utf-8")
    proposal = _json("policy", "activate", variant, "--actor", "olivia", *h)
    _cli("policy", "reject", str(proposal["proposal"]), "--reason", "three is too few", *root)
    _cli("policy", "governance", "--two-person", "--approver-role", "admin", *root)
    _legacy_policy_record(home, clock)

    release = ("--release", "payments/1.4.1")
    plan, rollback = work / "plan.md", work / "rollback.md"
    texts = ("--plan", plan, "--rollback", rollback)
    normal = _json("change", "open", *release, "--env", "production", *texts, *ci)
    _cli("change", "approve", str(normal["id"]), "--as", "alan", *h)
    sbom = work / "sbom.json"
    sbom.write_text(json.dumps(_SBOM), encoding="utf-8")
    _cli("attest", "sbom", sbom, *release, *ci)
    _cli("change", "refresh", str(normal["id"]), *ci)
    _cli(
        "change",
        "reject",
        str(normal["id"]),
        "--reason",
        "wait for the sbom review",
        "--as",
        "barbara",
        *h,
    )

    urgent = _json(
        "change", "open", "--release", "payments/1.4.0", "--env", "production", *texts,
        "--urgent", "--reason", "refunds double-charge customers", *ci,
    )  # fmt: skip
    _cli("gate", "--release", "payments/1.4.0", "--env", "production", "--urgent",
         "--reason", "refunds double-charge customers", *ci, expect=1)  # fmt: skip
    _cli("change", "review", str(urgent["id"]), "--outcome", "accepted",
         "--notes", "the fix held; ticket PAY-105 adds the test", "--as", "alan", *h)  # fmt: skip
    _export(home, str(urgent["id"]))

    deployments = json.loads(_cli("deploy", "list", "--env", "pci-production", "-o", "json", *h))
    digest = str(deployments[-1]["artifact"])
    target = ("--env", "staging", "--artifact", digest, "--as", "pat", *h)
    started = _json("deploy", "record", *release, *target, "--status", "started")
    _cli("deploy", "record", *release, *target, "--status", "succeeded",
         "--deployment", str(started["id"]))  # fmt: skip
    _cli("deploy", "check", "--deployment", str(started["id"]), "--name", "latency",
         "--status", "fail", "--as", "pat", *h, expect=1)  # fmt: skip
    _cli("ledger", "checkpoint", "--out", work / "checkpoint.txt", *h)


def _legacy_policy_record(home: Path, clock: SteppingClock) -> None:
    """A `policy.recorded` of the active policy, as a gate before governance wrote it."""
    with bootstrap.open_instance(home, clock) as instance:
        with instance.db.read() as conn:
            active = recorded.active_policy(conn)
            assert active is not None
            document = recorded.policy_document(conn, active.digest)
        with UnitOfWork(instance.db, load_signer(instance.config), clock) as uow:
            data = {"digest": active.digest, "policy": document, "source": "changeproof.yaml"}
            uow.record(Event("policy.recorded", ActorId("ci-pipeline"), clock.now(), data))


def _export(home: Path, change: str) -> None:
    """Export through the service, ServiceNow answered by an injected transport."""
    with (home / "config.toml").open("a", encoding="utf-8") as config:
        config.write(
            '\n[servicenow]\nbase_url = "https://example.service-now.com"\n'
            'token_env = "SERVICENOW_TOKEN"\n'
        )

    def servicenow(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"result": []})
        return httpx.Response(201, json={"result": {"sys_id": "b" * 32, "number": "CHG0030042"}})

    with bootstrap.open_instance(home) as instance:
        instance.change_exports.export(
            change,
            "servicenow",
            by="ci-pipeline",
            environ={"SERVICENOW_TOKEN": "not-a-real-token"},
            transport=httpx.MockTransport(servicenow),
            sleep=lambda _: None,
        )


def _write(work: Path, home: Path, out: Path) -> None:
    instance = out / "instance"
    golden = out / "golden"
    golden.mkdir(parents=True)
    instance.mkdir()
    shutil.copy(work / "checkpoint.txt", out / "checkpoint.txt")
    h = ("--home", home)
    verify = _json("ledger", "verify", "--checkpoint", out / "checkpoint.txt", *h)
    _golden(golden / "verify.json", verify)
    _golden(golden / "audit.json", _json("ledger", "audit", *h))
    _cli("ledger", "export", "--out", out / "ledger.jsonl", *h)
    offline = subprocess.run(  # noqa: S603 - our own verifier, the way an auditor runs it
        [sys.executable, "-m", "changeproof.verify", out / "ledger.jsonl",
         "--public-key", home / "public-key.pem", "--checkpoint", out / "checkpoint.txt",
         "--output", "json"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    _golden(golden / "offline-verify.json", json.loads(offline.stdout))
    _cli("ledger", "rebuild", *h)

    db = instance / "changeproof.db"
    source = sqlite3.connect(home / "changeproof.db")
    try:
        # One self-contained file: the WAL folded in, free pages dropped.
        source.execute("VACUUM INTO ?", (str(db),))
    finally:
        source.close()
    target = sqlite3.connect(db)
    try:
        # The smallest pages: some forty tables and their indexes hold a page each at least.
        target.execute("PRAGMA journal_mode=DELETE")
        target.execute("PRAGMA page_size=512")
        target.execute("VACUUM")
    finally:
        target.close()
    shutil.copy(home / "public-key.pem", instance / "public-key.pem")
    shutil.copy(home / "signing-key.pem", instance / KEY_FILE)
    config = (home / "config.toml").read_text(encoding="utf-8")
    config = config.replace('signing_key = "signing-key.pem"', f'signing_key = "{KEY_FILE}"')
    (instance / "config.toml").write_text(_CONFIG_NOTE + config, encoding="utf-8")

    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            _golden(golden / "projections.json", dump_projections(conn))
            entries = dump_entries(conn)
    finally:
        engine.dispose()
    _golden(golden / "entries.json", entries)
    (out / "README.md").write_text(_README.format(commit=_head()), encoding="utf-8")
    _report(entries)


_README: Final = """# ledger-v1: a ledger written by changeproof at commit {commit}

Made once by `tools/ledger_fixture.py` and never regenerated: it is the witness of the ledger
format of that commit, read by `tests/integration/test_old_ledger.py`, which checks that
today's code verifies, audits, rebuilds and replays it exactly as that code did.

- `instance/`: the instance (SQLite database, config, public key). Its signing key
  `TEST-ONLY-signing-key.pem` is public and test-only: the test needs it to open the instance.
- `checkpoint.txt`: its newest signed checkpoint, as an auditor keeps it.
- `ledger.jsonl`: its export for offline verification, in that code's export format.
- `golden/`: what that code reported: `verify.json` (`ledger verify --checkpoint`),
  `audit.json` (`ledger audit`), `offline-verify.json` (`python -m changeproof.verify`),
  `projections.json` (every projection table after `ledger rebuild`) and `entries.json`
  (every entry's seq, type, leaf hash and body).
"""
_CONFIG_NOTE: Final = (
    "# A test fixture (tools/ledger_fixture.py): its signing key is TEST-ONLY and public.\n"
)


def _head() -> str:
    """The commit whose code wrote the fixture; refused when src/ differs from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True)  # noqa: S603, S607
        return done.stdout.strip()

    if git("status", "--porcelain", "src"):
        raise SystemExit(
            "src/ has uncommitted changes: the fixture must name the code that made it"
        )
    return git("rev-parse", "HEAD")


def _golden(path: Path, doc: object) -> None:
    path.write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def _report(entries: list[dict[str, JsonValue]]) -> None:
    written = {str(e["type"]) for e in entries}
    known = set(event_types()) | set(ALL_EVENT_TYPES)
    for line in _lines(written, known):
        print(line)  # noqa: T201 - the tool's own report


def _lines(written: set[str], known: set[str]) -> Iterator[str]:
    yield f"{len(written)} event types written: {', '.join(sorted(written))}"
    missing = sorted(known - written)
    yield f"not produced: {', '.join(missing) if missing else 'none'}"


_SBOM: Final = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.6",
    "version": 1,
    "metadata": {"component": {"type": "application", "name": "payments", "version": "1.4.1"}},
    "components": [
        {
            "type": "library",
            "name": "requests",
            "version": "2.32.3",
            "purl": "pkg:pypi/requests@2.32.3",
            "licenses": [{"license": {"id": "Apache-2.0"}}],
        },
        {
            "type": "library",
            "name": "urllib3",
            "version": "2.2.3",
            "purl": "pkg:pypi/urllib3@2.2.3",
            "licenses": [{"license": {"id": "MIT"}}],
        },
    ],
}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
