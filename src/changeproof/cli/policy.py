"""`changeproof policy …`: the policy file's schema, a starting policy, validation, explanation."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from changeproof.cli.options import Output, OutputOption
from changeproof.cli.render import emit_json, err, out
from changeproof.domain.errors import InputError, UsageError
from changeproof.policy.errors import PolicyError
from changeproof.policy.explain import Explanation, explain
from changeproof.policy.loader import LoadedPolicy, load_policy_file
from changeproof.policy.schema import policy_schema_text
from changeproof.policy.templates import TEMPLATES, template

app = typer.Typer(help="The policy file: schema, templates, validation.", no_args_is_help=True)

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
        if output is Output.json:
            emit_json(
                {
                    "ok": False,
                    "policy": str(policy),
                    "digest": None,
                    "errors": [p.to_data() for p in e.problems],
                }
            )
        else:
            for problem in e.problems:
                err.print(f"error: {problem}", markup=False)
            if e.hint():
                err.print(f"hint: {e.hint()}", markup=False)
        raise typer.Exit(e.exit_code) from None
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
