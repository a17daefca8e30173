"""Attestation use cases: recording evidence about what was built."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from changeproof.domain.artifacts import ARTIFACT_RECORDED, Artifact, Sha256
from changeproof.domain.clock import Clock
from changeproof.domain.errors import InputError, UsageError
from changeproof.domain.events import ActorId, Event
from changeproof.store.unit_of_work import UnitOfWork

__all__ = ["AttestService", "RecordedArtifact"]

_NAME_LIMIT: Final = 200
_CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class RecordedArtifact:
    seq: int
    artifact: Artifact
    actor: str
    recorded_at: str


class AttestService:
    def __init__(self, unit_of_work: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock

    def artifacts(
        self, paths: Sequence[Path], *, service: str, version: str | None, actor: str
    ) -> list[RecordedArtifact]:
        """Hash every file first, then record them all in one transaction: all or nothing."""
        _check_name("service", service)
        _check_name("actor", actor)
        if version is not None:
            _check_name("version", version)
        if not paths:
            raise UsageError("give at least one artifact file")
        found = [_digest(path, service, version) for path in paths]
        now = self._clock.now()
        with self._unit_of_work() as uow:
            for artifact in found:
                uow.record(Event(ARTIFACT_RECORDED, ActorId(actor), now, artifact.to_data()))
        return [
            RecordedArtifact(entry.seq, artifact, actor, entry.time.isoformat())
            for entry, artifact in zip(uow.recorded, found, strict=True)
        ]


def _check_name(what: str, value: str) -> None:
    if not value.strip():
        raise UsageError(f"{what} must not be empty")
    if len(value) > _NAME_LIMIT:
        raise UsageError(f"{what} is longer than {_NAME_LIMIT} characters")
    if any(ord(ch) < 0x20 for ch in value):
        raise UsageError(f"{what} must not contain control characters")


def _digest(path: Path, service: str, version: str | None) -> Artifact:
    """SHA-256 of a file, streamed: memory stays flat for multi-gigabyte artifacts."""
    try:
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256")
            size = handle.tell()
    except IsADirectoryError as e:
        raise InputError(f"{path} is a directory, not an artifact file") from e
    except FileNotFoundError as e:
        raise InputError(f"artifact {path} does not exist") from e
    except OSError as e:
        raise InputError(f"cannot read artifact {path}: {e.strerror}") from e
    return Artifact(service, version, path.name, size, Sha256(digest.hexdigest()))
