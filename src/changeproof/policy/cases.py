"""Policy test cases: a release's facts written out by hand, and the verdict they must get.

`changeproof policy test DIR` runs them in a policy repository's CI, with no instance:
each case is one YAML file (read with the policy file's strict YAML reader, so problems
name the file, line and key) holding the facts the gate would gather for one release and
environment, and what the decision must be:

    environment: production
    now: 2026-11-25T12:00:00Z
    deployer: pat
    actors:
      - {name: ada, emails: [ada@example.com], github: ada-l}
      - {name: carol, emails: [carol@example.com], github: carol-c}
    commits:
      - sha: "1111111111111111111111111111111111111111"
        author: Ada Lovelace <ada@example.com>
        subject: PAY-1 add refunds
        paths: [refunds.py]
    evidence:
      - {kind: test-results, file: evidence/junit-pass.xml}
      - kind: review
        document: {reviewer: carol-c, state: approved, author: ada-l,
                   reviewed_sha: "1111111111111111111111111111111111111111",
                   commits: ["1111111111111111111111111111111111111111"]}
    expect:
      allowed: true
      classification: normal
      controls:
        independent-review: pass
        tests-passed: {status: pass, reason_contains: ["1 test"]}

Evidence is read by the same readers `changeproof attest` uses, from a file (relative to
the case file), an inline JSON `document` or inline `text`; reading it is the services'
job (this module stays pure). Here: the case's shape, its meaning against the policy,
the Facts it describes, and the differences between a decision and the expectation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from changeproof.domain.actors import Actor, Directory
from changeproof.domain.changes import (
    MIGRATION_GLOBS,
    ApprovalRecord,
    ChangeFact,
    ChangeState,
)
from changeproof.domain.decisions import Classification, ControlStatus, Decision
from changeproof.domain.deployments import CheckStatus, DeploymentFact
from changeproof.domain.errors import operation
from changeproof.domain.releases import (
    Commit,
    Identity,
    PathChange,
    Person,
    TicketRef,
    TicketSource,
)
from changeproof.policy.errors import PolicyError, PolicyProblem
from changeproof.policy.facts import ArtifactFact, EvidenceFact, Facts, expert_groups
from changeproof.policy.globs import matches
from changeproof.policy.model import Policy
from changeproof.policy.paths import KeyPath, Lines, key_text, locate, pydantic_problem
from changeproof.policy.yaml_reader import read_yaml

__all__ = [
    "Case",
    "CaseFile",
    "EvidenceCase",
    "Expectation",
    "TicketFinder",
    "case_facts",
    "check_case",
    "compare",
    "inline_evidence",
    "read_case",
]

TicketFinder = Callable[[str, str], tuple[TicketRef, ...]]
"""Tickets referenced by a commit's (subject, body), as the policy's patterns find them."""

EVIDENCE_KINDS: Final = ("test-results", "scan", "sbom", "provenance", "review")
_HINT: Final = f"the case file format: docs/cli.md, {operation('policy test')}"
_IDENTITY = re.compile(r"^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$")
_Text = Annotated[str, Field(min_length=1, max_length=10_000)]


def _identity(text: str) -> str:
    if _IDENTITY.match(text) is None and not re.fullmatch(r"[^<>\s]+@[^<>\s]+", text.strip()):
        raise ValueError("write `Name <email>` or an email address")
    return text


def _sha(text: str) -> str:
    if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", text) is None:
        raise ValueError("a commit SHA is 40 (or 64) lower-case hex digits, in quotes")
    return text


def _digest(text: str) -> str:
    digest = text.strip().lower().removeprefix("sha256:")
    if re.fullmatch(r"[0-9a-f]{64}", digest) is None:
        raise ValueError("a sha256 digest is 64 hex digits (optionally after `sha256:`)")
    return digest


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("give a time zone (e.g. 2026-11-25T12:00:00Z)")
    return moment


_Who = Annotated[str, AfterValidator(_identity)]
_Sha = Annotated[str, AfterValidator(_sha)]
_Digest = Annotated[str, AfterValidator(_digest)]
_Words = tuple[Annotated[str, Field(min_length=1)], ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActorCase(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    emails: tuple[_Text, ...] = ()
    github: _Text | None = None
    gitlab: _Text | None = None
    roles: tuple[_Text, ...] = ()
    groups: tuple[_Text, ...] = ()


class PathCase(_Strict):
    path: _Text
    added: Annotated[int, Field(ge=0)] | None = 1
    deleted: Annotated[int, Field(ge=0)] | None = 0
    old_path: _Text | None = None


class CommitCase(_Strict):
    sha: _Sha
    author: _Who
    committer: _Who | None = None  # default: the author
    co_authors: tuple[_Who, ...] = ()
    subject: _Text
    body: str = ""
    paths: tuple[PathCase, ...] = ()
    tickets: tuple[_Text, ...] | None = None  # None: found in subject and body
    parents: tuple[_Sha, ...] | None = None  # None: the case's previous commit

    @field_validator("paths", mode="before")
    @classmethod
    def _short_paths(cls, value: object) -> object:
        """`- refunds.py` for `- {path: refunds.py}`."""
        if isinstance(value, list):
            return [{"path": p} if isinstance(p, str) else p for p in value]
        return value


class EvidenceCase(_Strict):
    kind: Literal["test-results", "scan", "sbom", "provenance", "review"]
    file: _Text | None = None  # relative to the case file
    document: dict[str, object] | None = None  # a JSON document written as YAML
    text: _Text | None = None  # the file's content, inline
    format: _Text | None = None  # as `attest --format`: a JUnit dialect or review flavour

    @model_validator(mode="after")
    def _one_source(self) -> EvidenceCase:
        given = [k for k in ("file", "document", "text") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of file, document or text"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


class ArtifactCase(_Strict):
    name: _Text
    sha256: _Digest


class ApprovalCase(_Strict):
    actor: _Text  # an actor name
    at: Annotated[datetime, AfterValidator(_aware)] | None = None  # default: the case's now
    stale: bool = False  # approved an earlier RFC, before the change was refreshed


class ChangeCase(_Strict):
    """The change request for the release, as `change open` left it: approved by these."""

    urgent: bool = False
    approvals: tuple[ApprovalCase, ...] = ()
    rejected_by: _Text | None = None
    rejected_reason: _Text | None = None
    out_of_date: bool = False  # evidence was recorded after its RFC was written


class DeploymentCase(_Strict):
    """An earlier deployment of an artifact, for `promoted-from`: where, and how it went."""

    environment: Annotated[str, Field(min_length=1, max_length=100)]
    artifact: _Digest
    authorized: bool = True
    status: Literal["started", "succeeded", "failed", "rolled-back"] = "succeeded"
    succeeded_at: Annotated[datetime, AfterValidator(_aware)] | None = None  # default: now
    checks: dict[Annotated[str, Field(min_length=1, max_length=200)], CheckStatus] = Field(
        default_factory=dict
    )


class ControlExpectation(_Strict):
    status: ControlStatus
    reason_contains: _Words = ()

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, value: object) -> object:
        """`independent-review: pass` for `independent-review: {status: pass}`."""
        return {"status": value} if isinstance(value, str) else value


class Expectation(_Strict):
    allowed: bool | None = None
    classification: Classification | None = None
    classification_reason_contains: _Words = ()
    approval_required: bool | None = None
    failing: tuple[_Text, ...] | None = None  # exactly these controls fail
    bypassed: tuple[_Text, ...] | None = None  # exactly these an urgent change went past
    controls: dict[str, ControlExpectation] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _says_something(self) -> Expectation:
        if not self.model_fields_set - {"controls"} and not self.controls:
            raise ValueError(
                "say what the decision must be: allowed, classification, failing, controls, ..."
            )
        return self


class Case(_Strict):
    name: _Text | None = None  # what the case shows, in words
    environment: Annotated[str, Field(min_length=1, max_length=100)]
    release: _Text = "policy-test/case"
    now: Annotated[datetime, AfterValidator(_aware)] | None = None  # default: the clock's
    deployer: _Text | None = None
    artifact: _Digest | None = None  # the sha256 asked to deploy
    urgent: bool = False
    reason: _Text | None = None
    declare: Classification | None = None
    actors: tuple[ActorCase, ...] = ()
    commits: tuple[CommitCase, ...] = ()
    evidence: tuple[EvidenceCase, ...] = ()
    artifacts: tuple[ArtifactCase, ...] = ()
    change: ChangeCase | None = None
    deployments: tuple[DeploymentCase, ...] = ()
    expect: Expectation


@dataclass(frozen=True, slots=True)
class CaseFile:
    source: str  # the file as the user named it
    case: Case
    lines: Lines

    @property
    def title(self) -> str:
        return self.case.name or self.source

    def problem(self, path: KeyPath, message: str) -> PolicyProblem:
        return PolicyProblem(self.source, locate(self.lines, path), key_text(path), message)


def read_case(data: bytes, source: str) -> CaseFile:
    """Structure and schema of one case file; PolicyError naming each problem's line."""
    if not data.strip():
        raise PolicyError.at(
            source, 1, None, "the file is empty; a case needs environment, commits and expect"
        )
    document, lines = read_yaml(data, source)
    try:
        case = Case.model_validate(document)
    except ValidationError as e:
        problems = [pydantic_problem(Case, document, lines, source, (), x) for x in e.errors()]
        unique = sorted(dict.fromkeys(problems), key=lambda p: (p.line is None, p.line or 0))
        raise PolicyError(unique, hint=_HINT) from None
    return CaseFile(source, case, lines)


def check_case(file: CaseFile, policy: Policy) -> list[PolicyProblem]:
    """The meaning pass: what a well-formed case may still get wrong about the policy."""
    case, problems = file.case, []
    if case.environment not in policy.environments:
        known = ", ".join(sorted(policy.environments))
        problems.append(
            file.problem(
                ("environment",), f"the policy has no environment {case.environment!r} ({known})"
            )
        )
    if case.urgent and case.reason is None:
        problems.append(file.problem(("urgent",), "an urgent change needs a reason"))
    if case.reason is not None and not case.urgent:
        problems.append(file.problem(("reason",), "reason goes with urgent: true"))
    for key, names in (
        ("actors", [a.name for a in case.actors]),
        ("commits", [c.sha for c in case.commits]),
    ):
        seen: set[str] = set()
        for n, name in enumerate(names):
            if name in seen:
                problems.append(file.problem((key, n), f"{name} is listed twice"))
            seen.add(name)
    return problems


def case_facts(
    file: CaseFile,
    policy: Policy,
    evidence: Sequence[EvidenceFact],
    tickets: TicketFinder,
    now: datetime,
) -> Facts:
    """The Facts the gate would gather for the case's release (evidence already read)."""
    case = file.case
    moment = case.now or now
    people = Directory.of(_actor(a) for a in case.actors)
    deployer = None
    if case.deployer is not None:
        found = people.resolve(case.deployer)
        deployer = found.name if found is not None else case.deployer
    commits: list[Commit] = []
    for c in case.commits:
        parents = c.parents if c.parents is not None else tuple(x.sha for x in commits[-1:])
        commits.append(_commit(c, parents, moment.isoformat(), tickets))
    first = len(evidence) + 1
    return Facts(
        release=case.release,
        environment=case.environment,
        commits=tuple(commits),
        evidence=tuple(evidence),
        artifacts=tuple(
            ArtifactFact(first + n, a.name, a.sha256) for n, a in enumerate(case.artifacts)
        ),
        directory=people,
        now=moment,
        deployer=deployer,
        artifact=case.artifact,
        urgent=case.urgent,
        urgent_reason=case.reason,
        high_risk_groups=expert_groups(policy),
        change=_change(case, policy, commits, evidence, first, moment),
        deployments=tuple(
            DeploymentFact(
                id=f"DEP-{n + 1}",
                environment=d.environment,
                release=case.release,
                artifact=d.artifact,
                authorized=d.authorized,
                status=d.status,
                succeeded_at=(d.succeeded_at or moment) if d.status == "succeeded" else None,
                checks={name: str(status) for name, status in d.checks.items()},
            )
            for n, d in enumerate(case.deployments)
        ),
    )


_CASE_DIGEST: Final = "0" * 64  # the RFC a case's approvals approved
_EARLIER_DIGEST: Final = "1" * 64


def _change(
    case: Case,
    policy: Policy,
    commits: Sequence[Commit],
    evidence: Sequence[EvidenceFact],
    first: int,
    now: datetime,
) -> ChangeFact | None:
    """The case's change: its approvals approved the RFC of exactly the case's facts, unless
    marked stale; `out_of_date` leaves the newest evidence out of what the RFC saw."""
    change = case.change
    if change is None:
        return None
    paths = [p.path for c in commits for p in c.paths]
    seqs = [e.seq for e in evidence]
    return ChangeFact(
        id="CHG-1",
        state=ChangeState.REJECTED if change.rejected_by is not None else ChangeState.OPEN,
        urgent=change.urgent,
        digest=_CASE_DIGEST,
        approvals=tuple(
            ApprovalRecord(
                n + 1, a.actor, _EARLIER_DIGEST if a.stale else _CASE_DIGEST, a.at or now
            )
            for n, a in enumerate(change.approvals)
        ),
        commits=tuple(c.sha for c in commits),
        evidence=tuple(seqs[:-1] if change.out_of_date and seqs else seqs),
        artifacts=tuple(range(first, first + len(case.artifacts))),
        migrations=any(matches(g, p) for g in MIGRATION_GLOBS for p in paths),
        high_risk=any(matches(g, p) for a in policy.high_risk for g in a.paths for p in paths),
        rejected_by=change.rejected_by,
        rejected_reason=change.rejected_reason,
    )


def inline_evidence(evidence: EvidenceCase) -> bytes | None:
    """The bytes of an evidence entry written in the case (None: it names a file)."""
    if evidence.text is not None:
        return evidence.text.encode("utf-8")
    if evidence.document is not None:
        return json.dumps(evidence.document, default=_json_default, ensure_ascii=False).encode()
    return None


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):  # YAML read an unquoted time as a timestamp
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def compare(expect: Expectation, decision: Decision) -> tuple[str, ...]:
    """Each way the decision differs from the expectation, in words; empty when it holds."""
    differences: list[str] = []
    for key, wanted, got in (
        ("allowed", expect.allowed, decision.allowed),
        ("classification", expect.classification, decision.classification),
        ("approval_required", expect.approval_required, decision.approval_required),
    ):
        if wanted is not None and wanted != got:
            extra = f" ({decision.classification_reason})" if key == "classification" else ""
            differences.append(f"{key}: expected {_shown(wanted)}, got {_shown(got)}{extra}")
    differences.extend(
        f"classification_reason lacks {word!r}: {decision.classification_reason}"
        for word in expect.classification_reason_contains
        if word not in decision.classification_reason
    )
    failing = sorted(c.id for c in decision.failed)
    for key, wanted_ids, got_ids in (
        ("failing", expect.failing, failing),
        ("bypassed", expect.bypassed, sorted(decision.bypassed)),
    ):
        if wanted_ids is not None and sorted(wanted_ids) != got_ids:
            differences.append(
                f"{key}: expected [{', '.join(sorted(wanted_ids))}], got [{', '.join(got_ids)}]"
            )
    results = {c.id: c for c in decision.controls}
    for control_id, wanted_control in expect.controls.items():
        result = results.get(control_id)
        if result is None:
            known = ", ".join(results) or "none"
            differences.append(
                f"controls.{control_id}: expected {wanted_control.status}, but the decision has "
                f"no such control (it has: {known})"
            )
            continue
        if result.status is not wanted_control.status:
            differences.append(
                f"controls.{control_id}: expected {wanted_control.status}, "
                f"got {result.status}: {result.reason}"
            )
        differences.extend(
            f"controls.{control_id}: the reason lacks {word!r}: {result.reason}"
            for word in wanted_control.reason_contains
            if word not in result.reason
        )
    return tuple(differences)


def _shown(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _actor(a: ActorCase) -> Actor:
    return Actor(
        name=a.name,
        emails=frozenset(e.strip().lower() for e in a.emails),
        github=None if a.github is None else a.github.strip().lower(),
        gitlab=None if a.gitlab is None else a.gitlab.strip().lower(),
        roles=frozenset(a.roles),
        groups=frozenset(a.groups),
    )


def _person(text: str, time: str) -> Person:
    match = _IDENTITY.match(text)
    if match is not None:
        return Person(match[1] or match[2].split("@")[0], match[2], time)
    email = text.strip()
    return Person(email.split("@")[0], email, time)


def _commit(c: CommitCase, parents: tuple[str, ...], time: str, tickets: TicketFinder) -> Commit:
    author = _person(c.author, time)
    found = (
        tickets(c.subject, c.body)
        if c.tickets is None
        else tuple(TicketRef(key, "declared", TicketSource.SUBJECT) for key in c.tickets)
    )
    return Commit(
        sha=c.sha,
        parents=parents,
        author=author,
        committer=author if c.committer is None else _person(c.committer, time),
        co_authors=tuple(
            Identity(p.name, p.email) for p in (_person(x, time) for x in c.co_authors)
        ),
        subject=c.subject,
        message=c.subject + (f"\n\n{c.body}" if c.body else ""),
        paths=tuple(PathChange(p.path, p.added, p.deleted, p.old_path) for p in c.paths),
        tickets=found,
    )
