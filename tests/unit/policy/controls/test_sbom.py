"""sbom-present and license-allowed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from changeproof.domain.decisions import ControlStatus
from changeproof.policy.controls.sbom import LicenseAllowed, license_allowed, sbom_present
from changeproof.policy.registry import NoParams
from tests.unit.policy.controls.factsbuilder import commit, facts, sbom

C1 = commit("c1")
DENY = LicenseAllowed(deny=["GPL-3.0-only", "AGPL-*"])


def test_an_sbom_is_present_or_the_control_fails() -> None:
    result = sbom_present(facts([C1], [sbom(("requests", "2.32.3", ["Apache-2.0"]))]), NoParams())
    assert result.status is ControlStatus.PASS
    assert result.reason == "1 SBOM recorded (CycloneDX 1.6: 1 component)"
    missing = sbom_present(facts([C1], []), NoParams())
    assert missing.status is ControlStatus.FAIL
    assert missing.reason == "no SBOM is recorded for this release"


def test_a_denied_license_fails_naming_the_component() -> None:
    evidence = sbom(("requests", "2.32.3", ["Apache-2.0"]), ("readline", "8.2", ["GPL-3.0-only"]))
    result = license_allowed(facts([C1], [evidence]), DENY)
    assert result.status is ControlStatus.FAIL
    assert result.reason == "1 component under a denied license: readline 8.2 (GPL-3.0-only)"
    assert ("component", "readline 8.2") in [(e.kind, e.ref) for e in result.evidence]


def test_allowed_licenses_pass() -> None:
    evidence = sbom(("requests", "2.32.3", ["Apache-2.0"]), ("left-pad", None, []))  # type: ignore[arg-type]
    result = license_allowed(facts([C1], [evidence]), DENY)
    assert result.status is ControlStatus.PASS
    assert result.reason == (
        "none of the 2 components carries a denied license (GPL-3.0-only and AGPL-*) "
        "(1 component declares no license)"
    )


@pytest.mark.parametrize(
    ("licenses", "denied"),
    [
        (["MIT OR GPL-3.0-only"], False),  # MIT may be chosen
        (["MIT AND GPL-3.0-only"], True),
        (["(MIT OR GPL-3.0-only) AND AGPL-3.0-or-later"], True),
        (["AGPL-3.0-only"], True),  # by prefix
        (["gpl-3.0-only"], True),  # any case
        (["MIT", "GPL-3.0-only"], True),  # every listed license applies
        (["GPL-2.0-only WITH Classpath-exception-2.0"], False),
        (["GPL-3.0-only OR"], True),  # not an expression: compared word by word
        (["GNU General Public License v3"], False),
    ],
)
def test_license_expressions(licenses: list[str], denied: bool) -> None:
    result = license_allowed(facts([C1], [sbom(("lib", "1.0", licenses))]), DENY)
    assert (result.status is ControlStatus.FAIL) is denied


def test_license_allowed_fails_closed_without_an_sbom_and_needs_a_deny_list() -> None:
    result = license_allowed(facts([C1], []), DENY)
    assert result.status is ControlStatus.FAIL
    assert result.reason == "no SBOM is recorded for this release, so its licenses are unknown"
    with pytest.raises(ValidationError):
        LicenseAllowed(deny=[])
