"""deployer-role and deployer-not-author: separation of duties at deployment.

deployer-role: the deployer (`Facts.deployer`) resolves to a known actor holding `role`
(the gate passes the environment's `deployer_role` when the control names none).

deployer-not-author: the deployer is neither author, committer nor co-author of any commit
of the release, merge commits included (a merge can carry changes of its own). Identities
are compared as `people` describes; one that cannot be told apart fails closed.

Both are safety controls: an urgent change never goes past them.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field

from changeproof.domain.decisions import ControlResult, ControlStatus, EvidenceRef
from changeproof.policy.controls.people import (
    Sameness,
    people_of,
    unknown_because,
    writers,
)
from changeproof.policy.controls.wording import capped, commit_label, counted, listing
from changeproof.policy.facts import Facts
from changeproof.policy.model import RoleName
from changeproof.policy.registry import NoParams, Params, control

__all__ = [
    "DEPLOYER_NOT_AUTHOR",
    "DEPLOYER_ROLE",
    "DeployerRole",
    "deployer_not_author",
    "deployer_role",
]

DEPLOYER_ROLE: Final = "deployer-role"
DEPLOYER_NOT_AUTHOR: Final = "deployer-not-author"
_NO_DEPLOYER: Final = "no deployer was named (give --deployer)"


class DeployerRole(Params):
    role: RoleName = Field(description="The role the deploying actor must hold.")


@control(
    DEPLOYER_ROLE,
    params=DeployerRole,
    summary="the deployer is a known actor holding the required role",
    safety=True,
)
def deployer_role(facts: Facts, params: DeployerRole) -> ControlResult:
    if facts.deployer is None:
        return ControlResult(DEPLOYER_ROLE, ControlStatus.FAIL, _NO_DEPLOYER, (), {"known": False})
    actor = people_of(facts).identity(facts.deployer).actor
    if actor is None:
        return ControlResult(
            DEPLOYER_ROLE,
            ControlStatus.FAIL,
            f"deployer {facts.deployer} is not a known actor, so cannot hold the role "
            f"{params.role}",
            (EvidenceRef("actor", facts.deployer, "unknown"),),
            {"known": False, "has_role": False},
        )
    ref = (EvidenceRef("actor", actor.name, f"roles: {', '.join(sorted(actor.roles)) or 'none'}"),)
    if params.role not in actor.roles:
        holds = listing(sorted(actor.roles)) or "no role"
        return ControlResult(
            DEPLOYER_ROLE,
            ControlStatus.FAIL,
            f"deployer {actor.name} does not hold the role {params.role} (holds: {holds})",
            ref,
            {"known": True, "has_role": False},
        )
    return ControlResult(
        DEPLOYER_ROLE,
        ControlStatus.PASS,
        f"deployer {actor.name} holds the role {params.role}",
        ref,
        {"known": True, "has_role": True},
    )


@control(
    DEPLOYER_NOT_AUTHOR,
    params=NoParams,
    summary="the deployer wrote (authored, committed or co-authored) none of the release's commits",
    safety=True,
)
def deployer_not_author(facts: Facts, params: NoParams) -> ControlResult:
    if facts.deployer is None:
        return ControlResult(DEPLOYER_NOT_AUTHOR, ControlStatus.FAIL, _NO_DEPLOYER, (), {})
    people = people_of(facts)
    deployer = people.identity(facts.deployer)
    # (position, the words for it, its reference), gathered by writers, then in commit order.
    wrote: list[tuple[int, str, EvidenceRef]] = []
    unclear: list[tuple[int, str, EvidenceRef]] = []
    # Commits by the same writers get the same answer; a release has few distinct ones.
    for at in facts.by_writers.values():
        resolved = [(w, people.writer(w)) for w in writers(facts.commits[at[0]])]
        same = [w for w, who in resolved if people.same(deployer, who) is Sameness.SAME]
        unknown = [
            (w, who) for w, who in resolved if people.same(deployer, who) is Sameness.UNKNOWN
        ]
        if same:
            roles = listing([w.role for w in same])
            for i in at:
                commit = facts.commits[i]
                ref = EvidenceRef("commit", commit.sha, f"deployer is its {roles}")
                wrote.append((i, f"{commit_label(commit)} ({roles})", ref))
        elif unknown:
            writer, who = unknown[0]
            because = unknown_because(deployer, who)
            for i in at:
                commit = facts.commits[i]
                ref = EvidenceRef("commit", commit.sha, f"{writer.role} not told apart")
                words = f"{commit_label(commit)} (its {writer.role} {writer.email}: {because})"
                unclear.append((i, words, ref))
    wrote.sort(key=lambda found: found[0])
    unclear.sort(key=lambda found: found[0])
    refs = [
        EvidenceRef("actor", deployer.label, None if deployer.actor else "unknown"),
        *(ref for _, _, ref in sorted((*wrote, *unclear), key=lambda found: found[0])),
    ]
    facts_out = {
        "commits": len(facts.commits),
        "authored": len(wrote),
        "unresolved": len(unclear),
    }
    problems = []
    if wrote:
        problems.append(
            f"deployer {deployer.label} wrote {counted(len(wrote), 'commit')} of this release: "
            f"{listing([words for _, words, _ in wrote])}"
        )
    if unclear:
        problems.append(
            f"deployer {deployer.label} cannot be told apart from the writer of "
            f"{counted(len(unclear), 'commit')}: "
            f"{listing([words for _, words, _ in unclear], '; ', '; ')}"
        )
    if problems:
        return ControlResult(
            DEPLOYER_NOT_AUTHOR, ControlStatus.FAIL, "; ".join(problems), capped(refs), facts_out
        )
    return ControlResult(
        DEPLOYER_NOT_AUTHOR,
        ControlStatus.PASS,
        f"deployer {deployer.label} did not write the release's only commit"
        if len(facts.commits) == 1
        else f"deployer {deployer.label} wrote none of the {counted(len(facts.commits), 'commit')}",
        tuple(refs),
        facts_out,
    )
