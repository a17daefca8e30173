"""`changeproof evidence download`: an evidence file the ledger cites, from the vault."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from changeproof.cli.options import HomeOption, Output, OutputOption, acting_actor, instance_at
from changeproof.cli.render import emit_json, out, safe
from changeproof.domain.errors import InputError

app = typer.Typer(help="Evidence files kept in the vault.", no_args_is_help=True)


@app.command("download")
def download(
    digest: Annotated[str, typer.Argument(help="The file's SHA-256.", show_default=False)],
    out_file: Annotated[
        Path, typer.Option("--out", help="Write the file to FILE.", show_default=False)
    ],
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Write the evidence file of DIGEST to FILE, checked against its digest as it is written.

    Exit 4 (and no FILE left behind) when the vault's copy is not the file the ledger cites.
    """
    with instance_at(home) as instance:
        downloaded = instance.evidence.download(digest, reader=acting_actor(instance, None))
        partial = out_file.with_name(out_file.name + ".part")
        try:
            with downloaded, partial.open("wb") as handle:
                for chunk in downloaded.chunks():
                    handle.write(chunk)
            os.replace(partial, out_file)
        except OSError as e:
            raise InputError(f"cannot write {out_file}: {e.strerror}") from e
        finally:
            partial.unlink(missing_ok=True)
    if output is Output.json:
        emit_json(
            {
                "sha256": downloaded.digest,
                "size": downloaded.size,
                "names": list(downloaded.names),
                "cited_by": list(downloaded.cited_by),
                "out": str(out_file),
            }
        )
        return
    out.print(
        f"Wrote {safe(out_file)}: {downloaded.size:,} bytes, sha256 {downloaded.digest}, "
        f"cited by entries {', '.join(str(s) for s in downloaded.cited_by)}"
    )
