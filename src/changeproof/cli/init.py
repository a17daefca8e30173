"""`changeproof init`: make an instance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from changeproof.bootstrap import SystemClock
from changeproof.cli.options import (
    ActorOption,
    HomeOption,
    Output,
    OutputOption,
    home_path,
    resolve_actor,
)
from changeproof.cli.render import emit_json, out, safe
from changeproof.services.instance import initialize


def init(
    home: HomeOption = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="sqlite:///FILE (default, in the home folder) or postgresql://…"),
    ] = None,
    origin: Annotated[
        str | None, typer.Option(help="The log's name in its checkpoints (default: random).")
    ] = None,
    upgrade: Annotated[
        bool, typer.Option("--upgrade", help="Migrate an existing instance's database.")
    ] = False,
    actor: ActorOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Make a working instance: config, Ed25519 signing key (mode 0600) and database."""
    where: Path = home_path(home)
    done = initialize(
        where,
        database_url=database_url,
        origin=origin,
        actor=resolve_actor(actor),
        clock=SystemClock(),
        upgrade=upgrade,
    )
    if output is Output.json:
        emit_json(
            {
                "home": str(done.config.home),
                "origin": done.config.origin,
                "database": done.database,
                "verifier_key": done.verifier_key,
                "created": done.created,
            }
        )
        return
    verb = "Initialized" if done.created else "Upgraded"
    out.print(f"{verb} changeproof instance at {safe(done.config.home)}")
    out.print(f"  origin        {safe(done.config.origin)}")
    out.print(f"  database      {safe(done.database)}")
    out.print(f"  verifier key  {safe(done.verifier_key)}")
