"""`changeproof ledger …`: status, checkpoints, proofs, verification, export, rebuild."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from changeproof.cli.options import HomeOption, Output, OutputOption, instance_at
from changeproof.cli.remote import server
from changeproof.cli.render import emit_json, err, out, progress_bar, safe
from changeproof.domain.errors import InputError

app = typer.Typer(help="The append-only, signed ledger.", no_args_is_help=True)

CheckpointFile = Annotated[Path, typer.Option(help="A signed checkpoint file.", show_default=False)]


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


@app.command("status")
def status(home: HomeOption = None, output: OutputOption = Output.text) -> None:
    """Size, root hash and newest checkpoint."""
    client = server()
    if client is not None:
        with client:
            # The server keeps its database URL to itself: the client names the server.
            doc = {**client.get("/ledger"), "server": client.url}
    else:
        with instance_at(home) as instance:
            s = instance.ledger.status()
        doc = {
            "origin": s.origin,
            "tree_size": s.tree_size,
            "root_hash": s.root_hash.hex(),
            "checkpoint_size": s.checkpoint_size,
            "checkpoints": s.checkpoints,
            "verifier_key": s.verifier_key,
            "database": s.database,
        }
    if output is Output.json:
        emit_json(doc)
        return
    for key, value in doc.items():
        out.print(f"{key.replace('_', ' '):16} {safe(value)}")


@app.command("checkpoint")
def checkpoint(
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the checkpoint to FILE.", show_default=False)
    ] = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """The newest signed checkpoint (C2SP signed note); keep it to check the ledger later."""
    client = server()
    if client is not None:
        # Kept as the server signed it: whoever checks it later does so with the
        # instance's public key, not with this client's word.
        with client:
            note = client.text("/ledger/checkpoint")
    else:
        with instance_at(home) as instance:
            note = instance.ledger.checkpoint()
    if out_file is not None:
        try:
            out_file.write_text(note, encoding="utf-8")
        except OSError as e:
            raise InputError(f"cannot write {out_file}: {e.strerror}") from e
    if output is Output.json:
        size = int(note.split("\n")[1])
        emit_json({"tree_size": size, "note": note, "file": str(out_file) if out_file else None})
    elif out_file is None:
        out.print(note, end="", markup=False)
    else:
        out.print(f"Wrote checkpoint to {safe(out_file)}")


@app.command("prove")
def prove(
    seq: Annotated[int, typer.Argument(help="The entry to prove.", min=0)],
    checkpoint_file: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="Prove against this checkpoint (default: newest)."),
    ] = None,
    home: HomeOption = None,
    output: OutputOption = Output.json,
) -> None:
    """An RFC 9162 inclusion proof of entry SEQ, checked before it is printed."""
    with instance_at(home) as instance:
        p = instance.ledger.prove(seq, checkpoint_file)
    doc = {
        "seq": p.seq,
        "tree_size": p.tree_size,
        "leaf_hash": p.leaf_hash.hex(),
        "root_hash": p.root_hash.hex(),
        "proof": [h.hex() for h in p.proof],
        "body": p.body.decode("utf-8"),
        "checkpoint": p.checkpoint,
    }
    if output is Output.json:
        emit_json(doc)
        return
    out.print(f"Entry {p.seq} is included in the signed tree of size {p.tree_size}")
    out.print(f"  leaf hash  {p.leaf_hash.hex()}")
    out.print(f"  root hash  {p.root_hash.hex()}")
    for number, digest in enumerate(p.proof):
        out.print(f"  path[{number}]    {digest.hex()}")


@app.command("consistency")
def consistency(
    old: Annotated[Path, typer.Option(help="An older checkpoint file.", show_default=False)],
    new: Annotated[
        Path | None, typer.Option(help="A newer checkpoint file (default: newest stored).")
    ] = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Prove the ledger only grew since an older checkpoint (RFC 9162 consistency proof)."""
    with instance_at(home) as instance:
        p = instance.ledger.consistency(old, new)
    if output is Output.json:
        emit_json(
            {
                "consistent": True,
                "old_size": p.old_size,
                "new_size": p.new_size,
                "old_root": p.old_root.hex(),
                "new_root": p.new_root.hex(),
                "proof": [h.hex() for h in p.proof],
                "new_checkpoint": p.new_checkpoint,
            }
        )
        return
    out.print(
        f"Consistent: the tree of size {p.new_size} extends the tree of size {p.old_size} "
        f"({len(p.proof)} proof hashes)"
    )


@app.command("verify")
def verify(
    checkpoint_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint", help="Also check against this exported checkpoint (repeatable)."
        ),
    ] = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Re-hash every entry, rebuild the tree, check it against every signed checkpoint.

    Exit 0 when everything holds, 4 when anything was tampered with (the first bad entry is named).
    """
    with instance_at(home) as instance, progress_bar("verifying", instance.ledger.size()) as tick:
        report = instance.ledger.verify(checkpoint_files or [], tick)
    if output is Output.json:
        emit_json(
            {
                "ok": report.ok,
                "origin": report.origin,
                "entries": report.entries,
                "root_hash": report.root_hash.hex(),
                "signed_size": report.signed_size,
                "checkpoints_checked": report.checkpoints_checked,
                "first_bad_seq": report.first_bad_seq,
                "findings": [{"seq": f.seq, "message": f.message} for f in report.findings],
            }
        )
    elif report.ok:
        out.print(
            f"OK: {report.entries} entries re-hashed; root {_b64(report.root_hash)} matches "
            f"{report.checkpoints_checked} checkpoint(s); all entries covered by a signature"
        )
    else:
        for finding in report.findings:
            err.print(f"TAMPERED: {safe(finding.message)}")
    if not report.ok:
        raise typer.Exit(4)


@app.command("audit")
def audit(home: HomeOption = None, output: OutputOption = Output.text) -> None:
    """Check the ledger's meaning: every decision replays, every authorized deployment cites
    a decision that allowed exactly it, every counted approval exists for its digest, every
    policy activation had its second person.

    Reads the ledger itself, never the live tables. Exit 0 when everything holds, 4 naming
    each entry that does not.
    """
    with instance_at(home) as instance:
        report = instance.audit.run()
    if output is Output.json:
        emit_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "decisions": report.decisions,
                "deployments": report.deployments,
                "approvals": report.approvals,
                "activations": report.activations,
                "findings": [
                    {"seq": f.seq, "kind": f.kind, "message": f.message} for f in report.findings
                ],
            }
        )
    elif report.ok:
        out.print(
            f"OK: {report.entries} entries verified; {report.decisions} decisions replay to "
            f"themselves; {report.deployments} authorized deployments cite the decision that "
            f"allowed them; {report.approvals} counted approvals exist for their digests; "
            f"{report.activations} policy activations were allowed as they say",
            markup=False,
        )
    else:
        for finding in report.findings:
            err.print(f"entry {finding.seq} ({finding.kind}): {finding.message}", markup=False)
    if not report.ok:
        raise typer.Exit(4)


@app.command("export")
def export(
    out_file: Annotated[Path, typer.Option("--out", help="The export file.", show_default=False)],
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Write entries, checkpoints and the public key to one file for offline verification."""
    with instance_at(home) as instance, progress_bar("exporting", instance.ledger.size()) as tick:
        summary = instance.ledger.export(out_file, tick)
    if output is Output.json:
        emit_json(
            {
                "file": str(summary.path),
                "entries": summary.entries,
                "checkpoints": summary.checkpoints,
                "sha256": summary.sha256,
            }
        )
        return
    out.print(
        f"Exported {summary.entries} entries and {summary.checkpoints} checkpoints to "
        f"{safe(summary.path)} (sha256 {summary.sha256})"
    )


@app.command("entries")
def entries(
    start: Annotated[int, typer.Option(min=0, help="The first entry's seq.")] = 0,
    end: Annotated[
        int | None,
        typer.Option(min=0, help="Stop before this seq (default: the head).", show_default=False),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Entries START..END-1 as JSON lines (`seq`, `leaf_hash`, `body`), as the export holds them."""
    write = sys.stdout.buffer.write
    client = server()
    if client is not None:
        params = {"start": start, **({} if end is None else {"end": end})}
        with client, client.stream("/ledger/entries", params) as answer:
            for chunk in answer.iter_bytes():
                write(chunk)
    else:
        with instance_at(home) as instance:
            for line in instance.ledger.entries(start, end):
                write(line)
    sys.stdout.buffer.flush()


@app.command("rebuild")
def rebuild(
    check: Annotated[
        bool, typer.Option("--check", help="Only compare the live tables with a rebuild.")
    ] = False,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Recompute every projection table from the ledger alone (or, with --check, compare)."""
    with instance_at(home) as instance:
        differences = instance.ledger.rebuild(check_only=check)
    if output is Output.json:
        emit_json(
            {
                "checked": check,
                "ok": not differences,
                "differences": [
                    {
                        "table": d.table,
                        "key": [_plain(v) for v in d.key],
                        "live": _row(d.columns, d.live),
                        "rebuilt": _row(d.columns, d.rebuilt),
                    }
                    for d in differences
                ],
            }
        )
    elif not check:
        out.print("Rebuilt every projection from the ledger")
    elif not differences:
        out.print("OK: every projection equals its rebuild from the ledger")
    else:
        table = Table("table", "key", "live", "rebuilt", title="Projections differ from the ledger")
        for d in differences:
            key = ", ".join(str(v) for v in d.key)
            table.add_row(
                safe(d.table),
                safe(key),
                safe(_row(d.columns, d.live)),
                safe(_row(d.columns, d.rebuilt)),
            )
        out.print(table)
    if differences:
        raise typer.Exit(4)


def _plain(value: object) -> object:
    return value.hex() if isinstance(value, bytes) else value


def _row(columns: tuple[str, ...], values: tuple[object, ...] | None) -> dict[str, object] | None:
    return None if values is None else {c: _plain(v) for c, v in zip(columns, values, strict=True)}
