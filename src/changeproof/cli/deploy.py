"""`changeproof deploy record|check|list`: who pushed what, where, when, and how it went."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

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
from changeproof.domain.errors import InputError
from changeproof.domain.releases import ReleaseRef
from changeproof.services.deployments import RecordRequest
from changeproof.services.files import read_input
from changeproof.services.policies import parse_since

app = typer.Typer(help="Deployments and post-deployment checks.", no_args_is_help=True)

_MAX_DETAILS_FILE = 1024 * 1024


@app.command("record")
def record(
    release: Annotated[str, typer.Option(help="SERVICE/NAME: the release deployed.")],
    env: Annotated[str, typer.Option("--env", help="The environment deployed to.")],
    artifact: Annotated[str, typer.Option(help="The deployed artifact's SHA-256.")],
    status: Annotated[str, typer.Option(help="started, succeeded, failed or rolled-back.")],
    pipeline_run: Annotated[
        str | None, typer.Option("--pipeline-run", help="The pipeline run's URL.")
    ] = None,
    deployment: Annotated[
        str | None,
        typer.Option(help="DEP-<number>: a later status of a deployment already recorded."),
    ] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Record a deployment (the deployer is who acts). Exit 1 when no allowed gate decision
    explains it: it is recorded all the same, flagged unauthorized, with the reason."""
    client = server()
    if client is not None:
        with client:
            acting_remotely(client, actor, "--actor/--as")
            body = {
                "release": release, "environment": env, "artifact": artifact, "status": status,
                "pipeline_run": pipeline_run, "deployment": deployment,
            }  # fmt: skip
            doc = client.post("/deployments", {k: v for k, v in body.items() if v is not None})
    else:
        request = RecordRequest(
            ReleaseRef.parse(release), env, artifact, status, pipeline_run, deployment
        )
        with instance_at(home) as instance:
            doc = instance.deployments.record(request, by=acting_actor(instance, actor)).document()
    _render(doc, output)
    if not doc["authorized"]:
        raise typer.Exit(1)


@app.command("check")
def check(
    deployment: Annotated[str, typer.Option(help="DEP-<number>: the deployment checked.")],
    name: Annotated[str, typer.Option(help="The check's name, e.g. smoke-test.")],
    status: Annotated[str, typer.Option(help="pass or fail.")],
    details: Annotated[
        Path | None, typer.Option(help="A text file with the check's output.")
    ] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Record a post-deployment check. Exit 1 when it failed."""
    data = None if details is None else read_input(details, "details file", limit=_MAX_DETAILS_FILE)
    client = server()
    if client is not None:
        text = None if data is None else _utf8(data, details)
        with client:
            acting_remotely(client, actor, "--actor/--as")
            body = {"name": name, "status": status, "details": text}
            doc = client.post(
                f"/deployments/{quote(deployment, safe='')}/checks",
                {k: v for k, v in body.items() if v is not None},
            )
    else:
        with instance_at(home) as instance:
            doc = instance.deployments.check(
                deployment,
                name=name,
                status=status,
                details=data,
                by=acting_actor(instance, actor),
            ).document()
    _render(doc, output)
    if status == "fail":
        raise typer.Exit(1)


@app.command("list")
def list_(
    env: Annotated[str | None, typer.Option("--env", help="Only this environment.")] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only deployments recorded at or after DATE or an ISO 8601 time."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(help="Only deployments recorded before DATE or an ISO 8601 time."),
    ] = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Who pushed what, where, when, with which outcome; unauthorized ones flagged."""
    moment = None if since is None else parse_since(since)
    end = None if until is None else parse_since(until, "until")
    with instance_at(home) as instance:
        views = instance.deployments.list(environment=env, since=moment, until=end)
    if output is Output.json:
        emit_json([v.document() for v in views])
        return
    table = Table("deployment", "when", "who", "release", "env", "artifact", "status", "authorized")
    for view in views:
        r = view.row
        table.add_row(
            safe(view.id),
            safe(r.recorded_at),
            safe(r.actor),
            safe(r.release) + (" URGENT" if r.urgent else ""),
            safe(r.environment),
            safe(r.artifact[:12]),
            safe(r.status),
            "yes" if r.authorized else "[red]NO[/red]",
        )
    out.print(table)


def _utf8(data: bytes, path: Path | None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(
            f"details file {path} is not UTF-8 text (byte {e.start}): a server takes text"
        ) from None


def _render(doc: Mapping[str, Any], output: Output) -> None:
    """The deployment from its document: the same words whether recorded here or by a server."""
    if output is Output.json:
        emit_json(doc)
        return
    out.print(
        f"{safe(doc['id'])}: {safe(doc['deployer'])} deployed {safe(doc['release'])} "
        f"({safe(doc['artifact'])}) to {safe(doc['environment'])}: {safe(doc['status'])}"
    )
    if doc["authorized"]:
        out.print(f"  authorized: {safe(doc['reason'])}")
    else:
        err.print(f"[red]UNAUTHORIZED[/red] (recorded all the same): {safe(doc['reason'])}")
    for c in doc["checks"]:
        out.print(
            f"  check {safe(c['name'])}: {safe(c['status'])} ({safe(c['at'])}, by {safe(c['by'])})"
        )
