"""`changeproof token create|revoke|list`: API tokens that prove which actor is acting."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from changeproof.cli.options import (
    AsOption,
    HomeOption,
    Output,
    OutputOption,
    acting_actor,
    instance_at,
)
from changeproof.cli.render import emit_json, err, out, safe
from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import Field
from changeproof.domain.events import format_time
from changeproof.services.tokens import TokenState, TokenView, token_document

app = typer.Typer(
    help="API tokens: set CHANGEPROOF_TOKEN and commands act as the token's actor.",
    no_args_is_help=True,
)


@app.command("create")
def create(
    actor: Annotated[
        str,
        typer.Option("--actor", help="The actor the token is for (its name).", show_default=False),
    ],
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            metavar="WHEN",
            help="A duration (90d, 12h, 2w), a date (2027-01-31: 00:00 UTC) or a date and "
            "time with its offset. Default 90d; at most ten years.",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="A label saying what the token is for.", show_default=False),
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            metavar="SCOPE",
            help="What the token may do through the server: read, record, approve, govern, "
            "admin; repeat for several. Default: all for a person, read and record for a "
            "pipeline (which never holds more).",
            show_default=False,
        ),
    ] = None,
    as_: AsOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Create a token for an actor and print it, once: it is stored only as a hash."""
    with instance_at(home) as instance:
        created = instance.tokens.create(
            actor,
            expires=expires,
            label=name,
            scopes=scope,
            by=acting_actor(instance, as_, option=Field("as")),
        )
    record = created.record
    if output is Output.json:
        emit_json({**token_document(record, TokenState.ACTIVE), "token": created.text})
        return
    # The token alone on stdout, so `$(changeproof token create …)` captures just it.
    err.print(
        f"entry {record.seq}: created token {record.id} for {record.token.actor}, expires "
        f"{format_time(record.token.expires_at)}. It is shown only now: store it as a secret.",
        markup=False,
    )
    out.print(created.text, markup=False)


@app.command("revoke")
def revoke(
    token_id: Annotated[
        str,
        typer.Argument(help="The token's id, as `token list` shows it.", show_default=False),
    ],
    as_: AsOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Revoke a token: from now on it authenticates nobody."""
    with instance_at(home) as instance:
        record = instance.tokens.revoke(
            token_id, by=acting_actor(instance, as_, option=Field("as"))
        )
    if output is Output.json:
        emit_json(token_document(record, TokenState.REVOKED))
        return
    out.print(
        f"entry {record.revoked_seq}: revoked token {record.id} of {record.token.actor}",
        markup=False,
    )


@app.command("list")
def list_(
    actor: Annotated[
        str | None,
        typer.Option("--actor", help="Only this actor's tokens.", show_default=False),
    ] = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Every token with its actor, label, state and expiry; never a token's secret."""
    with instance_at(home) as instance:
        views = instance.tokens.list(actor)
    if output is Output.json:
        emit_json([_view_document(v) for v in views])
        return
    if not views:
        out.print("No tokens yet: create one with `changeproof token create`", markup=False)
        return
    table = Table()
    table.add_column("id", no_wrap=True)  # what `token revoke` takes: never folded
    for column in ("actor", "label", "scopes", "state", "expires", "created by", "entry"):
        table.add_column(column, overflow="fold")
    for view in views:
        r = view.record
        table.add_row(
            safe(r.id),
            safe(r.token.actor),
            safe(r.token.label or ""),
            " ".join(view.scopes),
            safe(view.state),
            format_time(r.token.expires_at),
            safe(r.created_by),
            str(r.seq),
        )
    out.print(table)


def _view_document(view: TokenView) -> dict[str, JsonValue]:
    return token_document(view.record, view.state, view.scopes)
