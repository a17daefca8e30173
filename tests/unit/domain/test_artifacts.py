"""artifact.recorded through its codec: both shapes the ledger holds, and what it refuses."""

from __future__ import annotations

import pytest

from changeproof.domain.artifacts import Artifact, ArtifactRecorded, Sha256
from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import InputError

ARTIFACT = Artifact("payments", "1.4.0", "payments.tar.gz", 10, Sha256("ab" * 32))
BARE: dict[str, JsonValue] = {
    "service": "payments",
    "version": "1.4.0",
    "name": "payments.tar.gz",
    "size": 10,
    "sha256": "ab" * 32,
}


@pytest.mark.parametrize(
    ("data", "release"),
    [
        (BARE, None),  # written before artifacts were bound to releases: no key at all
        ({**BARE, "release": None}, None),
        ({**BARE, "release": "payments/1.4.0"}, "payments/1.4.0"),
    ],
    ids=["no-key", "null", "bound"],
)
def test_each_shape_decodes_and_encodes_back_to_itself(
    data: dict[str, JsonValue], release: str | None
) -> None:
    recorded = ArtifactRecorded.from_data(data)
    assert recorded.to_data() == data
    assert recorded.bound_release == release
    assert recorded.artifact == ARTIFACT


def test_of_writes_the_release_key_only_when_given_one() -> None:
    assert ArtifactRecorded.of(ARTIFACT).to_data() == BARE
    assert ArtifactRecorded.of(ARTIFACT, None).to_data() == {**BARE, "release": None}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"size": -1}, "size"),
        ({"size": "10"}, "size"),
        ({"size": True}, "size"),
        ({"sha256": "AB" * 32}, "sha256"),
        ({"release": 3}, "release"),
        ({"tool": "x"}, "tool"),
    ],
)
def test_a_body_it_did_not_write_is_an_input_error_naming_the_field(
    change: dict[str, JsonValue], field: str
) -> None:
    with pytest.raises(InputError, match=f"ledger entry 7: ArtifactRecorded field '{field}'"):
        ArtifactRecorded.from_data({**BARE, **change}, where="ledger entry 7")
