"""`changeproof release create|show|list`: what exactly goes out, and why."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.markup import escape
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
from changeproof.domain.releases import ReleaseRef
from changeproof.services.release_documents import (
    RANGE_MEANING,
    release_document,
    release_summary,
)

app = typer.Typer(help="Releases: a service's commit range and its evidence.", no_args_is_help=True)


@app.command("create")
def create(
    service: Annotated[str, typer.Option(help="The service being released.")],
    name: Annotated[str, typer.Option(help="The release's name, e.g. a version.")],
    repo: Annotated[Path, typer.Option(help="A git working tree or bare repository.")],
    to: Annotated[str, typer.Option("--to", help="The candidate: a ref or SHA.")],
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Where the range starts (default: the service's previous release, else the root).",
        ),
    ] = None,
    from_root: Annotated[
        bool,
        typer.Option(
            "--from-root",
            help="Start at the root commit even when the service has released before.",
        ),
    ] = False,
    tickets: Annotated[
        str | None,
        typer.Option(help="Ticket patterns for this call, e.g. jira:PAY,OPS,github,trac."),
    ] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Record a release: every commit of FROM..TO with its authors, tickets and changed paths.

    Against a server (`--server`), REPO names one of the server's repositories.
    """
    client = server()
    if client is not None:
        with client:
            acting_remotely(client, actor, "--actor/--as")
            body = {
                "service": service, "name": name, "repository": str(repo), "to": to,
                "from": from_, "from_root": from_root, "tickets": tickets,
            }  # fmt: skip
            doc = client.post("/releases", {k: v for k, v in body.items() if v is not None})
        _render(doc, output)
        return
    ref = ReleaseRef.of(service, name)
    with instance_at(home) as instance:
        view = instance.releases.create(
            ref,
            repository=repo,
            to_ref=to,
            from_ref=from_,
            actor=acting_actor(instance, actor),
            tickets=tickets,
            from_root=from_root,
        )
    _render(release_document(view), output)


@app.command("show")
def show(
    release: Annotated[str, typer.Argument(help="SERVICE/NAME")],
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """A release's commits, tickets, untracked commits and evidence."""
    ref = ReleaseRef.parse(release)
    client = server()
    if client is not None:
        with client:
            doc = client.get(f"/releases/{quote(ref.service, safe='')}/{quote(ref.name, safe='')}")
    else:
        with instance_at(home) as instance:
            doc = release_document(instance.releases.show(ref))
    _render(doc, output)


@app.command("list")
def list_(
    service: Annotated[
        str | None, typer.Option("--service", help="Only this service's releases.")
    ] = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Every release, oldest first: its commit range, size, and who created it when."""
    with instance_at(home) as instance:
        rows = instance.releases.list(service=service)
    if output is Output.json:
        emit_json([release_summary(r) for r in rows])
        return
    table = Table("release", "seq", "commits", "range", "created", "by")
    for r in rows:
        table.add_row(
            escape(str(r.ref)),
            str(r.seq),
            str(r.commit_count),
            f"{(r.from_sha or '(root)')[:12]}..{r.to_sha[:12]}",
            r.created_at,
            escape(r.actor),
        )
    out.print(table)


def inherited_label(inherited: list[dict[str, Any]]) -> str:
    """A commit's inherited tickets, as `release show` prints them; `none` when it has none."""
    if not inherited:
        return "[red]none[/red]"
    return "; ".join(
        escape(f"{', '.join(i['tickets'])} (inherited via merge {i['merge'][:12]})")
        for i in inherited
    )


def _render(doc: Mapping[str, Any], output: Output) -> None:
    """The release from its document: the same words whether read here or from a server."""
    if output is Output.json:
        emit_json(doc)
        return
    verb = "Created" if doc["created"] else "Release"
    commits = doc["commits"]
    out.print(
        f"{verb} {safe(doc['service'])}/{safe(doc['name'])}: {len(commits)} commits, "
        f"{safe(doc['from'] or '(root)')}..{safe(doc['to'])}"
    )
    if not doc["range"]["ancestor"]:
        out.print(
            f"  note: {safe(doc['from_ref'])} is not an ancestor of {safe(doc['to_ref'])}; "
            f"{RANGE_MEANING}"
        )
    table = Table("commit", "author", "tickets", "paths", "subject")
    for c in commits:
        tickets = safe(", ".join(c["tickets"])) or inherited_label(c["inherited_tickets"])
        kind = " (merge)" if c["merge"] else ""
        table.add_row(
            safe(c["sha"][:12]),
            safe(c["author"]["email"]),
            tickets,
            str(len(c["paths"])),
            safe(c["subject"]) + kind,
        )
    out.print(table)
    out.print(f"Tickets: {safe(', '.join(doc['tickets']) or 'none')}")
    if doc["untracked_commits"]:
        out.print(f"[yellow]Commits with no ticket: {len(doc['untracked_commits'])}[/yellow]")
    for e in doc["evidence"]:
        newer = e["superseded_by"]
        gone = f" superseded by evidence {newer}" if newer is not None else ""
        out.print(
            f"Evidence {e['seq']}: {safe(e['kind'])} ({safe(e['format'])}) "
            f"sha256:{safe(e['sha256'][:16])}…{gone}"
        )
    for a in doc["artifacts"]:
        out.print(
            f"Artifact {a['seq']}: {safe(a['name'])} ({a['size']} bytes) sha256:{safe(a['sha256'])}"
        )
