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
from changeproof.domain.errors import UsageError
from changeproof.services.initialize import FirstAdmin, initialize
from changeproof.services.instance import PasswordSource


def init(
    home: HomeOption = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="sqlite:///FILE (default, in the home folder) or postgresql://…"),
    ] = None,
    database_password_env: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Read the PostgreSQL password from this environment variable (now and "
            "later), instead of writing it in --database-url.",
        ),
    ] = None,
    database_password_file: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="Read the PostgreSQL password from this file's first line (now and later).",
        ),
    ] = None,
    origin: Annotated[
        str | None, typer.Option(help="The log's name in its checkpoints (default: random).")
    ] = None,
    upgrade: Annotated[
        bool, typer.Option("--upgrade", help="Migrate an existing instance's database.")
    ] = False,
    admin: Annotated[
        str | None,
        typer.Option(
            "--admin",
            metavar="NAME",
            help="Also add the first admin: an actor with role admin, added as --actor.",
        ),
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="The first admin's email (with --admin).")
    ] = None,
    actor: ActorOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Make a working instance: config, Ed25519 signing key (mode 0600) and database."""
    where: Path = home_path(home)
    if email is not None and admin is None:
        raise UsageError("--email goes with --admin NAME")
    if database_password_env is not None and database_password_file is not None:
        raise UsageError("give --database-password-env or --database-password-file, not both")
    password_from = None
    if database_password_env is not None or database_password_file is not None:
        password_from = PasswordSource(
            variable=database_password_env,
            file=None if database_password_file is None else database_password_file.absolute(),
        )
    done = initialize(
        where,
        database_url=database_url,
        origin=origin,
        actor=resolve_actor(actor),
        clock=SystemClock(),
        upgrade=upgrade,
        admin=None if admin is None else FirstAdmin(admin, email),
        password_from=password_from,
    )
    if output is Output.json:
        emit_json(
            {
                "home": str(done.config.home),
                "origin": done.config.origin,
                "database": done.database,
                "verifier_key": done.verifier_key,
                "created": done.created,
                "admin": done.admin,
            }
        )
        return
    verb = "Initialized" if done.created else "Upgraded"
    out.print(f"{verb} changeproof instance at {safe(done.config.home)}")
    out.print(f"  origin        {safe(done.config.origin)}")
    out.print(f"  database      {safe(done.database)}")
    out.print(f"  verifier key  {safe(done.verifier_key)}")
    if done.admin is not None:
        out.print(f"  admin         {safe(done.admin)}")
