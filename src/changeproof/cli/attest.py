"""`changeproof attest KIND`: record evidence."""

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
    instance_at,
    resolve_actor,
)
from changeproof.cli.render import emit_json, out

app = typer.Typer(help="Record evidence about a release in the ledger.", no_args_is_help=True)


@app.command("artifact")
def artifact(
    paths: Annotated[list[Path], typer.Argument(help="Files to record.", show_default=False)],
    service: Annotated[str, typer.Option(help="The service the artifacts belong to.")],
    version: Annotated[str | None, typer.Option(help="The version they were built as.")] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Record each file's name, size and SHA-256 (streamed) as `artifact.recorded`."""
    with instance_at(home) as instance:
        recorded = instance.attest.artifacts(
            paths, service=service, version=version, actor=resolve_actor(actor)
        )
    if output is Output.json:
        emit_json(
            [
                {
                    "kind": "artifact",
                    "seq": r.seq,
                    "sha256": r.artifact.sha256,
                    **r.artifact.to_data(),
                    "actor": r.actor,
                    "recorded_at": r.recorded_at,
                }
                for r in recorded
            ]
        )
        return
    table = Table("seq", "artifact", "size", "sha256", title=f"Recorded for {service}")
    for r in recorded:
        table.add_row(str(r.seq), r.artifact.name, f"{r.artifact.size:,}", r.artifact.sha256)
    out.print(table)
