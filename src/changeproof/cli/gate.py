"""`changeproof gate`: may this release go to this environment? Exit 0 yes, 1 no."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from changeproof.cli.options import (
    ActorOption,
    HomeOption,
    Output,
    OutputOption,
    acting_actor,
    instance_at,
)
from changeproof.cli.render import emit_json, out, safe
from changeproof.domain.decisions import Classification, ControlStatus
from changeproof.domain.releases import ReleaseRef
from changeproof.services.gate import GateRequest, GateResult
from changeproof.services.policies import policy_file_for

_MARKS = {
    ControlStatus.FAIL: "[red]FAIL[/red]",
    ControlStatus.PASS: "[green]pass[/green]",
    ControlStatus.NOT_APPLICABLE: "[dim]n/a[/dim]",
}


def gate(
    release: Annotated[str, typer.Option("--release", help="SERVICE/NAME", show_default=False)],
    env: Annotated[str, typer.Option("--env", help="The target environment.", show_default=False)],
    deployer: Annotated[
        str | None, typer.Option(help="Who will deploy: an actor name, email or login.")
    ] = None,
    artifact: Annotated[
        str | None, typer.Option(help="The sha256 of the artifact to deploy.")
    ] = None,
    urgent: Annotated[bool, typer.Option("--urgent", help="Ask for an urgent change.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why the change is urgent.")] = None,
    declare: Annotated[
        Classification | None,
        typer.Option(help="The classification the pipeline claims (checked, never trusted)."),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Evaluate this policy file instead (default: ./changeproof.yaml if present, "
            "else the instance's active policy). A file that is not the active policy is a "
            "dry run: shown, never recorded, authorizing nothing.",
            show_default=False,
        ),
    ] = None,
    attestation: Annotated[
        Path | None,
        typer.Option(
            "--attestation",
            metavar="FILE",
            help="Also write the decision here as a SLSA verification summary (in-toto, "
            "DSSE-signed by the instance key), passed or failed.",
        ),
    ] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Evaluate the policy for a release and environment, record the decision, exit 0 or 1.

    Exit 0: allowed. Exit 1: blocked by policy (each failing control says why). Only a
    decision under the instance's active policy is recorded and may authorize a deployment;
    under any other policy file it is a dry run (same exit codes, nothing recorded).
    """
    digest = None if artifact is None else artifact.removeprefix("sha256:").lower()
    request = GateRequest(
        release=ReleaseRef.parse(release),
        environment=env,
        policy_file=policy_file_for(policy, Path.cwd()),
        deployer=deployer,
        artifact=digest,
        urgent=urgent,
        reason=reason,
        declared=declare,
        attestation=attestation,
    )
    with instance_at(home) as instance:
        result = instance.gate.decide(request, actor=acting_actor(instance, actor))
    _render(result, request, output)
    if not result.decision.allowed:
        raise typer.Exit(1)


def _render(result: GateResult, request: GateRequest, output: Output) -> None:
    decision = result.decision
    if output is Output.json:
        emit_json(result.document(request.deployer))
        return
    table = Table(
        "", "control", "reason", title=f"{safe(decision.release)} → {safe(decision.environment)}"
    )
    for control in decision.controls:
        mark = _MARKS[control.status]
        if control.id in decision.bypassed:
            mark = "[yellow]bypassed[/yellow]"
        table.add_row(mark, safe(control.id), safe(control.reason))
    out.print(table)
    verdict = "[green]ALLOWED[/green]" if decision.allowed else "[red]BLOCKED[/red]"
    out.print(
        f"{verdict}: {safe(decision.classification)} change "
        f"({safe(decision.classification_reason)})"
    )
    if decision.approval_required and decision.allowed:
        out.print("approval-required: a normal change needs a change authority's approval")
    if decision.bypassed:
        out.print(
            f"[yellow]urgent: went past {safe(', '.join(decision.bypassed))}; "
            "an after-the-fact review is required[/yellow]"
        )
    if result.dry_run:
        active = (
            "the instance has no active policy"
            if result.active_digest is None
            else f"the active policy is sha256:{result.active_digest}"
        )
        out.print(
            f"[yellow]DRY RUN[/yellow]: policy sha256:{decision.policy_digest} is not the "
            f"instance's active policy ({active}); nothing was recorded, and this decision "
            "authorizes no deployment"
        )
        return
    out.print(f"policy sha256:{decision.policy_digest}  decision recorded as entry {result.seq}")
    if result.attestation is not None:
        out.print(f"verification summary (signed) written to {safe(result.attestation)}")
