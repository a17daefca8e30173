"""`changeproof attest KIND`: record evidence about a release."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from changeproof.cli.options import (
    ActorOption,
    HomeOption,
    Output,
    OutputOption,
    acting_actor,
    instance_at,
)
from changeproof.cli.render import emit_json, out, safe
from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import UsageError
from changeproof.domain.releases import ReleaseRef
from changeproof.services.evidence import Attested, AttestKind, ReviewSignature

app = typer.Typer(
    help="Record evidence about a release in the ledger. With --output json, one record "
    "prints as an object and several as a list.",
    no_args_is_help=True,
)

Files = Annotated[list[Path], typer.Argument(help="Evidence files.", show_default=False)]
ReleaseOption = Annotated[
    str, typer.Option("--release", help="SERVICE/NAME the evidence is about.", show_default=False)
]
FormatOption = Annotated[
    str | None,
    typer.Option("--format", help="Force the flavour instead of recognising it from the content."),
]


def _emit(documents: list[dict[str, JsonValue]]) -> None:
    emit_json(documents[0] if len(documents) == 1 else documents)


@app.command("artifact")
def artifact(
    paths: Annotated[list[Path], typer.Argument(help="Artifact files.", show_default=False)],
    service: Annotated[
        str | None, typer.Option(help="The service the artifacts belong to.")
    ] = None,
    version: Annotated[str | None, typer.Option(help="The version they were built as.")] = None,
    release: Annotated[
        str | None, typer.Option("--release", help="Bind them to release SERVICE/NAME.")
    ] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Record each file's name, size and SHA-256 (streamed) as `artifact.recorded`."""
    ref = None if release is None else ReleaseRef.parse(release)
    with instance_at(home) as instance:
        recorded = instance.attest.artifacts(
            paths,
            service=service,
            version=version,
            actor=acting_actor(instance, actor),
            release=ref,
        )
    if output is Output.json:
        _emit(
            [
                {
                    "kind": "artifact",
                    "seq": r.seq,
                    "recorded": r.recorded,
                    "sha256": r.artifact.sha256,
                    **r.artifact.to_data(),
                    "release": r.release,
                    "actor": r.actor,
                    "recorded_at": r.recorded_at,
                }
                for r in recorded
            ]
        )
        return
    table = Table("seq", "artifact", "size", "sha256", title=f"Artifacts of {safe(ref or service)}")
    for r in recorded:
        seq = str(r.seq) if r.recorded else f"{r.seq} (already recorded)"
        table.add_row(seq, safe(r.artifact.name), f"{r.artifact.size:,}", safe(r.artifact.sha256))
    out.print(table)


def _attest(
    kind: AttestKind,
    paths: list[Path],
    release: str,
    actor: str | None,
    home: Path | None,
    output: Output,
    **options: object,
) -> None:
    ref = ReleaseRef.parse(release)
    with instance_at(home) as instance:
        results = instance.evidence.attest(
            kind,
            paths,
            ref,
            actor=acting_actor(instance, actor),
            **options,  # type: ignore[arg-type]
        )
    if output is Output.json:
        _emit([_document(r) for r in results])
        return
    for r in results:
        verb = "Recorded" if r.recorded else "Already recorded"
        names = ", ".join(str(f["name"]) for f in r.files)
        out.print(
            f"{verb} {safe(r.kind)} evidence {r.seq} for {safe(ref)}: {safe(names)} "
            f"({safe(r.format)})"
        )
        for key, value in r.summary.items():
            out.print(f"  {safe(key):14} {safe(value)}")
        for note in r.notes:
            out.print(f"  note: {safe(note)}")


def _document(result: Attested) -> dict[str, JsonValue]:
    return {
        "kind": result.kind,
        "seq": result.seq,
        "recorded": result.recorded,
        "sha256": result.sha256,
        "format": result.format,
        "files": list(result.files),
        "summary": result.summary,
        "notes": list(result.notes),
    }


@app.command("test-results")
def junit(
    paths: Files,
    release: ReleaseOption,
    format: FormatOption = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """JUnit XML (pytest, Surefire, Gradle, jest-junit, go-junit-report, …), files merged."""
    _attest(AttestKind.TEST_RESULTS, paths, release, actor, home, output, format=format)


@app.command("scan")
def scan(
    paths: Files,
    release: ReleaseOption,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """SARIF 2.1.0 from static analysis and security scanners; one record per file."""
    _attest(AttestKind.SCAN, paths, release, actor, home, output)


@app.command("sbom")
def sbom(
    paths: Files,
    release: ReleaseOption,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """CycloneDX JSON (1.4-1.6) or SPDX 2.3 JSON."""
    _attest(AttestKind.SBOM, paths, release, actor, home, output)


@app.command("provenance")
def provenance(
    paths: Files,
    release: ReleaseOption,
    public_key: Annotated[
        list[Path] | None,
        typer.Option(help="A PEM public key the envelope must be signed by (repeatable)."),
    ] = None,
    require_signature: Annotated[
        bool, typer.Option(help="Refuse envelopes not signed by a --public-key.")
    ] = False,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """in-toto Statements (bare, DSSE, Sigstore bundle), SLSA provenance, in-toto links."""
    keys = public_key or []
    if require_signature and not keys:
        raise UsageError("--require-signature needs at least one --public-key")
    _attest(
        AttestKind.PROVENANCE,
        paths,
        release,
        actor,
        home,
        output,
        public_keys=keys,
        require_signature=require_signature,
    )


@app.command("review")
def review(
    paths: Files,
    release: ReleaseOption,
    format: FormatOption = None,
    signature: Annotated[
        str | None,
        typer.Option(help="The webhook's X-Hub-Signature-256 header (sha256=…) to check."),
    ] = None,
    secret_env: Annotated[
        str | None,
        typer.Option(help="Name of the environment variable holding the webhook secret."),
    ] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """A GitHub pull_request_review webhook, a GitLab approval, or the generic JSON form."""
    check = None
    if secret_env is not None:
        secret = os.environ.get(secret_env)
        if not secret:
            raise UsageError(f"environment variable {secret_env} is not set")
        check = ReviewSignature(signature, secret.encode())
    elif signature is not None:
        raise UsageError("--signature needs --secret-env to check it against")
    _attest(
        AttestKind.REVIEW,
        paths,
        release,
        actor,
        home,
        output,
        format=format,
        review_signature=check,
    )
