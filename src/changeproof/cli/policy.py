"""`changeproof policy …`: the policy file's schema, a starting policy, validation, explanation,
its tests, a proposed policy's impact, and the instance's active policy."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from changeproof.bootstrap import policy_tests
from changeproof.cli.names import CLI_NAMES
from changeproof.cli.options import (
    ActorOption,
    HomeOption,
    Output,
    OutputOption,
    acting_actor,
    instance_at,
)
from changeproof.cli.render import emit_json, err, out, safe
from changeproof.domain.errors import InputError, UsageError, render
from changeproof.domain.policies import proposal_id
from changeproof.policy.errors import PolicyError
from changeproof.policy.explain import Explanation, explain
from changeproof.policy.loader import LoadedPolicy, load_policy_file
from changeproof.policy.schema import policy_schema_text
from changeproof.policy.templates import TEMPLATES, template
from changeproof.services.policies import Simulation, parse_since
from changeproof.services.policy_documents import (
    activated_document,
    approved_document,
    governance_document,
    proposal_document,
    simulation_document,
    status_document,
)
from changeproof.services.policy_tests import PolicyTestReport

app = typer.Typer(
    help="The policy: schema, templates, validation, tests, simulation, the active policy.",
    no_args_is_help=True,
)

DEFAULT_POLICY = Path("changeproof.yaml")
PolicyOption = Annotated[
    Path, typer.Option("--policy", help="The policy file.", show_default="./changeproof.yaml")
]


@app.command("schema")
def schema(
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the schema to FILE (replacing it).", show_default=False),
    ] = None,
) -> None:
    """The policy file's JSON Schema (draft 2020-12), generated from the control registry."""
    text = policy_schema_text()
    if out_file is None:
        sys.stdout.write(text)
        return
    _write(out_file, text, replace=True)
    out.print(f"Wrote the policy schema to {out_file}", markup=False)


@app.command("init")
def init(
    template_name: Annotated[
        str, typer.Option("--template", help=f"One of: {', '.join(TEMPLATES)}.")
    ] = "pci",
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write to FILE, which must not exist.", show_default=False),
    ] = None,
) -> None:
    """A documented starting policy, printed or written to a new file."""
    text = template(template_name)
    if out_file is None:
        sys.stdout.write(text)
        return
    _write(out_file, text, replace=False)
    out.print(
        f"Wrote the {template_name} policy template to {out_file}; "
        f"check it with `changeproof policy validate --policy {out_file}`",
        markup=False,
    )


@app.command("validate")
def validate(policy: PolicyOption = DEFAULT_POLICY, output: OutputOption = Output.text) -> None:
    """Check a policy file: structure, schema and meaning. Exit 2 naming each problem's line."""
    try:
        loaded = load_policy_file(policy)
    except PolicyError as e:
        _refuse(e, output, {"ok": False, "policy": str(policy), "digest": None})
    p = loaded.policy
    controls = sum(len(env.controls) for env in p.environments.values())
    if output is Output.json:
        emit_json(
            {
                "ok": True,
                "policy": str(policy),
                "digest": loaded.digest,
                "environments": list(p.environments),
                "errors": [],
            }
        )
        return
    out.print(
        f"OK: {policy} is a valid policy ({len(p.environments)} environments, "
        f"{controls} control entries); digest sha256:{loaded.digest}",
        markup=False,
    )


@app.command("explain")
def explain_command(
    env: Annotated[str, typer.Option("--env", help="The environment.", show_default=False)],
    policy: PolicyOption = DEFAULT_POLICY,
    output: OutputOption = Output.text,
) -> None:
    """What a release needs to go to an environment, control by control, in words."""
    loaded = load_policy_file(policy)
    explanation = explain(loaded.policy, env)
    if output is Output.json:
        emit_json({"policy": str(policy), "digest": loaded.digest, **explanation.to_data()})
        return
    for line in _explanation_lines(loaded, explanation):
        out.print(line, markup=False)


@app.command("test")
def run_tests(
    cases: Annotated[
        Path,
        typer.Argument(
            help="A folder of case files (*.yaml), or one case file.", show_default=False
        ),
    ],
    policy: PolicyOption = DEFAULT_POLICY,
    output: OutputOption = Output.text,
) -> None:
    """Run the policy's test cases: facts written out by hand and the verdict each must get.

    Needs no instance. Exit 0 when every case holds, 1 when any decision differs from its
    expectation, 2 when a case or the policy is malformed (naming the file, line and key).
    """
    try:
        report = policy_tests().run(cases, policy)
    except PolicyError as e:
        _refuse(e, output, {"ok": False, "policy": str(policy), "cases": []})
    if output is Output.json:
        emit_json(_test_report_data(report, policy))
    else:
        _render_tests(report, policy)
    if report.failed:
        raise typer.Exit(1)


def _test_report_data(report: PolicyTestReport, policy: Path) -> dict[str, object]:
    return {
        "ok": not report.failed,
        "policy": str(policy),
        "digest": report.policy.digest,
        "cases": [
            {
                "case": o.source,
                "name": o.name,
                "held": o.held,
                "differences": list(o.differences),
                "allowed": o.decision.allowed,
                "classification": str(o.decision.classification),
                "controls": [
                    {"id": c.id, "status": str(c.status), "reason": c.reason}
                    for c in o.decision.controls
                ],
            }
            for o in report.outcomes
        ],
        "held": len(report.outcomes) - len(report.failed),
        "failed": len(report.failed),
        "errors": [],
    }


def _render_tests(report: PolicyTestReport, policy: Path) -> None:
    table = Table(title=f"policy tests: {safe(policy)}")
    table.add_column("")
    table.add_column("case", overflow="fold")
    table.add_column("decision")
    table.add_column("differences", overflow="fold")
    for o in report.outcomes:
        mark = "[green]pass[/green]" if o.held else "[red]FAIL[/red]"
        verdict = "allowed" if o.decision.allowed else "blocked"
        title = o.source if o.name is None else f"{o.source}\n{o.name}"
        table.add_row(
            mark,
            escape(title),
            f"{verdict}, {safe(o.decision.classification)}",
            escape("\n".join(o.differences)),
        )
    out.print(table)
    failed = len(report.failed)
    summary = (
        f"{_cases(len(report.outcomes))}: {len(report.outcomes) - failed} hold, {failed} differ "
        f"(policy sha256:{report.policy.digest})"
    )
    out.print(f"[red]{summary}[/red]" if failed else f"[green]{summary}[/green]")


@app.command("simulate")
def simulate(
    policy: Annotated[
        Path, typer.Option("--policy", help="The proposed policy file.", show_default=False)
    ],
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only decisions made at or after DATE (2026-11-01, or an ISO 8601 time).",
            show_default=False,
        ),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option("--env", help="Only decisions for this environment.", show_default=False),
    ] = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Re-evaluate recorded gate decisions under a proposed policy; list the verdicts that
    would change. A report: exit 0 whenever it ran."""
    after = None if since is None else parse_since(since)
    with instance_at(home) as instance:
        result = instance.policies.simulate(policy, since=after, environment=env)
    if output is Output.json:
        emit_json(simulation_document(result))
        return
    _render_simulation(result, policy)


def _render_simulation(s: Simulation, policy: Path) -> None:
    scope = "" if s.since is None else f" since {s.since.isoformat()}"
    scope += "" if s.environment is None else f" for {s.environment}"
    out.print(
        f"Re-evaluated {s.examined} recorded decision{'' if s.examined == 1 else 's'}{scope} "
        f"under {policy} "
        f"(sha256:{s.policy.digest}): {len(s.changed)} would change",
        markup=False,
    )
    for c in s.changed:
        out.print(
            f"entry {c.seq}: {c.release} → {c.environment} "
            f"(decided {c.decided_at} under sha256:{c.old_digest[:12]}…)",
            markup=False,
        )
        out.print(
            f"  {_verdict(c.old_allowed)} → {_verdict(c.new_allowed)}, "
            f"{c.old_classification} → {c.new_classification}",
            markup=False,
        )
        for x in c.controls:
            why = "" if x.new is None else f": {x.reason}"
            out.print(
                f"  {x.id}: {x.old or 'not required'} → {x.new or 'not required'}{why}",
                markup=False,
            )


def _cases(n: int) -> str:
    return "1 case" if n == 1 else f"{n} cases"


def _verdict(allowed: bool) -> str:
    return "allowed" if allowed else "blocked"


@app.command("activate")
def activate(
    policy_file: Annotated[
        Path, typer.Argument(help="The policy file to make active.", show_default=False)
    ],
    simulate_first: Annotated[
        bool,
        typer.Option(
            "--simulate",
            help="Attach to the proposal the recorded decisions this policy would change "
            "(as `policy simulate` reports them), for the approver to read.",
        ),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="With --simulate: only decisions made at or after DATE.",
            show_default=False,
        ),
    ] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Propose a policy as the instance's active one; a second person approves it.

    Recorded as `policy.proposed`. It becomes active (`policy.activated`) when someone else
    holding the approver role (admin unless configured) runs `policy approve POL-N`; at once
    only while the instance has no admin yet, or when its single admin configured one-person
    activation (`policy governance --one-person`).
    """
    after = None if since is None else parse_since(since)
    try:
        with instance_at(home) as instance:
            done = instance.policies.activate(
                policy_file,
                actor=acting_actor(instance, actor),
                simulate=simulate_first,
                since=after,
            )
    except PolicyError as e:
        _refuse(e, output, {"ok": False, "policy": str(policy_file), "digest": None})
    if output is Output.json:
        emit_json(activated_document(done))
        return
    was = "none" if done.previous_digest is None else f"sha256:{done.previous_digest}"
    if not done.recorded and done.proposal is None:
        out.print(f"sha256:{done.digest} is already the active policy; nothing recorded")
    elif done.mode is not None:
        out.print(
            f"Activated {policy_file} (sha256:{done.digest}; was {was}) as entry {done.seq} "
            f"({done.mode} activation)",
            markup=False,
        )
    else:
        again = "" if done.recorded else " (already proposed; nothing recorded)"
        assert done.proposal is not None
        out.print(
            f"Proposed {policy_file} (sha256:{done.digest}; active now: {was}) as "
            f"{proposal_id(done.proposal)}{again}. It is not active until a second person "
            f"approves it: `changeproof policy approve {proposal_id(done.proposal)} "
            f"--digest {done.digest}`",
            markup=False,
        )


@app.command("approve")
def approve(
    proposal: Annotated[str, typer.Argument(help="The proposal: POL-<number>.")],
    digest: Annotated[
        str | None,
        typer.Option(
            "--digest",
            help="The policy digest you read; refused when the proposal holds another.",
            show_default=False,
        ),
    ] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Approve a proposed policy as the second person: it becomes the active policy.

    Refused to its proposer (by any alias), to anyone without the approver role, and to an
    approver the proposer made an actor or gave that role.
    """
    with instance_at(home) as instance:
        done = instance.policies.approve(proposal, by=acting_actor(instance, actor), digest=digest)
    assert done.proposal is not None
    if output is Output.json:
        emit_json(approved_document(done))
        return
    was = "none" if done.previous_digest is None else f"sha256:{done.previous_digest}"
    out.print(
        f"Activated {proposal_id(done.proposal)} (sha256:{done.digest}; was {was}) as entry "
        f"{done.seq}",
        markup=False,
    )


@app.command("reject")
def reject(
    proposal: Annotated[str, typer.Argument(help="The proposal: POL-<number>.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.", show_default=False)],
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Turn a proposed policy down (a holder of the approver role), or withdraw it (its
    proposer). It never becomes active; propose it again to try again."""
    with instance_at(home) as instance:
        row = instance.policies.reject(proposal, by=acting_actor(instance, actor), reason=reason)
    if output is Output.json:
        emit_json(proposal_document(row))
        return
    out.print(
        f"{proposal_id(row.seq)} rejected by {row.decided_by} at entry {row.decided_seq}",
        markup=False,
    )


@app.command("governance")
def governance(
    one_person: Annotated[
        bool | None,
        typer.Option(
            "--one-person/--two-person",
            help="Whether the single admin of an instance may activate a policy alone "
            "(never once the instance has two admins).",
            show_default=False,
        ),
    ] = None,
    approver_role: Annotated[
        str | None,
        typer.Option(
            "--approver-role",
            help="The role the second person must hold (default admin).",
            show_default=False,
        ),
    ] = None,
    actor: ActorOption = None,
    home: HomeOption = None,
    output: OutputOption = Output.text,
) -> None:
    """Set who may make a policy active (an admin only; recorded in the ledger)."""
    with instance_at(home) as instance:
        rules = instance.policies.set_governance(
            one_person=one_person, approver_role=approver_role, by=acting_actor(instance, actor)
        )
    if output is Output.json:
        emit_json(governance_document(rules))
        return
    out.print(f"Policy activation: {rules.describe()}", markup=False)


@app.command("status")
def status(home: HomeOption = None, output: OutputOption = Output.text) -> None:
    """The instance's active policy (its digest; when, by whom and from where it was
    activated), how a policy becomes active, and proposals awaiting a second person."""
    with instance_at(home) as instance:
        state = instance.policies.status()
    a = state.active
    if output is Output.json:
        emit_json(status_document(state))
        return
    if a is None:
        out.print(
            "No active policy: `gate` has no policy whose decisions count "
            "(propose one with `changeproof policy activate FILE`)",
            markup=False,
        )
    else:
        out.print(f"Active policy sha256:{a.digest}", markup=False)
        out.print(
            f"  activated at entry {a.seq} on {a.activated_at} by {a.actor}"
            + ("" if a.source is None else f", from {a.source}"),
            markup=False,
        )
        previous = "none" if a.previous_digest is None else f"sha256:{a.previous_digest}"
        out.print(f"  previous {previous}; {state.activations} activations in all", markup=False)
    out.print(f"Activation: {state.governance.describe()}", markup=False)
    for p in state.pending:
        out.print(
            f"  pending {proposal_id(p.seq)}: sha256:{p.digest} proposed by {p.actor} on "
            f"{p.proposed_at}" + ("" if p.source is None else f", from {p.source}"),
            markup=False,
        )


def _refuse(e: PolicyError, output: Output, document: dict[str, object]) -> NoReturn:
    """Every problem of a malformed policy or case, on stderr or as JSON; exit 2."""
    if output is Output.json:
        emit_json({**document, "errors": [p.to_data() for p in e.problems]})
    else:
        for problem in e.problems:
            err.print(f"error: {render(str(problem), CLI_NAMES)}", markup=False)
        _, hint = e.rendered(CLI_NAMES)
        if hint:
            err.print(f"hint: {hint}", markup=False)
    raise typer.Exit(e.exit_code)


def _explanation_lines(loaded: LoadedPolicy, e: Explanation) -> list[str]:
    lines = [
        f"Environment {e.environment} under {loaded.source} (digest sha256:{loaded.digest})",
        f"Deployer role: {e.deployer_role or 'none required by the environment'}",
        f"Controls ({len(e.controls)}), every one must pass:",
    ]
    for control in e.controls:
        lines.append(f"  {control.id}: {control.words()}")
        lines.extend(f"      {sentence}" for sentence in control.described)
    if not e.controls:
        lines.append("  none: any release may go")
    bypass = ", ".join(e.urgent_may_bypass) or "none"
    lines.append(f"Urgent changes may go past these failing controls: {bypass}")
    lines.append("Freeze windows:" if e.freeze_windows else "Freeze windows: none")
    lines.extend(f"  {w['name']}: {w['start']} to {w['end']}" for w in e.freeze_windows)
    needs = (
        "their experts must approve it"
        if e.expert_review
        else "expert-review is not required here, so their experts need not approve it"
    )
    lines.append(
        f"High-risk areas (a change touching one is never standard; {needs}):"
        if e.high_risk
        else "High-risk areas: none"
    )
    for area in e.high_risk:
        paths = area["paths"]
        shown = ", ".join(str(p) for p in paths) if isinstance(paths, list) else str(paths)
        lines.append(f"  {area['name']}: {shown} (experts: {area['experts']})")
    lines.append(
        "Standard changes (pre-approved):" if e.standard_changes else "Standard changes: none"
    )
    for kind in e.standard_changes:
        paths = kind["paths"]
        shown = ", ".join(str(p) for p in paths) if isinstance(paths, list) else str(paths)
        lines.append(
            f"  {kind['kind']}: {shown} (at most {kind['max_changed_lines']} changed lines, "
            f"{kind['max_commits']} commits)"
        )
    lines.append(f"Ticket patterns: {e.tickets}")
    lines.append("Custom rules:" if e.rules else "Custom rules: none")
    lines.extend(f"  {r['name']}: {r['expression']} ({r['message']})" for r in e.rules)
    return lines


def _write(path: Path, text: str, *, replace: bool) -> None:
    try:
        with path.open("w" if replace else "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError as e:
        raise UsageError(
            f"{path} already exists; not overwriting it", hint="give another --out, or remove it"
        ) from e
    except OSError as e:
        raise InputError(f"cannot write {path}: {e.strerror}") from e
