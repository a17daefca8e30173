"""`changeproof vault check`: are the evidence files the ledger says it kept still kept?"""

from __future__ import annotations

import typer

from changeproof.cli.options import HomeOption, Output, OutputOption, instance_at
from changeproof.cli.render import emit_json, err, out, safe

app = typer.Typer(help="The evidence vault: evidence files kept by digest.", no_args_is_help=True)


@app.command("check")
def check(home: HomeOption = None, output: OutputOption = Output.text) -> None:
    """Hash every file the ledger's evidence entries say they kept.

    Exit 0 when every file is there and whole, 4 when one is missing or altered.
    """
    with instance_at(home) as instance:
        report = instance.evidence.check_vault()
    if output is Output.json:
        emit_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "files": report.files,
                "findings": [
                    {"seq": f.seq, "name": f.name, "sha256": f.sha256, "problem": f.problem}
                    for f in report.findings
                ],
            }
        )
    elif report.ok:
        out.print(
            f"OK: {report.files} file(s) kept for {report.entries} evidence entries, all whole"
        )
    else:
        for f in report.findings:
            err.print(f"{f.problem.upper()}: entry {f.seq}: {safe(f.name)} (sha256 {f.sha256})")
    if not report.ok:
        raise typer.Exit(4)
