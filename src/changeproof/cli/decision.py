"""`changeproof decision list|replay`: recorded gate decisions, and proof they still hold."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from changeproof.cli.options import HomeOption, Output, OutputOption, instance_at
from changeproof.cli.render import emit_json, out
from changeproof.domain.releases import ReleaseRef
from changeproof.services.decisions import decision_document

app = typer.Typer(help="Recorded gate decisions.", no_args_is_help=True)


@app.command("replay")
def replay(
    seq: Annotated[int, typer.Argument(help="The decision's ledger entry.", min=0)],
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Re-evaluate a decision from the ledger and the policy with its recorded digest.

    Exit 0 when the verdict and every control's result are the same, 4 when they differ.
    """
    with instance_at(home) as instance:
        result = instance.gate.replay(seq)
    if output is Output.json:
        emit_json(
            {
                "seq": seq,
                "same": result.same,
                "recorded": result.recorded.verdict(),
                "replayed": result.again().verdict(),
            }
        )
    elif result.same:
        verdict = "allowed" if result.replayed.allowed else "blocked"
        out.print(f"Entry {seq} replays to the same decision: {verdict}, every control alike")
    else:
        out.print(f"[red]Entry {seq} no longer replays to the recorded decision[/red]")
    if not result.same:
        raise typer.Exit(4)


@app.command("list")
def list_(
    release: Annotated[
        str | None, typer.Option("--release", help="Only this release (SERVICE/NAME).")
    ] = None,
    env: Annotated[str | None, typer.Option("--env", help="Only this environment.")] = None,
    allowed: Annotated[
        bool | None,
        typer.Option(
            "--allowed/--blocked",
            help="Only allowed (or only blocked) decisions; both when neither is given.",
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Recorded gate decisions, oldest first: what was asked, the verdict, who and when."""
    ref = None if release is None else ReleaseRef.parse(release)
    with instance_at(home) as instance:
        rows = instance.decisions.list(release=ref, environment=env, allowed=allowed)
    if output is Output.json:
        emit_json([decision_document(d) for d in rows])
        return
    table = Table("seq", "when", "release", "env", "verdict", "class", "policy", "by")
    for d in rows:
        table.add_row(
            str(d.seq),
            d.decided_at,
            escape(d.release),
            escape(d.environment),
            "allowed" if d.allowed else "[red]BLOCKED[/red]",
            d.classification,
            d.policy_digest[:12],
            escape(d.actor),
        )
    out.print(table)
