"""`changeproof attest KIND`: record evidence about a release.

`attest artifact` is written here. Every other command is made from the reader registry
(`changeproof.ingest.readers`): one per command its readers answer to, with its help, the
formats `--format` takes and the flags of the options its readers declare. A reader of a
new kind gets its command without a change here; only an option new to the registry needs
its flags added to `_FLAGS`.
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast
from urllib.parse import quote

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
from changeproof.cli.remote import acting_remotely, server
from changeproof.cli.render import emit_json, out, safe
from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import Field, UsageError
from changeproof.domain.releases import ReleaseRef
from changeproof.ingest.readers import Option, ReaderSpec, commands
from changeproof.services.files import open_input

if TYPE_CHECKING:
    from changeproof.client.http import ServerClient
    from changeproof.services.evidence import ReviewSignature

app = typer.Typer(
    help="Record evidence about a release in the ledger. With --output json, one record "
    "prints as an object and several as a list.",
    no_args_is_help=True,
)

Files = Annotated[list[Path], typer.Argument(help="Evidence files.", show_default=False)]
ReleaseOption = Annotated[
    str, typer.Option("--release", help="SERVICE/NAME the evidence is about.", show_default=False)
]


def _emit(documents: list[dict[str, Any]]) -> None:
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
    """Record each file's name, size and SHA-256 (streamed) as `artifact.recorded`.

    Against a server (`--server`), each file is hashed here and its name, size and digest
    sent (the artifact stays where it was built); `--release` is needed.
    """
    ref = None if release is None else ReleaseRef.parse(release)
    client = server()
    if client is not None:
        with client:
            if ref is None:
                raise UsageError(
                    f"a server records artifacts for a release: give {Field('release')}"
                )
            acting_remotely(client, actor, "--actor/--as")
            documents = [
                client.post(_release_path(ref, "artifacts"), {**_claim(path), "version": version})
                for path in paths
            ]
    else:
        with instance_at(home) as instance:
            recorded = instance.attest.artifacts(
                paths,
                service=service,
                version=version,
                actor=acting_actor(instance, actor),
                release=ref,
            )
        documents = [r.document() for r in recorded]
    if output is Output.json:
        _emit(documents)
        return
    table = Table("seq", "artifact", "size", "sha256", title=f"Artifacts of {safe(ref or service)}")
    for d in documents:
        seq = str(d["seq"]) if d["recorded"] else f"{d['seq']} (already recorded)"
        table.add_row(seq, safe(d["name"]), f"{d['size']:,}", safe(d["sha256"]))
    out.print(table)


def _release_path(ref: ReleaseRef, *rest: str) -> str:
    parts = (ref.service, ref.name, *rest)
    return "/releases/" + "/".join(quote(part, safe="") for part in parts)


def _claim(path: Path) -> dict[str, JsonValue]:
    """An artifact's base name, size and SHA-256, hashed as it streams from the disk."""
    with open_input(path, "artifact file") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
        size = handle.tell()
    return {"name": path.name, "sha256": digest, "size": size}


@dataclass(slots=True)
class _Given:
    """What the flags of one call ask the evidence service for, beyond the files."""

    format: str | None = None
    public_keys: list[Path] = field(default_factory=list)
    require_signature: bool = False
    review_signature: ReviewSignature | None = None


@dataclass(frozen=True, slots=True)
class _Flags:
    """The flags a reader option takes, and how their values reach the service."""

    parameters: tuple[inspect.Parameter, ...]
    apply: Callable[[Mapping[str, object], _Given], None]


def _keyword(name: str, annotation: object, default: object) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
    )


def _public_keys(values: Mapping[str, object], given: _Given) -> None:
    given.public_keys = list(cast("list[Path] | None", values["public_key"]) or [])


def _require_signature(values: Mapping[str, object], given: _Given) -> None:
    given.require_signature = bool(values["require_signature"])
    if given.require_signature and not given.public_keys:
        raise UsageError("--require-signature needs at least one --public-key")


def _webhook_signature(values: Mapping[str, object], given: _Given) -> None:
    from changeproof.services.evidence import ReviewSignature

    signature = cast("str | None", values["signature"])
    secret_env = cast("str | None", values["secret_env"])
    if secret_env is not None:
        secret = os.environ.get(secret_env)
        if not secret:
            raise UsageError(f"environment variable {secret_env} is not set")
        given.review_signature = ReviewSignature(signature, secret.encode())
    elif signature is not None:
        raise UsageError("--signature needs --secret-env to check it against")


# In the order the flags show in help and are applied (--require-signature reads the keys).
_FLAGS: dict[Option, _Flags] = {
    Option.PUBLIC_KEYS: _Flags(
        (
            _keyword(
                "public_key",
                Annotated[
                    list[Path] | None,
                    typer.Option(
                        help="A PEM public key the envelope must be signed by (repeatable)."
                    ),
                ],
                None,
            ),
        ),
        _public_keys,
    ),
    Option.REQUIRE_SIGNATURE: _Flags(
        (
            _keyword(
                "require_signature",
                Annotated[
                    bool, typer.Option(help="Refuse envelopes not signed by a --public-key.")
                ],
                False,
            ),
        ),
        _require_signature,
    ),
    Option.WEBHOOK_SIGNATURE: _Flags(
        (
            _keyword(
                "signature",
                Annotated[
                    str | None,
                    typer.Option(
                        help="The webhook's X-Hub-Signature-256 header (sha256=…) to check."
                    ),
                ],
                None,
            ),
            _keyword(
                "secret_env",
                Annotated[
                    str | None,
                    typer.Option(
                        help="Name of the environment variable holding the webhook secret."
                    ),
                ],
                None,
            ),
        ),
        _webhook_signature,
    ),
}


def _help(specs: list[ReaderSpec]) -> str:
    """The command's help: what its readers read, and what one record is."""
    what = "; or ".join(spec.summary for spec in specs)
    if specs[0].many_files:
        return f"{what}. The files given are one record (kind {specs[0].kind})."
    return f"{what}. One record (kind {specs[0].kind}) per file."


def _format_help(specs: list[ReaderSpec]) -> str:
    named = "; ".join(f"{', '.join(s.formats)} ({s.title})" for s in specs if s.formats)
    return f"Read the files as this format instead of recognising it from the content: {named}."


def _evidence_command(command: str, specs: list[ReaderSpec]) -> None:
    """Add `attest COMMAND`, its flags made from what its readers declare."""
    options = {option for spec in specs for option in spec.options}
    flags = [_FLAGS[option] for option in _FLAGS if option in options]
    parameters = [
        inspect.Parameter("paths", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Files),
        _keyword("release", ReleaseOption, inspect.Parameter.empty),
    ]
    if any(spec.formats for spec in specs):
        format_option = Annotated[
            str | None, typer.Option("--format", help=_format_help(specs), show_default=False)
        ]
        parameters.append(_keyword("format", format_option, None))
    parameters.extend(p for flag in flags for p in flag.parameters)
    parameters.extend(
        [
            _keyword("actor", ActorOption, None),
            _keyword("home", HomeOption, None),
            _keyword("output", OutputOption, Output.text),
        ]
    )

    def run(**values: object) -> None:
        given = _Given(format=cast("str | None", values.get("format")))
        for flag in flags:
            flag.apply(values, given)
        _attest(
            command,
            cast("list[Path]", values["paths"]),
            cast("str", values["release"]),
            cast("str | None", values["actor"]),
            cast("Path | None", values["home"]),
            cast("Output", values["output"]),
            given,
        )

    # Typer reads the parameters from the signature: these are the command's flags.
    run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in parameters}
    run.__name__ = command.replace("-", "_")
    app.command(command, help=_help(specs))(run)


def _attest(
    kind: str,
    paths: list[Path],
    release: str,
    actor: str | None,
    home: Path | None,
    output: Output,
    given: _Given,
) -> None:
    ref = ReleaseRef.parse(release)
    client = server()
    if client is not None:
        documents = _upload(client, kind, paths, ref, actor, given)
    else:
        with instance_at(home) as instance:
            results = instance.evidence.attest(
                kind,
                paths,
                ref,
                actor=acting_actor(instance, actor),
                format=given.format,
                public_keys=given.public_keys,
                require_signature=given.require_signature,
                review_signature=given.review_signature,
            )
        documents = [r.document() for r in results]
    if output is Output.json:
        _emit(documents)
        return
    for d in documents:
        verb = "Recorded" if d["recorded"] else "Already recorded"
        names = ", ".join(str(f["name"]) for f in d["files"])
        out.print(
            f"{verb} {safe(d['kind'])} evidence {d['seq']} for {safe(ref)}: {safe(names)} "
            f"({safe(d['format'])})"
        )
        for key, value in d["summary"].items():
            out.print(f"  {safe(key):14} {safe(value)}")
        for note in d["notes"]:
            out.print(f"  note: {safe(note)}")


def _upload(
    client: ServerClient,
    kind: str,
    paths: list[Path],
    ref: ReleaseRef,
    actor: str | None,
    given: _Given,
) -> list[dict[str, Any]]:
    """The files themselves, streamed to the server, which reads, records and keeps them."""
    if given.review_signature is not None:
        raise UsageError(
            "a server checks a webhook's signature where the webhook arrives: have GitHub "
            "deliver reviews to its hooks, or upload the payload without a signature",
        )
    acting_remotely(client, actor, "--actor/--as")
    with ExitStack() as stack:
        files = [
            ("files", (p.name, stack.enter_context(open_input(p, "evidence file")))) for p in paths
        ]
        files += [
            ("public_keys", (p.name, stack.enter_context(open_input(p, "public key file"))))
            for p in given.public_keys
        ]
        data = {"require_signature": "true" if given.require_signature else "false"}
        if given.format is not None:
            data["format"] = given.format
        answer: list[dict[str, Any]] = client.post(
            _release_path(ref, "evidence", kind), files=files, data=data
        )
    return answer


for _command, _specs in commands().items():
    _evidence_command(_command, _specs)
