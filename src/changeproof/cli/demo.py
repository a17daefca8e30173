"""`changeproof demo`: the main job, end to end, on a throwaway SQLite instance.

It runs the same commands a pipeline and an auditor type, in-process, and shows each
one before its output, so reading the demo is reading the quick start.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from changeproof.cli.render import out
from changeproof.domain.errors import ChangeproofError


class DemoFailed(ChangeproofError):
    """A demo step did not end as the demo expects."""


def demo(
    keep: Annotated[
        Path | None, typer.Option(help="Build the demo instance here and keep it.")
    ] = None,
) -> None:
    """Record artifacts, checkpoint, prove, verify online and offline: the main job today."""
    from changeproof.cli.main import run  # the demo drives the real CLI, entry point included

    with tempfile.TemporaryDirectory(prefix="changeproof-demo-") as scratch:
        work = keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        home = work / "instance"
        dist = work / "dist"
        dist.mkdir(exist_ok=True)
        (dist / "payments-1.4.0.tar.gz").write_bytes(b"payments service build 1.4.0\n" * 4096)
        (dist / "payments-1.4.0.sbom.json").write_text('{"bomFormat": "CycloneDX"}\n')
        home_args = ["--home", str(home)]

        def step(title: str, argv: list[str], expect: int = 0) -> None:
            out.rule(f"[bold]{title}")
            out.print(f"$ changeproof {shlex.join(argv)}", style="cyan")
            code = run(argv)
            if code != expect:
                raise DemoFailed(f"demo step {title!r} exited {code}, expected {expect}")

        step("Make an instance (SQLite, no server)", ["init", *home_args, "--actor", "platform"])
        step(
            "The pipeline records what it built",
            [
                "attest", "artifact", str(dist / "payments-1.4.0.tar.gz"),
                str(dist / "payments-1.4.0.sbom.json"), "--service", "payments",
                "--version", "1.4.0", "--actor", "ci-pipeline", *home_args,
            ],
        )  # fmt: skip
        step(
            "An auditor takes a signed checkpoint away",
            ["ledger", "checkpoint", "--out", str(work / "checkpoint.txt"), *home_args],
        )
        step("Prove the artifact's entry is in that tree",
             ["ledger", "prove", "1", "--checkpoint", str(work / "checkpoint.txt"),
              "--output", "text", *home_args])  # fmt: skip
        step(
            "More work lands",
            ["attest", "artifact", str(dist / "payments-1.4.0.tar.gz"), "--service", "payments",
             "--version", "1.4.1", "--actor", "ci-pipeline", *home_args],
        )  # fmt: skip
        step(
            "The ledger only grew since the auditor's checkpoint",
            ["ledger", "consistency", "--old", str(work / "checkpoint.txt"), *home_args],
        )
        step(
            "Verify every entry against every signature",
            ["ledger", "verify", "--checkpoint", str(work / "checkpoint.txt"), *home_args],
        )
        step(
            "Projections equal a rebuild from the ledger",
            ["ledger", "rebuild", "--check", *home_args],
        )
        step(
            "Export for offline verification",
            ["ledger", "export", "--out", str(work / "ledger.jsonl"), *home_args],
        )

        out.rule("[bold]The auditor verifies offline, with only the public key")
        argv = [sys.executable, "-m", "changeproof.verify", str(work / "ledger.jsonl"),
                "--public-key", str(home / "public-key.pem")]  # fmt: skip
        out.print(f"$ python -m changeproof.verify {shlex.join(argv[3:])}", style="cyan")
        completed = subprocess.run(argv, check=False, capture_output=True, text=True)  # noqa: S603
        out.print(completed.stdout + completed.stderr, end="")
        if completed.returncode != 0:
            raise DemoFailed(f"offline verification exited {completed.returncode}")
        out.rule("[bold green]Demo complete")
        out.print(f"Instance: {home if keep else '(temporary, removed)'}")
