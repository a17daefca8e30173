"""artifact-integrity: the artifact is the release's own and a trusted builder vouches for it."""

from __future__ import annotations

import dataclasses

from changeproof.domain.decisions import ControlStatus
from changeproof.policy.controls.artifact import ArtifactIntegrity, artifact_integrity
from tests.unit.policy.controls.factsbuilder import artifact, commit, digest, facts, provenance

C1 = commit("c1")
APP = digest("app")
RUNNER = "https://github.com/actions/runner/github-hosted"


def test_an_artifact_with_provenance_naming_it_passes() -> None:
    evidence = facts([C1], [provenance(APP)], artifacts=[artifact("app.tar.gz", APP)])
    result = artifact_integrity(evidence, ArtifactIntegrity(trusted_builders=[RUNNER]))
    assert result.status is ControlStatus.PASS
    assert result.reason == f"app.tar.gz (sha256:{APP}) built by {RUNNER}"
    assert result.facts["signature_verified"] is True


def test_an_artifact_without_provenance_fails_naming_its_digest() -> None:
    evidence = facts([C1], [], artifacts=[artifact("app.tar.gz", APP)])
    result = artifact_integrity(evidence, ArtifactIntegrity())
    assert result.status is ControlStatus.FAIL
    assert result.reason == f"app.tar.gz (sha256:{APP}): no provenance names it as a subject"
    relaxed = artifact_integrity(evidence, ArtifactIntegrity(require_provenance=False))
    assert relaxed.status is ControlStatus.PASS
    assert relaxed.reason.endswith("(provenance not required)")


def test_provenance_of_another_digest_does_not_count() -> None:
    evidence = facts([C1], [provenance(digest("other"))], artifacts=[artifact("app", APP)])
    assert artifact_integrity(evidence, ArtifactIntegrity()).status is ControlStatus.FAIL


def test_an_untrusted_builder_fails() -> None:
    evidence = facts(
        [C1],
        [provenance(APP, builder="https://laptop.example/me")],
        artifacts=[artifact("app", APP)],
    )
    result = artifact_integrity(evidence, ArtifactIntegrity(trusted_builders=[RUNNER]))
    assert result.status is ControlStatus.FAIL
    assert result.reason == (
        f"app (sha256:{APP}): provenance 10 names builder https://laptop.example/me, "
        "not a trusted one"
    )


def test_provenance_whose_signature_failed_does_not_count() -> None:
    evidence = facts(
        [C1], [provenance(APP, signature_verified=False)], artifacts=[artifact("app", APP)]
    )
    result = artifact_integrity(evidence, ArtifactIntegrity())
    assert result.reason == f"app (sha256:{APP}): provenance 10's signature did not verify"


def test_the_artifact_asked_for_must_be_recorded_for_this_release() -> None:
    other = digest("other")
    evidence = facts(
        [C1],
        [provenance(APP, other)],
        artifacts=[artifact("app", APP)],
        artifact=f"sha256:{other.upper()}",
    )
    result = artifact_integrity(evidence, ArtifactIntegrity())
    assert result.status is ControlStatus.FAIL
    assert result.reason == f"artifact sha256:{other} was not recorded for this release"
    asked = facts([C1], [provenance(APP)], artifacts=[artifact("app", APP)], artifact=APP)
    assert artifact_integrity(asked, ArtifactIntegrity()).status is ControlStatus.PASS


def test_no_artifact_at_all_fails_closed() -> None:
    result = artifact_integrity(facts([C1], []), ArtifactIntegrity())
    assert result.status is ControlStatus.FAIL
    assert result.reason == "no artifact is recorded for this release"


def test_provenance_naming_no_builder_does_not_count() -> None:
    for builder in (None, "", "  "):
        made = provenance(APP)
        named = dataclasses.replace(
            made, summary=dataclasses.replace(made.summary, builder=builder)
        )
        result = artifact_integrity(
            facts(artifacts=[artifact("app.tar.gz", APP)], evidence=[named]), ArtifactIntegrity()
        )
        assert result.status is ControlStatus.FAIL
        assert result.reason == f"app.tar.gz (sha256:{APP}): provenance 10 names no builder"
        assert "None" not in result.reason
