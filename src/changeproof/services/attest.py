"""Attestation use cases: recording evidence about what was built."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from changeproof.domain.artifacts import Artifact, ArtifactRecorded, Sha256
from changeproof.domain.canonical import JsonValue
from changeproof.domain.clock import Clock
from changeproof.domain.errors import Field, InputError, NotFoundError, UsageError, operation
from changeproof.domain.events import Event, format_time
from changeproof.domain.releases import ReleaseRef
from changeproof.services.files import open_input
from changeproof.store import releases as queries
from changeproof.store.unit_of_work import UnitOfWork

__all__ = ["ArtifactClaim", "AttestService", "RecordedArtifact"]

_NAME_LIMIT: Final = 200
_CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class ArtifactClaim:
    """An artifact as its builder describes it: a base name, its SHA-256 and its size."""

    name: str
    sha256: Sha256
    size: int


@dataclass(frozen=True, slots=True)
class RecordedArtifact:
    seq: int
    artifact: Artifact
    actor: str
    recorded_at: str
    release: str | None = None
    recorded: bool = True  # False: already recorded for this release (at `seq`)

    def document(self) -> dict[str, JsonValue]:
        """What `attest artifact` prints with JSON output and the API answers."""
        return {
            "kind": "artifact",
            "seq": self.seq,
            "recorded": self.recorded,
            "sha256": self.artifact.sha256,
            **self.artifact.to_data(),
            "release": self.release,
            "actor": self.actor,
            "recorded_at": self.recorded_at,
        }


class AttestService:
    def __init__(self, unit_of_work: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock

    def artifacts(
        self,
        paths: Sequence[Path],
        *,
        service: str | None,
        version: str | None,
        actor: str,
        release: ReleaseRef | None = None,
    ) -> list[RecordedArtifact]:
        """Hash every file first, then record them all in one transaction: all or nothing.

        Bound to a release, an artifact already recorded for it is not recorded again.
        """
        service = _service_of(service, release)
        _check_name("actor", actor)
        if version is not None:
            _check_name("version", version)
        if not paths:
            raise UsageError("give at least one artifact file")
        found = [_digest(path, service, version) for path in paths]
        return self._record(found, actor, release)

    def claimed(
        self,
        claims: Sequence[ArtifactClaim],
        *,
        release: ReleaseRef,
        version: str | None,
        actor: str,
    ) -> list[RecordedArtifact]:
        """Artifacts hashed where they were built, by the name, digest and size given (an
        API client's); recorded as `artifacts` records files, all or nothing."""
        service = _service_of(None, release)
        _check_name("actor", actor)
        if version is not None:
            _check_name("version", version)
        if not claims:
            raise UsageError("give at least one artifact")
        found = []
        for claim in claims:
            _check_name("artifact name", claim.name)
            if "/" in claim.name or "\\" in claim.name or claim.name in {".", ".."}:
                raise InputError(f"artifact name {claim.name!r} is not a base name")
            try:
                found.append(Artifact(service, version, claim.name, claim.size, claim.sha256))
            except ValueError as e:
                raise InputError(f"artifact {claim.name!r}: {e}") from e
        return self._record(found, actor, release)

    def _record(
        self, found: list[Artifact], actor: str, release: ReleaseRef | None
    ) -> list[RecordedArtifact]:
        now = self._clock.now()
        bound = None if release is None else str(release)
        results: list[RecordedArtifact] = []
        with self._unit_of_work() as uow:
            known: dict[str, queries.ArtifactRow | None] = {}
            if release is not None:
                if queries.find_release(uow.conn, release) is None:
                    raise NotFoundError(
                        f"no release {release}", hint=f"run {operation('release create')}"
                    )
                digests = [a.sha256 for a in found]
                known = {
                    row.sha256: row
                    for row in queries.artifacts_with_digests(uow.conn, digests)
                    if row.release == bound
                }
            for artifact in found:
                if artifact.sha256 in known:
                    # Already there: say who recorded it and when, not who asked again.
                    row = known[artifact.sha256]
                    seq, by, at = (
                        (-1, actor, "") if row is None else (row.seq, row.actor, row.recorded_at)
                    )
                    results.append(RecordedArtifact(seq, artifact, by, at, bound, False))
                    continue
                uow.record(Event.of(ArtifactRecorded.of(artifact, bound), actor, now))
                known[artifact.sha256] = None
                results.append(RecordedArtifact(-1, artifact, actor, format_time(now), bound))
        fresh = iter(uow.recorded)
        return [r if not r.recorded else replace(r, seq=next(fresh).seq) for r in results]


def _service_of(service: str | None, release: ReleaseRef | None) -> str:
    if release is not None:
        if service is not None and service != release.service:
            raise UsageError(f"{Field('service')} {service} contradicts release {release}")
        service = release.service
    if service is None:
        raise UsageError(f"give {Field('service')}, or {Field('release')} SERVICE/NAME")
    _check_name("service", service)
    return service


def _check_name(what: str, value: str) -> None:
    if not value.strip():
        raise UsageError(f"{what} must not be empty")
    if len(value) > _NAME_LIMIT:
        raise UsageError(f"{what} is longer than {_NAME_LIMIT} characters")
    if any(ord(ch) < 0x20 for ch in value):
        raise UsageError(f"{what} must not contain control characters")


def _digest(path: Path, service: str, version: str | None) -> Artifact:
    """SHA-256 of a file, streamed: memory stays flat for multi-gigabyte artifacts."""
    with open_input(path, "artifact file") as handle:
        try:
            digest = hashlib.file_digest(handle, "sha256")
        except OSError as e:
            raise InputError(f"cannot read artifact {path}: {e.strerror}") from e
        size = handle.tell()
    return Artifact(service, version, path.name, size, Sha256(digest.hexdigest()))
