"""The meaning pass: a policy that fits the schema must also make sense.

Every control id is registered (an unknown control is an error, never a silent pass) and
its parameters fit its model; path globs are well formed and can match; ticket patterns
parse; freeze windows end after they start; every environment named exists; an urgent
change may bypass only controls its environment requires and that are not safety
controls; no control is listed twice in one environment; names are unique; every custom
rule's expression compiles as CEL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Final

from pydantic import ValidationError

from changeproof.policy.builtin import registered_controls
from changeproof.policy.controls.promotion import PROMOTED_FROM
from changeproof.policy.errors import PolicyProblem
from changeproof.policy.globs import glob_problem
from changeproof.policy.model import ControlRef, Environment, Policy
from changeproof.policy.paths import KeyPath, Lines, key_text, locate, pydantic_problem
from changeproof.policy.registry import ControlSpec
from changeproof.policy.rules import compile_problem

__all__ = ["check_meaning", "context_params", "given_params", "ticket_spec_problem"]

TICKET_PRESETS: Final = ("jira", "github", "trac")
_JIRA_KEY: Final = re.compile(r"[A-Z][A-Z0-9_]+")


def context_params(policy: Policy, environment_name: str) -> dict[str, object]:
    """Parameters a control takes from the policy rather than its own entry, when it has them.

    `role` is the environment's deployer_role; `windows` its freeze windows. Must match
    what evaluation gives controls, so what validates here also evaluates there.
    """
    environment = policy.environments[environment_name]
    return {
        "role": environment.deployer_role,
        "windows": [
            {"name": w.name, "start": w.start, "end": w.end}
            for w in policy.freeze_windows
            if environment_name in w.environments
        ],
    }


def given_params(
    ref: ControlRef, spec: ControlSpec, context: Mapping[str, object]
) -> dict[str, object]:
    """A control's parameters as the gate validates them: its own, then the policy's context."""
    given = dict(ref.params)
    for key, value in context.items():
        if key in spec.params.model_fields and key not in given and value is not None:
            given[key] = value
    return given


def ticket_spec_problem(spec: str) -> str | None:
    """Why a ticket spec (`jira:PAY,OPS,github`) is refused; the ingest parser's rules."""
    patterns: list[tuple[str, list[str]]] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        name, colon, first_key = item.partition(":")
        if name in TICKET_PRESETS or colon:
            patterns.append((name, [first_key] if first_key else []))
        elif patterns and _JIRA_KEY.fullmatch(item):
            patterns[-1][1].append(item)
        else:
            return (
                f"{item!r} is neither a preset ({', '.join(TICKET_PRESETS)}) "
                "nor an upper-case Jira project key"
            )
    if not patterns:
        return f"names no ticket pattern; presets: {', '.join(TICKET_PRESETS)}"
    for name, keys in patterns:
        if name not in TICKET_PRESETS:
            return f"unknown ticket preset {name!r}; known: {', '.join(TICKET_PRESETS)}"
        bad = [key for key in keys if not _JIRA_KEY.fullmatch(key)]
        if bad:
            return f"{bad[0]!r} is not a Jira project key (upper case, e.g. PAY)"
        if keys and name != "jira":
            return "only jira takes project keys (jira:PAY,OPS)"
    return None


class _Checker:
    def __init__(self, policy: Policy, data: Mapping[str, object], lines: Lines, source: str):
        self.policy, self.data, self.lines, self.source = policy, data, lines, source
        self.problems: list[PolicyProblem] = []
        self.controls = registered_controls()

    def problem(self, path: KeyPath, message: str) -> None:
        self.problems.append(
            PolicyProblem(self.source, locate(self.lines, path), key_text(path), message)
        )

    def raw(self, path: KeyPath) -> object:
        current: object = self.data
        for part in path:
            if isinstance(current, Mapping) and isinstance(part, str):
                current = current.get(part)
            elif isinstance(current, list) and isinstance(part, int) and part < len(current):
                current = current[part]
            else:
                return None
        return current

    def run(self) -> list[PolicyProblem]:
        p = self.policy
        if (problem := ticket_spec_problem(p.tickets)) is not None:
            self.problem(("tickets",), f"ticket patterns {p.tickets!r}: {problem}")
        for n, area in enumerate(p.high_risk):
            self.globs(("high_risk", n, "paths"), area.paths)
        for n, kind in enumerate(p.standard_changes):
            self.globs(("standard_changes", n, "paths"), kind.paths)
        self.unique(("high_risk",), "name", [a.name for a in p.high_risk])
        self.unique(("standard_changes",), "kind", [k.kind for k in p.standard_changes])
        self.unique(("freeze_windows",), "name", [w.name for w in p.freeze_windows])
        self.unique(("rules",), "name", [r.name for r in p.rules])
        for n, window in enumerate(p.freeze_windows):
            if window.end <= window.start:
                self.problem(
                    ("freeze_windows", n, "end"),
                    f"the window ends ({window.end.isoformat()}) before or when it starts "
                    f"({window.start.isoformat()})",
                )
            self.environments(("freeze_windows", n, "environments"), window.environments)
        for n, rule in enumerate(p.rules):
            self.environments(("rules", n, "environments"), rule.environments)
            if (problem := compile_problem(rule.expression)) is not None:
                self.problem(("rules", n, "expression"), f"rule {rule.name!r}: {problem}")
        for name, environment in p.environments.items():
            self.environment(("environments", name), name, environment)
        return self.problems

    def globs(self, path: KeyPath, patterns: Iterable[str]) -> None:
        for n, pattern in enumerate(patterns):
            if (problem := glob_problem(pattern)) is not None:
                self.problem((*path, n), f"path pattern {pattern!r} can never match: {problem}")

    def unique(self, path: KeyPath, field: str, names: list[str]) -> None:
        counts = Counter(names)
        for n, name in enumerate(names):
            if counts[name] > 1 and names.index(name) != n:
                self.problem((*path, n, field), f"{name!r} is used twice; names must be unique")

    def environments(self, path: KeyPath, names: Iterable[str]) -> None:
        known = ", ".join(self.policy.environments)
        for n, name in enumerate(names):
            if name not in self.policy.environments:
                self.problem(
                    (*path, n), f"no environment {name!r} in this policy (it has: {known})"
                )

    def environment(self, path: KeyPath, name: str, environment: Environment) -> None:
        ids = [ref.id for ref in environment.controls]
        seen: set[str] = set()
        context = context_params(self.policy, name)
        for n, ref in enumerate(environment.controls):
            where = (*path, "controls", n)
            if ref.id in seen:
                self.problem(where, f"control {ref.id!r} is listed twice; list it once")
                continue
            seen.add(ref.id)
            self.control(where, ref, context)
            if ref.id == PROMOTED_FROM:
                self.promotion(where, name, ref)
        for n, control_id in enumerate(environment.urgent_may_bypass):
            where = (*path, "urgent_may_bypass", n)
            spec = self.controls.get(control_id)
            if control_id not in ids:
                self.problem(
                    where,
                    f"{control_id!r} is not a control this environment requires "
                    f"(it requires: {', '.join(dict.fromkeys(ids)) or 'none'})",
                )
            elif spec is not None and spec.safety:
                self.problem(
                    where,
                    f"{control_id!r} is a safety control: an urgent change may never bypass it",
                )

    def promotion(self, where: KeyPath, name: str, ref: ControlRef) -> None:
        """promoted-from names environments this policy has, other than its own."""
        raw = self.raw(where)
        base: KeyPath = (
            (*where, "params")
            if isinstance(raw, Mapping) and "id" in raw
            else (
                *where,
                ref.id,
            )
        )
        earlier = ref.params.get("environments")
        for n, other in enumerate(earlier if isinstance(earlier, list | tuple) else ()):
            at = (*base, "environments", n)
            if other == name:
                self.problem(at, f"{name!r} cannot be promoted from itself")
            elif other not in self.policy.environments:
                known = ", ".join(self.policy.environments)
                self.problem(at, f"no environment {other!r} in this policy (it has: {known})")

    def control(self, where: KeyPath, ref: ControlRef, context: Mapping[str, object]) -> None:
        spec = self.controls.get(ref.id)
        if spec is None:
            known = ", ".join(sorted(self.controls)) or "none"
            self.problem(where, f"unknown control {ref.id!r} (known: {known})")
            return
        raw = self.raw(where)
        if isinstance(raw, Mapping) and "id" in raw:
            base: KeyPath = (*where, "params")
        elif isinstance(raw, Mapping):
            base = (*where, ref.id)  # the short form `- control-id: {params}`
        else:
            base = where
        given = given_params(ref, spec, context)
        try:
            spec.params.model_validate(given)
        except ValidationError as e:
            for error in e.errors():
                found = pydantic_problem(spec.params, given, self.lines, self.source, base, error)
                message = f"control {ref.id!r}: {found.problem}"
                if error["type"] == "missing" and error["loc"] == ("role",):
                    message += " (or set deployer_role on the environment)"
                self.problems.append(PolicyProblem(found.path, found.line, found.key, message))


def check_meaning(
    policy: Policy, data: Mapping[str, object], lines: Lines, source: str
) -> list[PolicyProblem]:
    """Every problem of meaning in a policy that fits the schema; empty when it makes sense."""
    return _Checker(policy, data, lines, source).run()
