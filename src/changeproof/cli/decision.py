"""`changeproof decision show|replay`: recorded gate decisions, and proof they still hold."""

from __future__ import annotations

from typing import Annotated

import typer

from changeproof.cli.options import HomeOption, Output, OutputOption, instance_at
from changeproof.cli.render import emit_json, out
from changeproof.services.gate import decision_data

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
    identity = result.recorded.get("deployer_identity")
    again = decision_data(
        result.replayed,
        int(str(result.recorded["as_of_seq"])),
        None if identity is None else str(identity),
    )
    if output is Output.json:
        emit_json({"seq": seq, "same": result.same, "recorded": result.recorded, "replayed": again})
    elif result.same:
        verdict = "allowed" if result.replayed.allowed else "blocked"
        out.print(f"Entry {seq} replays to the same decision: {verdict}, every control alike")
    else:
        out.print(f"[red]Entry {seq} no longer replays to the recorded decision[/red]")
    if not result.same:
        raise typer.Exit(4)
