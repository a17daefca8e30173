"""sbom-present and license-allowed: what the release is made of, and under which licenses.

sbom-present: at least one SBOM evidence is recorded for the release.

license-allowed: an SBOM is recorded, and no component of any SBOM has a license the
policy denies. A component's licenses are read as SPDX expressions: a denied id anywhere
in an `AND` (or in a component's list of licenses, which all apply) makes it denied; under
`OR` it is denied only when every alternative is. A `deny` entry ending in `*` matches ids
by prefix (`GPL-*`); ids compare case-insensitively, `+` and `-or-later` included as
written. A license text that is no SPDX expression is compared whole, then word by word.
Components without a license are not denied; the reason counts them.
"""

from __future__ import annotations

import re
from typing import Final

from pydantic import Field

from changeproof.domain.canonical import JsonValue
from changeproof.domain.decisions import ControlResult, ControlStatus, EvidenceRef
from changeproof.domain.evidence import Component, EvidenceKind
from changeproof.policy.controls.wording import capped, counted, listing
from changeproof.policy.facts import Facts
from changeproof.policy.registry import NoParams, Params, control

__all__ = ["LICENSE_ALLOWED", "SBOM_PRESENT", "LicenseAllowed", "license_allowed", "sbom_present"]

SBOM_PRESENT: Final = "sbom-present"
LICENSE_ALLOWED: Final = "license-allowed"

_TOKEN: Final = re.compile(r"\(|\)|[^\s()]+")


class LicenseAllowed(Params):
    deny: list[str] = Field(
        min_length=1,
        description="SPDX license ids no component may carry; a trailing '*' matches a prefix.",
    )


def _sbom_refs(facts: Facts) -> tuple[EvidenceRef, ...]:
    return tuple(
        EvidenceRef(
            EvidenceKind.SBOM.value,
            str(e.seq),
            f"{e.summary.format or 'SBOM'} {e.summary.spec_version or '(version not given)'}: "
            f"{counted(e.summary.components, 'component')}",
        )
        for e in facts.sboms()
    )


@control(SBOM_PRESENT, params=NoParams, summary="an SBOM is recorded for the release")
def sbom_present(facts: Facts, params: NoParams) -> ControlResult:
    refs = _sbom_refs(facts)
    if not refs:
        return ControlResult(
            SBOM_PRESENT,
            ControlStatus.FAIL,
            "no SBOM is recorded for this release",
            (),
            {"sboms": 0},
        )
    notes = listing([r.note or "" for r in refs])
    return ControlResult(
        SBOM_PRESENT,
        ControlStatus.PASS,
        f"{counted(len(refs), 'SBOM')} recorded ({notes})",
        refs,
        {"sboms": len(refs)},
    )


class _Denied:
    """Whether a license text names a denied id, per the rule in the module docstring."""

    def __init__(self, deny: list[str]) -> None:
        self._exact = {d.strip().lower() for d in deny if not d.strip().endswith("*")}
        self._prefixes = tuple(d.strip().lower()[:-1] for d in deny if d.strip().endswith("*"))

    def id(self, license_id: str) -> bool:
        lowered = license_id.lower()
        return lowered in self._exact or any(lowered.startswith(p) for p in self._prefixes)

    def text(self, text: str) -> bool:
        tokens = _TOKEN.findall(text)
        try:
            denied, rest = self._or(tokens)
        except (IndexError, ValueError):
            denied, rest = None, ["?"]
        if denied is not None and not rest:
            return denied
        # Not an SPDX expression: a license name, compared whole and word by word.
        return self.id(text.strip()) or any(self.id(t) for t in tokens)

    def _or(self, tokens: list[str]) -> tuple[bool, list[str]]:
        denied, tokens = self._and(tokens)
        while tokens and tokens[0].upper() == "OR":
            right, tokens = self._and(tokens[1:])
            denied = denied and right
        return denied, tokens

    def _and(self, tokens: list[str]) -> tuple[bool, list[str]]:
        denied, tokens = self._atom(tokens)
        while tokens and tokens[0].upper() == "AND":
            right, tokens = self._atom(tokens[1:])
            denied = denied or right
        return denied, tokens

    def _atom(self, tokens: list[str]) -> tuple[bool, list[str]]:
        head, tokens = tokens[0], tokens[1:]
        if head == "(":
            denied, tokens = self._or(tokens)
            if not tokens or tokens[0] != ")":
                raise ValueError("unbalanced parenthesis")
            return denied, tokens[1:]
        if head == ")" or head.upper() in ("AND", "OR", "WITH"):
            raise ValueError(f"unexpected {head}")
        denied = self.id(head)
        if tokens and tokens[0].upper() == "WITH":
            exception, tokens = tokens[1], tokens[2:]
            denied = denied or self.id(exception)
        return denied, tokens


def _components(facts: Facts) -> list[tuple[int, Component]]:
    return [(e.seq, c) for e in facts.sboms() for c in e.detail.components]


def _label(component: Component) -> str:
    version = component.version
    return f"{component.name} {version}" if version else component.name


@control(
    LICENSE_ALLOWED,
    params=LicenseAllowed,
    summary="an SBOM is recorded and none of its components carries a denied license",
)
def license_allowed(facts: Facts, params: LicenseAllowed) -> ControlResult:
    """No component of any recorded SBOM under a denied license."""
    refs = _sbom_refs(facts)
    denied = _Denied(params.deny)
    components = _components(facts)
    offenders: list[tuple[int, str, list[str]]] = []
    unlicensed = 0
    for seq, component in components:
        licenses = component.licenses
        if not licenses:
            unlicensed += 1
            continue
        bad = [text for text in licenses if denied.text(text)]
        if bad:
            offenders.append((seq, _label(component), bad))
    facts_out: dict[str, JsonValue] = {
        "sboms": len(refs),
        "components": len(components),
        "denied": len(offenders),
        "without_license": unlicensed,
    }
    if not refs:
        return ControlResult(
            LICENSE_ALLOWED,
            ControlStatus.FAIL,
            "no SBOM is recorded for this release, so its licenses are unknown",
            (),
            facts_out,
        )
    unknown = (
        f" ({counted(unlicensed, 'component')} declare{'s' if unlicensed == 1 else ''} no license)"
        if unlicensed
        else ""
    )
    if offenders:
        named = [f"{label} ({', '.join(bad)})" for _, label, bad in offenders]
        return ControlResult(
            LICENSE_ALLOWED,
            ControlStatus.FAIL,
            f"{counted(len(offenders), 'component')} under a denied license: "
            f"{listing(named)}{unknown}",
            capped(
                (
                    *refs,
                    *(
                        EvidenceRef("component", label, f"{', '.join(bad)} (SBOM {seq})")
                        for seq, label, bad in offenders
                    ),
                )
            ),
            facts_out,
        )
    return ControlResult(
        LICENSE_ALLOWED,
        ControlStatus.PASS,
        f"none of the {counted(len(components), 'component')} carries a denied license "
        f"({listing(params.deny)}){unknown}",
        refs,
        facts_out,
    )
