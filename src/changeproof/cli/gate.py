"""`changeproof gate`: may this release go to this environment? Exit 0 yes, 1 no."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from changeproof.cli.remote import acting_remotely, server
from changeproof.cli.render import emit_json, err, out, safe
from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import Field, UsageError, operation
from changeproof.domain.verdicts import Classification, ControlStatus

if TYPE_CHECKING:
    from changeproof.client.http import ServerClient

POLICY_FILE = "changeproof.yaml"  # what the embedded gate reads when no --policy is given

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
    client = server()
    if client is None:
        doc = _embedded(
            release, env, deployer, digest, urgent, reason, declare, policy, attestation,
            actor, home,
        )  # fmt: skip
    else:
        _check_remote_options(policy, attestation)
        with client:
            doc = _remote(client, release, env, deployer, digest, urgent, reason, declare, actor)
    _render(doc, output)
    if not doc["allowed"]:
        raise typer.Exit(1)


def _embedded(
    release: str,
    env: str,
    deployer: str | None,
    digest: str | None,
    urgent: bool,
    reason: str | None,
    declare: Classification | None,
    policy: Path | None,
    attestation: Path | None,
    claimed: str | None,
    home: Path | None,
) -> Mapping[str, JsonValue]:
    # The policy engine and the store load here only: a server's client needs neither.
    from changeproof.domain.releases import ReleaseRef
    from changeproof.services.gate import GateRequest
    from changeproof.services.policies import policy_file_for

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
        result = instance.gate.decide(request, actor=acting_actor(instance, claimed))
    return result.document(request.deployer)


def _check_remote_options(policy: Path | None, attestation: Path | None) -> None:
    if policy is None and attestation is None and Path(POLICY_FILE).is_file():
        err.print(
            f"note: ./{POLICY_FILE} is not read: the server decides under its active policy",
            markup=False,
        )
    if policy is not None or attestation is not None:
        given = Field("policy") if policy is not None else Field("attestation")
        raise UsageError(
            f"a server decides under its active policy and keeps its key: {given} is for "
            "a local instance",
            hint=f"simulate a policy file with {operation('policy simulate')} on a local "
            "instance, and fetch the decision's summary from the server",
        )


def _remote(
    client: ServerClient,
    release: str,
    env: str,
    deployer: str | None,
    digest: str | None,
    urgent: bool,
    reason: str | None,
    declare: Classification | None,
    claimed: str | None,
) -> dict[str, JsonValue]:
    acting_remotely(client, claimed, "--actor/--as")
    body = {
        "release": release,
        "environment": env,
        "deployer": deployer,
        "artifact": digest,
        "urgent": urgent,
        "reason": reason,
        "declare": None if declare is None else declare.value,
    }
    doc: dict[str, JsonValue] = client.post(
        "/gate", {k: v for k, v in body.items() if v is not None}
    )
    return doc


def _render(doc: Mapping[str, Any], output: Output) -> None:
    """The decision from its document: the same words whether it was decided here or by
    a server."""
    if output is Output.json:
        emit_json(doc)
        return
    bypassed = list(doc["bypassed"])
    table = Table(
        "", "control", "reason", title=f"{safe(doc['release'])} → {safe(doc['environment'])}"
    )
    for control in doc["controls"]:
        mark = _MARKS[ControlStatus(control["status"])]
        if control["id"] in bypassed:
            mark = "[yellow]bypassed[/yellow]"
        table.add_row(mark, safe(control["id"]), safe(control["reason"]))
    out.print(table)
    verdict = "[green]ALLOWED[/green]" if doc["allowed"] else "[red]BLOCKED[/red]"
    out.print(
        f"{verdict}: {safe(doc['classification'])} change ({safe(doc['classification_reason'])})"
    )
    if doc["approval_required"] and doc["allowed"]:
        out.print("approval-required: a normal change needs a change authority's approval")
    if bypassed:
        out.print(
            f"[yellow]urgent: went past {safe(', '.join(bypassed))}; "
            "an after-the-fact review is required[/yellow]"
        )
    if doc["dry_run"]:
        active = doc["active_policy_digest"]
        where = (
            "the instance has no active policy"
            if active is None
            else f"the active policy is sha256:{active}"
        )
        out.print(
            f"[yellow]DRY RUN[/yellow]: policy sha256:{doc['policy_digest']} is not the "
            f"instance's active policy ({where}); nothing was recorded, and this decision "
            "authorizes no deployment"
        )
        return
    out.print(
        f"policy sha256:{doc['policy_digest']}  decision recorded as entry {doc['decision_seq']}"
    )
    if doc.get("attestation") is not None:
        out.print(f"verification summary (signed) written to {safe(doc['attestation'])}")
