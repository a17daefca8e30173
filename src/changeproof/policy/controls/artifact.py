"""artifact-integrity: what is deployed is what was recorded and built by a trusted builder.

Rule: the artifacts to check are the one asked for (`Facts.artifact`), else every artifact
recorded for the release; there must be at least one, and each must be recorded for this
release (by sha256). With `require_provenance`, each must also be a subject (by sha256) of
some provenance evidence whose signature did not fail verification, that names a builder
and, when `trusted_builders` is given, whose builder id starts with one of them: provenance
that names no builder vouches for nothing (who built it is the point of provenance).
"""

from __future__ import annotations

from typing import Final

from pydantic import Field

from changeproof.domain.canonical import JsonValue
from changeproof.domain.decisions import ControlResult, ControlStatus, EvidenceRef
from changeproof.domain.evidence import EvidenceKind
from changeproof.domain.evidence_documents import ProvenanceDetail, ProvenanceSummary
from changeproof.policy.controls.wording import counted, listing
from changeproof.policy.facts import EvidenceFact, Facts
from changeproof.policy.registry import Params, control

__all__ = ["ID", "ArtifactIntegrity", "artifact_integrity"]

ID: Final = "artifact-integrity"

_Provenance = EvidenceFact[ProvenanceSummary, ProvenanceDetail]


class ArtifactIntegrity(Params):
    require_provenance: bool = Field(
        default=True, description="Each artifact must be a subject of build provenance."
    )
    trusted_builders: list[str] = Field(
        default_factory=list,
        description="Builder ids (prefixes) provenance must name; empty: any builder.",
    )


def _digest(text: str) -> str:
    lowered = text.strip().lower()
    return lowered.removeprefix("sha256:")


def _subjects(e: _Provenance) -> set[str]:
    # A subject may be digested by other algorithms only: it names no sha256.
    return {_digest(s.digest["sha256"]) for s in e.summary.subjects if "sha256" in s.digest}


def _builder(e: _Provenance) -> str | None:
    """The builder id a provenance names; None when it names none (or only blanks)."""
    builder = e.summary.builder
    return builder if builder is not None and builder.strip() else None


def _provenance_problem(
    digest: str, provenance: tuple[_Provenance, ...], trusted: list[str]
) -> tuple[str, _Provenance | None]:
    """Why no provenance vouches for `digest` (empty when one does), and which one does."""
    naming = [e for e in provenance if digest in _subjects(e)]
    if not naming:
        return "no provenance names it as a subject", None
    why: list[str] = []
    for e in naming:
        builder = _builder(e)
        if e.summary.signature_verified is False:
            why.append(f"provenance {e.seq}'s signature did not verify")
        elif builder is None:
            why.append(f"provenance {e.seq} names no builder")
        elif trusted and not any(builder.startswith(t) for t in trusted):
            why.append(f"provenance {e.seq} names builder {builder}, not a trusted one")
        else:
            return "", e
    return "; ".join(why), None


@control(
    ID,
    params=ArtifactIntegrity,
    summary="the artifact to deploy was recorded for this release, and its provenance "
    "names it and a trusted builder",
)
def artifact_integrity(facts: Facts, params: ArtifactIntegrity) -> ControlResult:
    """Each artifact to deploy is recorded for the release and, when required, vouched for."""
    recorded = {_digest(a.sha256): a for a in facts.artifacts}
    wanted = [_digest(facts.artifact)] if facts.artifact is not None else list(recorded)
    provenance = facts.provenance()
    trusted = [t.strip() for t in params.trusted_builders if t.strip()]
    problems: list[str] = []
    vouched: list[str] = []
    vouching: list[_Provenance] = []
    refs: list[EvidenceRef] = []
    for digest in wanted:
        artifact = recorded.get(digest)
        label = f"sha256:{digest}" if artifact is None else f"{artifact.name} (sha256:{digest})"
        refs.append(EvidenceRef("artifact", digest, artifact.name if artifact else None))
        if artifact is None:
            problems.append(f"artifact sha256:{digest} was not recorded for this release")
            continue
        if not params.require_provenance:
            continue
        why, found = _provenance_problem(digest, provenance, trusted)
        if found is None:
            problems.append(f"{label}: {why}")
        else:
            builder = _builder(found)  # never None: a provenance naming none vouches for nothing
            refs.append(
                EvidenceRef(EvidenceKind.PROVENANCE.value, str(found.seq), f"builder {builder}")
            )
            vouched.append(f"{label} built by {builder}")
            vouching.append(found)
    facts_out: dict[str, JsonValue] = {
        "artifacts": len(wanted),
        "recorded": sum(1 for d in wanted if d in recorded),
        "with_provenance": len(vouched),
        "provenance": len(provenance),
        # True when every provenance vouching for an artifact had its signature checked.
        "signature_verified": bool(vouching)
        and all(e.summary.signature_verified is True for e in vouching),
    }
    if not wanted:
        problems.append("no artifact is recorded for this release")
    if problems:
        return ControlResult(ID, ControlStatus.FAIL, "; ".join(problems), tuple(refs), facts_out)
    if params.require_provenance:
        reason = listing(vouched, "; ", "; ")
    else:
        names = listing([f"{recorded[d].name} (sha256:{d})" for d in wanted])
        reason = (
            f"{counted(len(wanted), 'artifact')} recorded for this release: {names} "
            "(provenance not required)"
        )
    return ControlResult(ID, ControlStatus.PASS, reason, tuple(refs), facts_out)
