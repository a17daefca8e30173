"""promoted-from: a release reaches an environment only along its path.

Rule: the artifact to deploy (`--artifact`, else every artifact recorded for the release)
had, in each of `environments`, a deployment that was authorized, whose newest status is
`succeeded`, whose post-deployment checks all pass (at least one, unless `require_checks`
is false), and that succeeded at least `soak_hours` before the gate decides. The same
digest, not the same release name: what went through staging is what goes to production,
as Octopus lifecycles and Etsy's QA-then-production pushers require. Fails closed, naming
the environment and what is missing there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Final

from pydantic import Field

from changeproof.domain.decisions import ControlResult, ControlStatus, EvidenceRef
from changeproof.domain.deployments import DeploymentFact, DeploymentStatus
from changeproof.policy.facts import Facts
from changeproof.policy.registry import Params, control

__all__ = ["PROMOTED_FROM", "PromotedFrom", "promoted_from"]

PROMOTED_FROM: Final = "promoted-from"

_Environment = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
]


class PromotedFrom(Params):
    environments: tuple[_Environment, ...] = Field(
        min_length=1, description="Where the same artifact must have been deployed first."
    )
    soak_hours: int = Field(
        default=0,
        ge=0,
        le=24 * 90,
        description="How long it must have run there, succeeded, before it moves on.",
    )
    require_checks: bool = Field(
        default=True,
        description="Whether a passing post-deployment check is needed there "
        "(`deploy check`); every check's newest outcome must pass.",
    )


@control(
    PROMOTED_FROM,
    params=PromotedFrom,
    summary="the same artifact was deployed, authorized and checked, in the earlier "
    "environments first",
)
def promoted_from(facts: Facts, params: PromotedFrom) -> ControlResult:
    digests = _digests(facts)
    if not digests:
        return ControlResult(
            PROMOTED_FROM,
            ControlStatus.FAIL,
            "no artifact to trace through "
            f"{', '.join(params.environments)}: give --artifact DIGEST, or record the "
            "release's artifacts with `changeproof attest artifact`",
            (),
            {"promoted": False},
        )
    missing: list[str] = []
    used: list[EvidenceRef] = []
    for digest in digests:
        for environment in params.environments:
            found, why = _through(facts, params, digest, environment)
            if found is None:
                missing.append(why)
            else:
                used.append(EvidenceRef("deployment", found.id, f"{environment}: {why}"))
    if missing:
        return ControlResult(
            PROMOTED_FROM,
            ControlStatus.FAIL,
            "; ".join(missing),
            tuple(used),
            {"promoted": False, "environments": list(params.environments)},
        )
    return ControlResult(
        PROMOTED_FROM,
        ControlStatus.PASS,
        "; ".join(f"{r.note} ({r.ref})" for r in used),
        tuple(used),
        {"promoted": True, "environments": list(params.environments)},
    )


def _digests(facts: Facts) -> tuple[str, ...]:
    if facts.artifact is not None:
        return (facts.artifact,)
    return tuple(dict.fromkeys(a.sha256 for a in facts.artifacts))


def _through(
    facts: Facts, params: PromotedFrom, digest: str, environment: str
) -> tuple[DeploymentFact | None, str]:
    """The deployment that carried `digest` through `environment`, with how; or None and
    what is missing, in words."""
    short = f"artifact {digest[:12]}…"
    there: Sequence[DeploymentFact] = [
        d for d in facts.deployments if d.artifact == digest and d.environment == environment
    ]
    if not there:
        return None, f"{short} was never deployed to {environment}"
    reasons: list[str] = []
    soak = timedelta(hours=params.soak_hours)
    for d in reversed(there):  # the newest first
        if not d.authorized:
            reasons.append(f"{d.id} to {environment} was not authorized")
        elif d.status != DeploymentStatus.SUCCEEDED:
            reasons.append(f"{d.id} to {environment} is {d.status}, not succeeded")
        elif params.require_checks and not d.checks_passed:
            failing = sorted(name for name, status in d.checks.items() if status != "pass")
            reasons.append(
                f"{d.id} to {environment} has no passing post-deployment check"
                if not failing
                else f"{d.id} to {environment} failed its check {', '.join(failing)}"
            )
        elif d.succeeded_at is None or facts.now - d.succeeded_at < soak:
            ran = "" if d.succeeded_at is None else f" for {_hours(facts.now - d.succeeded_at)}"
            reasons.append(
                f"{d.id} to {environment} has run{ran}, less than the {params.soak_hours} "
                "hours it must soak"
            )
        else:
            checked = " and passed its checks" if params.require_checks else ""
            return d, f"{short} succeeded in {environment}{checked}"
    return None, f"{short} was not promoted through {environment}: " + "; ".join(reasons)


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:.1f} hours"
