"""`changeproof actor add|alias add|grant|revoke|list|sync`: people, aliases, roles, groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

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
from changeproof.services.actors import (
    ROLES,
    ActorChange,
    ActorReport,
    SyncReport,
    actor_document,
    change_document,
    report_document,
)

app = typer.Typer(
    help="Actors: people and pipeline identities, their aliases, roles and groups.",
    no_args_is_help=True,
)

NameArgument = Annotated[str, typer.Argument(help="The actor's name.", show_default=False)]
RoleOption = Annotated[
    str | None,
    typer.Option("--role", help=f"One of: {', '.join(ROLES)}.", show_default=False),
]
GroupOption = Annotated[
    str | None,
    typer.Option("--group", help="A group name, e.g. dba.", show_default=False),
]


@app.command("add")
def add(
    name: NameArgument,
    email: Annotated[
        list[str] | None,
        typer.Option("--email", help="An email address git knows them by (repeatable)."),
    ] = None,
    github: Annotated[str | None, typer.Option(help="Their GitHub login.")] = None,
    gitlab: Annotated[str | None, typer.Option(help="Their GitLab login.")] = None,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help=f"A role to grant (repeatable): {', '.join(ROLES)}."),
    ] = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", help="A group to grant (repeatable).")
    ] = None,
    pipeline: Annotated[
        bool,
        typer.Option("--pipeline", help="A pipeline identity (a CI job's), not a person."),
    ] = False,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Add an actor with its emails and logins, and grant it roles and groups."""
    with instance_at(home) as instance:
        report = instance.actors.add(
            name,
            emails=email or [],
            github=github,
            gitlab=gitlab,
            roles=role or [],
            groups=group or [],
            pipeline=pipeline,
            by=acting_actor(instance, actor),
        )
    _render_report(report, output)


alias_app = typer.Typer(help="An actor's aliases: emails and logins.", no_args_is_help=True)
app.add_typer(alias_app, name="alias")


@alias_app.command("add")
def alias_add(
    name: NameArgument,
    email: Annotated[
        list[str] | None,
        typer.Option("--email", help="An email address git knows them by (repeatable)."),
    ] = None,
    github: Annotated[str | None, typer.Option(help="Their GitHub login.")] = None,
    gitlab: Annotated[str | None, typer.Option(help="Their GitLab login.")] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Record more emails or logins of a known actor (never removes or changes one)."""
    with instance_at(home) as instance:
        report = instance.actors.add_aliases(
            name, emails=email or [], github=github, gitlab=gitlab,
            by=acting_actor(instance, actor),
        )  # fmt: skip
    _render_report(report, output)


@app.command("grant")
def grant(
    name: NameArgument,
    role: RoleOption = None,
    group: GroupOption = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Grant an actor one role or one group (never to yourself)."""
    _change_grants("grant", name, role, group, actor, home, output)


@app.command("revoke")
def revoke(
    name: NameArgument,
    role: RoleOption = None,
    group: GroupOption = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Revoke one role or one group from an actor."""
    _change_grants("revoke", name, role, group, actor, home, output)


def _change_grants(
    verb: Literal["grant", "revoke"],
    name: str,
    role: str | None,
    group: str | None,
    actor: str | None,
    home: Path | None,
    output: Output,
) -> None:
    with instance_at(home) as instance:
        change = instance.actors.grant if verb == "grant" else instance.actors.revoke
        report = change(name, role=role, group=group, by=acting_actor(instance, actor))
    _render_report(report, output)


@app.command("list")
def list_(
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Every actor with its emails, logins, roles and groups."""
    with instance_at(home) as instance:
        records = instance.actors.list()
    if output is Output.json:
        emit_json([actor_document(r) for r in records])
        return
    if not records:
        out.print("No actors yet: add one with `changeproof actor add`")
        return
    table = Table()
    for column in ("name", "emails", "github", "gitlab", "roles", "groups", "entry", "added by"):
        table.add_column(column, overflow="fold")
    for r in records:
        a = r.actor
        table.add_row(
            safe(a.name),
            safe(", ".join(sorted(a.emails))),
            safe(a.github or ""),
            safe(a.gitlab or ""),
            safe(", ".join(sorted(a.roles))),
            safe(", ".join(sorted(a.groups))),
            str(r.seq),
            safe(r.added_by),
        )
    out.print(table)


@app.command("sync")
def sync(
    file: Annotated[Path, typer.Argument(help="A people file (YAML).", show_default=False)],
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Make the actors a reviewed YAML file lists match it, recording only the differences."""
    with instance_at(home) as instance:
        report = instance.actors.sync(file, by=acting_actor(instance, actor))
    _render_sync(report, output)


def _describe(change: ActorChange) -> str:
    if change.event == "actor.alias.added":
        return f"entry {change.seq}: added {change.value} to {change.name}"
    if change.kind is None:
        return f"entry {change.seq}: added {change.name}"
    verb = "granted" if change.event.endswith(".granted") else "revoked"
    direction = "to" if verb == "granted" else "from"
    return f"entry {change.seq}: {verb} {change.kind} {change.value} {direction} {change.name}"


def _render_report(report: ActorReport, output: Output) -> None:
    if output is Output.json:
        emit_json(report_document(report))
        return
    for change in report.changes:
        out.print(_describe(change), markup=False)
    a = report.actor.actor
    out.print(
        f"{a.name}: roles {', '.join(sorted(a.roles)) or 'none'}; "
        f"groups {', '.join(sorted(a.groups)) or 'none'}",
        markup=False,
    )


def _render_sync(report: SyncReport, output: Output) -> None:
    if output is Output.json:
        emit_json(
            {
                "file": report.source,
                "changed": bool(report.changes),
                "changes": [change_document(c) for c in report.changes],
                "unlisted": list(report.unlisted),
            }
        )
        return
    if not report.changes:
        out.print(f"{report.source}: the actors already match; nothing recorded", markup=False)
    else:
        count = len(report.changes)
        out.print(
            f"Synced {report.source}: {count} {'entry' if count == 1 else 'entries'}",
            markup=False,
        )
        for change in report.changes:
            out.print(f"  {_describe(change)}", markup=False)
    if report.unlisted:
        out.print(f"Not in the file, left as they are: {', '.join(report.unlisted)}", markup=False)
