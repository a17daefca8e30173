"""Artifacts: files identified by name and SHA-256, and the event that records them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, ClassVar, Final, NewType

from pydantic import MISSING, Field, StrictInt

from changeproof.domain.payloads import Document, EventPayload

__all__ = ["ARTIFACT_RECORDED", "Artifact", "ArtifactRecorded", "Sha256"]

Sha256 = NewType("Sha256", str)
ARTIFACT_RECORDED: Final = "artifact.recorded"
_SHA256_PATTERN: Final = "^[0-9a-f]{64}$"
_SHA256 = re.compile(_SHA256_PATTERN)


@dataclass(frozen=True, slots=True)
class Artifact(Document):
    service: str
    version: str | None
    name: str
    size: Annotated[StrictInt, Field(ge=0)]
    sha256: Annotated[Sha256, Field(pattern=_SHA256_PATTERN)]

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"{self.sha256!r} is not a lowercase hex SHA-256 digest")
        if self.size < 0:
            raise ValueError("an artifact's size cannot be negative")


@dataclass(frozen=True, slots=True)
class ArtifactRecorded(EventPayload):
    """A file by name, size and SHA-256, and the release it was recorded for
    (`attest artifact --release`); entries from before releases have no `release` key."""

    TYPE: ClassVar[str] = ARTIFACT_RECORDED

    service: str
    version: str | None
    name: str
    size: Annotated[StrictInt, Field(ge=0)]
    sha256: Annotated[Sha256, Field(pattern=_SHA256_PATTERN)]
    # null: bound to no release. Entries written before artifacts could be bound to a
    # release have no such key, and must read back without one.
    release: str | MISSING | None = MISSING

    @classmethod
    def of(cls, artifact: Artifact, release: str | MISSING | None = MISSING) -> ArtifactRecorded:
        a = artifact
        return cls(a.service, a.version, a.name, a.size, a.sha256, release)

    @property
    def artifact(self) -> Artifact:
        return Artifact(self.service, self.version, self.name, self.size, self.sha256)

    @property
    def bound_release(self) -> str | None:
        """The release it was recorded for, or None (also for entries without the key)."""
        return None if self.release is MISSING else self.release
