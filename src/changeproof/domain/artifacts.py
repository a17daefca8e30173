"""Artifacts: files identified by name and SHA-256, and the event that records them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, NewType

from changeproof.domain.canonical import JsonValue

__all__ = ["ARTIFACT_RECORDED", "Artifact", "Sha256", "artifact_from_data"]

Sha256 = NewType("Sha256", str)
ARTIFACT_RECORDED: Final = "artifact.recorded"
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Artifact:
    service: str
    version: str | None
    name: str
    size: int
    sha256: Sha256

    def __post_init__(self) -> None:
        if not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"{self.sha256!r} is not a lowercase hex SHA-256 digest")
        if self.size < 0:
            raise ValueError("an artifact's size cannot be negative")

    def to_data(self) -> dict[str, JsonValue]:
        return {
            "service": self.service,
            "version": self.version,
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
        }


def artifact_from_data(data: dict[str, JsonValue]) -> Artifact:
    service, version, name, size, digest = (
        data.get(key) for key in ("service", "version", "name", "size", "sha256")
    )
    if not (isinstance(service, str) and isinstance(name, str) and isinstance(digest, str)):
        raise ValueError("artifact data needs string service, name and sha256")
    if version is not None and not isinstance(version, str):
        raise ValueError("artifact version must be a string or null")
    if not isinstance(size, int) or isinstance(size, bool):
        raise ValueError("artifact size must be an integer")
    return Artifact(service, version, name, size, Sha256(digest))
