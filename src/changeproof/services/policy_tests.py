"""`policy test`: run a policy's test cases with no instance, as a policy repository's CI does.

Each case file (see `changeproof.policy.cases`) is read and checked, its evidence read
with the readers `attest` uses, and only when every case is well formed is any evaluated:
a malformed case is a PolicyError (exit 2) naming the file, line and key; a case whose
decision differs from its expectation is a failed test (exit 1), never an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from changeproof.domain.clock import Clock
from changeproof.domain.decisions import Decision
from changeproof.domain.errors import InputError, UsageError, operation
from changeproof.domain.evidence import Reading
from changeproof.domain.evidence_documents import ReviewSummary, WebhookSignature
from changeproof.ingest.readers import ReadOptions, Source, plan
from changeproof.ingest.tickets import TicketMatcher, parse_ticket_spec
from changeproof.policy.cases import (
    CaseFile,
    EvidenceCase,
    case_facts,
    check_case,
    compare,
    inline_evidence,
    read_case,
)
from changeproof.policy.errors import PolicyError, PolicyProblem
from changeproof.policy.evaluation import evaluate
from changeproof.policy.facts import EvidenceFact
from changeproof.policy.loader import MAX_POLICY_BYTES, LoadedPolicy, load_policy_file
from changeproof.services.files import read_input
from changeproof.services.instance import DEFAULT_MAX_EVIDENCE_BYTES

__all__ = ["CaseOutcome", "PolicyTestReport", "PolicyTestService"]

CASE_SUFFIXES: Final = (".yaml", ".yml")
_HINT: Final = f"the case file format: docs/cli.md, {operation('policy test')}"


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    source: str
    name: str | None
    decision: Decision
    differences: tuple[str, ...]

    @property
    def held(self) -> bool:
        return not self.differences


@dataclass(frozen=True, slots=True)
class PolicyTestReport:
    policy: LoadedPolicy
    outcomes: tuple[CaseOutcome, ...]

    @property
    def failed(self) -> tuple[CaseOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.held)


@dataclass(frozen=True, slots=True)
class _Ready:
    file: CaseFile
    evidence: tuple[EvidenceFact, ...]


class PolicyTestService:
    def __init__(self, clock: Clock, max_file_bytes: int = DEFAULT_MAX_EVIDENCE_BYTES) -> None:
        self._clock = clock
        self._max_bytes = max_file_bytes

    def run(self, cases: Path, policy_file: Path) -> PolicyTestReport:
        """Every case in `cases` (a folder of case files, or one file) under the policy."""
        loaded = load_policy_file(policy_file)
        matcher = TicketMatcher(parse_ticket_spec(loaded.policy.tickets))
        problems: list[PolicyProblem] = []
        ready: list[_Ready] = []
        for path in _case_files(cases):
            try:
                file = read_case(read_input(path, "case file", limit=MAX_POLICY_BYTES), str(path))
            except PolicyError as e:
                problems.extend(e.problems)
                continue
            found = check_case(file, loaded.policy)
            evidence = self._evidence(file, path.parent, found)
            problems.extend(found)
            ready.append(_Ready(file, evidence))
        if problems:
            raise PolicyError(problems, hint=_HINT)
        now = self._clock.now()
        outcomes = []
        for case in ready:
            facts = case_facts(case.file, loaded.policy, case.evidence, matcher.find, now)
            expected = case.file.case
            decision = evaluate(loaded.policy, loaded.digest, facts, declared=expected.declare)
            outcomes.append(
                CaseOutcome(
                    case.file.source,
                    expected.name,
                    decision,
                    compare(expected.expect, decision),
                )
            )
        return PolicyTestReport(loaded, tuple(outcomes))

    def _evidence(
        self, file: CaseFile, folder: Path, problems: list[PolicyProblem]
    ) -> tuple[EvidenceFact, ...]:
        """Each entry read as `attest` reads it; a problem (on the entry's line) when not."""
        shas = {c.sha for c in file.case.commits}
        facts = []
        for n, entry in enumerate(file.case.evidence):
            key = ("evidence", n, _source_key(entry))
            try:
                name, data = self._bytes(entry, folder, file.source, n)
                reading = _read(entry.kind, Source(name, data), entry.format)
            except InputError as e:
                problems.append(file.problem(key, e.message))
                continue
            if isinstance(reading.summary, ReviewSummary):
                # As attest records it: nobody checked a webhook signature here.
                checked = replace(reading.summary, webhook_signature=WebhookSignature.NOT_CHECKED)
                reading = replace(reading, summary=checked)
            outside = [sha for sha in _about(reading) if sha not in shas]
            if outside:
                problems.append(
                    file.problem(
                        key,
                        f"it is about commit {outside[0][:12]}, which is not one of the case's "
                        "commits (attest would refuse it)",
                    )
                )
                continue
            facts.append(
                EvidenceFact(
                    n + 1,
                    reading.kind,
                    reading.format,
                    hashlib.sha256(data).hexdigest(),
                    reading.summary,
                    reading.detail,
                )
            )
        return tuple(facts)

    def _bytes(self, entry: EvidenceCase, folder: Path, source: str, n: int) -> tuple[str, bytes]:
        inline = inline_evidence(entry)
        if inline is not None:
            return f"{source}#evidence[{n}]", inline
        assert entry.file is not None  # the case model demands one of the three
        path = folder / entry.file
        return str(path), read_input(path, "evidence file", limit=self._max_bytes)


def _read(kind: str, source: Source, format: str | None) -> Reading:
    """One file read by the reader `attest KIND` would give it (the registry's choice)."""
    (batch,) = plan(kind, [source], format)
    return batch.reader.read([source], ReadOptions(format=format))


def _source_key(entry: EvidenceCase) -> str:
    return next(k for k in ("file", "document", "text") if getattr(entry, k) is not None)


def _about(reading: Reading) -> Sequence[str]:
    """The commits a reading is about, as attest checks them against the release."""
    if isinstance(reading.summary, ReviewSummary):
        reviewed = reading.summary.reviewed_sha
        return [] if reviewed is None else [reviewed]
    return reading.commits


def _case_files(cases: Path) -> list[Path]:
    if cases.is_file():
        return [cases]
    if not cases.is_dir():
        raise InputError(f"no test cases at {cases}: it is neither a folder nor a file")
    found = sorted(p for p in cases.iterdir() if p.suffix in CASE_SUFFIXES and p.is_file())
    if not found:
        raise UsageError(
            f"{cases} holds no test cases (*.yaml or *.yml files)",
            hint=f"write one YAML file per case; see {operation('policy test', help=None)}",
        )
    return found
