"""expert-review: a designated expert approved every change to a high-risk path.

Rule: for each high-risk glob (the policy's `high_risk` areas, given as
`Facts.high_risk_groups`: glob -> expert groups) that a changed path matches (a renamed-from
path counts), and for each expert group of that glob, some member of the group (an actor
holding it in `Actor.groups`) has a standing approval (see `reviews`) of a SHA at or after
the last commit touching the glob, and is not an author, committer or co-author of any
commit touching it (nor one who cannot be told apart from them). This is in addition to
`independent-review`, not instead of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from changeproof.domain.decisions import ControlResult, ControlStatus, EvidenceRef
from changeproof.domain.releases import Commit
from changeproof.policy.controls.people import People, Who, Writer, people_of
from changeproof.policy.controls.reviews import (
    Latest,
    independence,
    review_refs,
    standing,
    why_not,
    writers_of,
)
from changeproof.policy.controls.wording import capped, commit_label, counted, listing
from changeproof.policy.facts import Facts
from changeproof.policy.globs import glob_problem, matches
from changeproof.policy.registry import NoParams, control

__all__ = ["ID", "expert_review"]

ID: Final = "expert-review"


@dataclass(frozen=True, slots=True)
class _Area:
    glob: str
    paths: tuple[str, ...]  # changed paths it matches
    last: int  # position of the last commit touching it
    commit: Commit  # that commit
    writers: tuple[tuple[Writer, Who], ...]  # of every commit touching it


def _areas(facts: Facts, people: People) -> list[_Area]:
    found = []
    for glob in facts.high_risk_groups:
        # Each distinct path once, not once per commit touching it.
        touched = tuple(p for p in facts.paths() if matches(glob, p))
        if not touched:
            continue
        touching = sorted({i for p in touched for i in facts.touching[p]})
        writers: dict[str, tuple[Writer, Who]] = {}
        for i in touching:
            for writer, who in writers_of(facts.commits[i], people):
                writers.setdefault(writer.email.lower(), (writer, who))
        last = touching[-1]
        found.append(_Area(glob, touched, last, facts.commits[last], tuple(writers.values())))
    return found


def _why_not(latest: Latest, group: str, area: _Area) -> str:
    actor = latest.who.actor
    if actor is None or group not in actor.groups:
        if not latest.covers(area.last):
            return ""  # neither an expert nor an approval of it: not worth a word
        if actor is None:
            return (
                f"{latest.who.label} approved it but maps to no actor, "
                f"so is not known to be in {group}"
            )
        return f"{latest.who.label} approved it but is not in {group}"
    return why_not(latest, area.last, area.writers)


@control(
    ID,
    params=NoParams,
    summary=(
        "a member of the expert group of each changed high-risk path approved the last "
        "commit touching it and wrote none of the commits touching it"
    ),
)
def expert_review(facts: Facts, params: NoParams) -> ControlResult:
    """Each high-risk path changed is approved by a member of its expert group."""
    if not facts.high_risk_groups:
        return ControlResult(
            ID, ControlStatus.NOT_APPLICABLE, "the policy declares no high-risk paths", (), {}
        )
    refused = [(g, p) for g in facts.high_risk_groups if (p := glob_problem(g)) is not None]
    if refused:
        glob, problem = refused[0]
        return ControlResult(
            ID, ControlStatus.FAIL, f"cannot evaluate: high-risk path {glob!r}: {problem}", (), {}
        )
    people = people_of(facts)
    areas = _areas(facts, people)
    if not areas:
        globs = listing(sorted(facts.high_risk_groups))
        return ControlResult(
            ID,
            ControlStatus.NOT_APPLICABLE,
            f"no changed path is high-risk ({globs})",
            (),
            {"high_risk_paths": 0, "areas": 0, "unapproved": 0},
        )
    latest = standing(facts)
    approved: list[str] = []
    missing: list[str] = []
    refs: list[EvidenceRef] = []
    for area in areas:
        groups = tuple(dict.fromkeys(facts.high_risk_groups[area.glob]))
        refs.extend(
            EvidenceRef("path", p, f"high-risk ({area.glob}), experts: {', '.join(groups)}")
            for p in area.paths
        )
        where = area.paths[0] + (
            f" and {counted(len(area.paths) - 1, 'other path')}" if len(area.paths) > 1 else ""
        )
        for group in groups:
            experts = [
                r.who.label
                for r in latest
                if r.who.actor is not None
                and group in r.who.actor.groups
                and r.covers(area.last)
                and not independence(r.who, area.writers, "approved it", people)
            ]
            if experts:
                approved.append(f"{where} ({group}) approved by {listing(experts)}")
                continue
            why = [w for w in (_why_not(r, group, area) for r in latest) if w]
            missing.append(
                f"{where} changed (high-risk: {area.glob}) without an approval by a member of "
                f"{group} of {commit_label(area.commit)} or later"
                + (f" ({'; '.join(why)})" if why else f" (no member of {group} approved it)")
            )
    facts_out = {
        "high_risk_paths": len({p for a in areas for p in a.paths}),
        "areas": len(approved) + len(missing),
        "unapproved": len(missing),
    }
    evidence = capped(refs, review_refs(facts))
    if missing:
        return ControlResult(
            ID, ControlStatus.FAIL, listing(missing, "; ", "; "), evidence, facts_out
        )
    return ControlResult(ID, ControlStatus.PASS, listing(approved, "; ", "; "), evidence, facts_out)
