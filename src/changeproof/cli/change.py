"""`changeproof change`: change requests, their RFC, approvals and after-the-fact reviews."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
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
from changeproof.cli.render import emit_json, emit_text, out, safe
from changeproof.domain.errors import UsageError
from changeproof.domain.releases import ReleaseRef
from changeproof.reports.rfc import html_document, markdown
from changeproof.services.change_documents import PlanTexts
from changeproof.services.changes import ChangeView, OpenRequest
from changeproof.services.files import read_input

app = typer.Typer(
    help="Change requests: the RFC, approvals, urgent changes and their reviews.",
    no_args_is_help=True,
)

_MAX_TEXT_FILE = 1024 * 1024
ChangeArgument = Annotated[str, typer.Argument(help="The change: CHG-<number>.")]


class Format(StrEnum):
    json = "json"
    md = "md"
    html = "html"


def _text(path: Path | None, what: str) -> str | None:
    if path is None:
        return None
    data = read_input(path, what, limit=_MAX_TEXT_FILE)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{what} {path} is not UTF-8 text (byte {e.start})") from None


@app.command("open")
def open_(
    release: Annotated[str, typer.Option(help="SERVICE/NAME: the release to deploy.")],
    env: Annotated[str, typer.Option("--env", help="The target environment.")],
    plan: Annotated[Path | None, typer.Option(help="A file holding the deployment plan.")] = None,
    rollback: Annotated[Path | None, typer.Option(help="A file holding the rollback plan.")] = None,
    dry_run_output: Annotated[
        Path | None, typer.Option("--dry-run-output", help="A file holding a dry run's output.")
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(help="START/END of the deployment window, ISO 8601 with a zone."),
    ] = None,
    urgent: Annotated[
        bool, typer.Option("--urgent", help="An urgent change: reviewed after the fact.")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why it is urgent.")] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Open a change and write its RFC from what the store knows about the release."""
    start = end = None
    if window is not None:
        start, sep, end = window.partition("/")
        if not sep or not start or not end:
            raise UsageError(f"--window must be START/END, not {window!r}")
    texts = PlanTexts(
        plan=_text(plan, "plan file"),
        rollback=_text(rollback, "rollback file"),
        dry_run_output=_text(dry_run_output, "dry-run output file"),
        window_start=start,
        window_end=end,
    )
    client = server()
    if client is not None:
        with client:
            acting_remotely(client, actor, "--actor/--as")
            body = {
                "release": release, "environment": env, "plan": texts.plan,
                "rollback": texts.rollback, "dry_run_output": texts.dry_run_output,
                "window_start": start, "window_end": end, "urgent": urgent, "reason": reason,
            }  # fmt: skip
            doc = client.post("/changes", {k: v for k, v in body.items() if v is not None})
        _render(doc, output, f"Opened {doc['id']}")
        return
    request = OpenRequest(ReleaseRef.parse(release), env, texts, urgent, reason)
    with instance_at(home) as instance:
        view = instance.changes.open(request, by=acting_actor(instance, actor))
    _render(view.document(), output, f"Opened {view.id}")


@app.command("show")
def show(
    change: ChangeArgument,
    format: Annotated[Format, typer.Option("--format", help="json, md or html.")] = Format.md,
    home: HomeOption = None,
) -> None:
    """The change's RFC with its approvals: JSON (the published schema), Markdown or HTML."""
    client = server()
    if client is not None:
        # The server renders Markdown and HTML as this command would: the same bytes.
        with client:
            path = f"/changes/{quote(change, safe='')}"
            if format is Format.json:
                emit_json(client.get(path))
            else:
                emit_text(client.text(path, {"format": format.value}))
        return
    with instance_at(home) as instance:
        view = instance.changes.show(change)
    document = view.rfc_document()
    if format is Format.json:
        emit_json(document.to_data())
    elif format is Format.md:
        emit_text(markdown(document) + "\n")
    else:
        emit_text(html_document(document) + "\n")


@app.command("list")
def list_(
    env: Annotated[str | None, typer.Option("--env", help="Only this environment.")] = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Every change, oldest first; urgent ones marked."""
    with instance_at(home) as instance:
        views = instance.changes.list(environment=env)
    _listing(views, output)


@app.command("overdue")
def overdue(
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Urgent changes whose after-the-fact review is late.

    Exit 1 when any is overdue, so a pipeline or a monitor can alert; 0 when none is.
    """
    with instance_at(home) as instance:
        views = instance.changes.list(overdue=True)
    _listing(views, output)
    if views:
        raise typer.Exit(1)


@app.command("refresh")
def refresh(
    change: ChangeArgument,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Write the RFC again; if its digest changes, earlier approvals stop counting."""
    with instance_at(home) as instance:
        view = instance.changes.refresh(change, by=acting_actor(instance, actor))
    if not view.recorded:
        headline = f"{view.id} is unchanged (digest {view.row.digest[:12]})"
    else:
        headline = f"Refreshed {view.id}: digest now {view.row.digest[:12]}"
        if view.voided:
            headline += f"; approvals by {', '.join(view.voided)} no longer count"
    _render(view.document(), output, headline)


@app.command("approve")
def approve(
    change: ChangeArgument,
    comment: Annotated[str | None, typer.Option(help="Why, for the record.")] = None,
    digest: Annotated[
        str | None, typer.Option(help="The RFC digest you read; refused if it changed since.")
    ] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Approve the change's current RFC (its digest is recorded with the approval)."""
    client = server()
    if client is not None:
        with client:
            me = acting_remotely(client, actor, "--actor/--as")
            path = f"/changes/{quote(change, safe='')}"
            before = client.get(path)
            # Without --digest, the digest of the RFC as read now, as the embedded CLI does.
            read = digest or str(before["digest"])
            body = {"digest": read, "comment": comment}
            doc = client.post(f"{path}/approve", {k: v for k, v in body.items() if v is not None})
        already = any(
            a["actor"] == me and a["digest"] == read and a["verdict"] == "approved"
            for a in before["approvals"]
        )
        verb = "Already approved" if already else "Approved"
        _render(doc, output, f"{verb} {doc['id']} (digest {doc['digest'][:12]})")
        return
    with instance_at(home) as instance:
        view = instance.changes.approve(
            change, by=acting_actor(instance, actor), comment=comment, digest=digest
        )
    verb = "Approved" if view.recorded else "Already approved"
    _render(view.document(), output, f"{verb} {view.id} (digest {view.row.digest[:12]})")


@app.command("reject")
def reject(
    change: ChangeArgument,
    reason: Annotated[str, typer.Option(help="Why it is rejected.")],
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Reject the change: it never deploys."""
    client = server()
    if client is not None:
        with client:
            acting_remotely(client, actor, "--actor/--as")
            doc = client.post(f"/changes/{quote(change, safe='')}/reject", {"reason": reason})
        _render(doc, output, f"Rejected {doc['id']}")
        return
    with instance_at(home) as instance:
        view = instance.changes.reject(change, by=acting_actor(instance, actor), reason=reason)
    _render(view.document(), output, f"Rejected {view.id}")


@app.command("review")
def review(
    change: ChangeArgument,
    outcome: Annotated[str, typer.Option(help="accepted or remediate.")],
    notes: Annotated[str, typer.Option(help="What the review found.")],
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Close an urgent change's after-the-fact review."""
    with instance_at(home) as instance:
        view = instance.changes.review(
            change, by=acting_actor(instance, actor), outcome=outcome, notes=notes
        )
    _render(view.document(), output, f"Reviewed {view.id}: {view.row.review_outcome}")


class System(StrEnum):
    servicenow = "servicenow"
    jira = "jira"


@app.command("export")
def export(
    change: ChangeArgument,
    to: Annotated[System, typer.Option("--to", help="servicenow or jira.")],
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Create or update the change's ticket in ServiceNow or Jira (configured in config.toml;
    see docs/ticketing.md) and record its id, so later exports update the same record."""
    with instance_at(home) as instance:
        view, ticket = instance.change_exports.export(
            change, to.value, by=acting_actor(instance, actor), environ=dict(os.environ)
        )
    if output is Output.json:
        emit_json(
            {
                "change": view.id,
                "system": to.value,
                "remote_id": ticket.remote_id,
                "key": ticket.key,
                "url": ticket.url,
                "digest": view.row.digest,
            }
        )
        return
    out.print(
        f"Exported {safe(view.id)} to {safe(to.value)}: {safe(ticket.key)} {safe(ticket.url)}"
    )


def _render(doc: Mapping[str, Any], output: Output, headline: str) -> None:
    """The change from its RFC document: the same words whether read here or from a server."""
    if output is Output.json:
        emit_json(doc)
        return
    kind = " [bold red]URGENT[/bold red]" if doc["urgent"] else ""
    out.print(f"{safe(headline)}{kind}")
    out.print(
        f"  {safe(doc['release'])} to {safe(doc['environment'])}: {safe(doc['state'])}, "
        f"digest {safe(doc['digest'])}"
    )
    status = doc["approval_status"]
    if status is not None:
        counting = sorted({a["actor"] for a in doc["approvals"] if a["counts"]})
        out.print(f"  approved by: {safe(', '.join(counting) or 'nobody yet')}")
        for missing in status["missing"]:
            out.print(f"  still needed: {safe(missing)}")
        if status["stale"]:
            names = ", ".join(status["stale"])
            out.print(f"  no longer counting (approved an earlier RFC): {safe(names)}")
    review = doc["review"]
    if review is not None:
        reviewed = (
            safe(review["outcome"])
            if review["outcome"]
            else ("[red]OVERDUE[/red]" if review["overdue"] else "pending")
        )
        out.print(f"  after-the-fact review due {safe(review['due'])}: {reviewed}")


def _listing(views: list[ChangeView], output: Output) -> None:
    if output is Output.json:
        emit_json([v.document() for v in views])
        return
    table = Table("change", "release", "env", "urgent", "state", "review due", "review")
    for view in views:
        row = view.row
        review = row.review_outcome or ("OVERDUE" if view.overdue else "pending")
        table.add_row(
            safe(view.id),
            safe(row.release),
            safe(row.environment),
            "URGENT" if row.urgent else "",
            safe(view.state),
            safe(row.review_due or ""),
            safe(review) if row.urgent else "",
        )
    out.print(table)
