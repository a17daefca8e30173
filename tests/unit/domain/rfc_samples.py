"""An RFC shaped like `change open` writes one, for the tests of what reads it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from changeproof.domain.decisions import Classification
from changeproof.domain.rfc import (
    ApprovalRule,
    CommitRange,
    FailedControl,
    GateSummary,
    GroupRequirement,
    Rfc,
    RfcArtifact,
    RfcCommit,
    RfcDecision,
    RfcEvidence,
    RfcPath,
    RfcTicket,
    Risk,
    RiskLevel,
    Schedule,
    What,
    Why,
)

__all__ = ["SHA", "commit", "sample_rfc"]

SHA = "0123456789abcdef0123456789abcdef01234567"


def commit(sha: str = SHA, author: str = "ana@example.com", **changes: Any) -> RfcCommit:
    found = RfcCommit(sha, "Round half to even", author, author, (), False, ("PAY-12",))
    return replace(found, **changes)


def sample_rfc(**changes: Any) -> Rfc:
    """Every section filled in, then `changes` applied."""
    rfc = Rfc(
        schema_version=1,
        title="Deploy payments/1.4.0 to production",
        release="payments/1.4.0",
        environment="production",
        classification=Classification.NORMAL,
        urgent=False,
        urgent_reason=None,
        requested_by="carl",
        requested_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        as_of_seq=12,
        risk=Risk(RiskLevel.HIGH, ("1 schema migration file(s) change",)),
        why=Why((RfcTicket("PAY-12", "jira", "https://jira.example.com/PAY-12", (SHA,)),), ()),
        what=What(
            range=CommitRange(None, SHA, "https://git.example.com/payments.git"),
            commits=(commit(),),
            paths=(
                RfcPath("migrations/0007_index.sql", 3, 0, (), True),
                RfcPath("src/ledger.py", 3, 1, ("payments",), False),
                RfcPath("logo.png", None, None, (), False),
            ),
            migrations=("migrations/0007_index.sql",),
            high_risk_areas=("payments",),
            artifacts=(RfcArtifact(8, "payments.tar.gz", 10, "ab" * 32),),
        ),
        evidence=(RfcEvidence(4, "test-run", "junit", "cd" * 32, {"tests": 120, "suites": ["a"]}),),
        gate=GateSummary(
            "ef" * 32,
            (
                RfcDecision(
                    9,
                    False,
                    Classification.NORMAL,
                    "ef" * 32,
                    (FailedControl("change-approval", "no approval yet"),),
                ),
            ),
        ),
        approval_rule=ApprovalRule(2, "approver", 24, (GroupRequirement("dba", "migrations"),)),
        plan="helm upgrade payments",
        rollback="helm rollback payments",
        dry_run_output=None,
        schedule=Schedule("2026-03-02T22:00:00+01:00", "2026-03-03T00:30:00+01:00"),
    )
    return replace(rfc, **changes)
