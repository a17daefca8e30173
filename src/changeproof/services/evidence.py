"""Evidence use cases: read files with the right reader and bind what they say to a release.

Which reader reads a file is the reader registry's answer (`changeproof.ingest.readers`):
the command names the readers, a format named by the person picks one, else each file is
recognised from its content. Every file is read (with a size cap) and parsed before
anything is recorded, and all readings of one call are recorded in one transaction: a bad
file records nothing. Evidence about a commit or artifact outside the release is refused,
never attached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from changeproof.domain.canonical import JsonValue, canonical_json
from changeproof.domain.clock import Clock
from changeproof.domain.errors import InputError, NotFoundError, UsageError, operation
from changeproof.domain.events import Event
from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.domain.evidence_documents import (
    EvidenceFileRef,
    EvidenceRecorded,
    ReviewSummary,
    WebhookSignature,
)
from changeproof.domain.releases import ReleaseRef
from changeproof.ingest.readers import Batch, Option, ReaderSpec, ReadOptions, Source, plan
from changeproof.ingest.webhooks import verify_github_signature
from changeproof.services.files import read_input
from changeproof.store import releases as queries
from changeproof.store.database import Database
from changeproof.store.unit_of_work import UnitOfWork

__all__ = ["AttestKind", "Attested", "EvidenceFile", "EvidenceService", "ReviewSignature"]


class AttestKind(StrEnum):
    """The built-in `changeproof attest KIND` commands, for code that names one.

    The service takes the name of any command the reader registry knows
    (`changeproof.ingest.readers.commands()`); these are only names for it.
    """

    TEST_RESULTS = "test-results"
    SCAN = "scan"
    SBOM = "sbom"
    PROVENANCE = "provenance"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    name: str
    sha256: str
    size: int
    data: bytes

    def ref(self) -> EvidenceFileRef:
        # The base name: where the file sat on the pipeline's disk means nothing later.
        return EvidenceFileRef(Path(self.name).name, self.sha256, self.size)


@dataclass(frozen=True, slots=True)
class ReviewSignature:
    """The webhook's signature header and the shared secret it must match."""

    header: str | None
    secret: bytes


@dataclass(frozen=True, slots=True)
class Attested:
    kind: EvidenceKind
    sha256: str
    seq: int
    recorded: bool  # False: the same evidence was already recorded (at `seq`)
    format: str
    files: list[dict[str, JsonValue]]
    summary: dict[str, JsonValue]
    notes: list[str]


class EvidenceService:
    def __init__(
        self,
        db: Database,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        max_file_bytes: int,
    ) -> None:
        self._db = db
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._max_bytes = max_file_bytes

    def attest(
        self,
        kind: str,
        paths: Sequence[Path],
        release: ReleaseRef,
        *,
        actor: str,
        format: str | None = None,
        public_keys: Sequence[Path] = (),
        require_signature: bool = False,
        review_signature: ReviewSignature | None = None,
    ) -> list[Attested]:
        if not paths:
            raise UsageError("give at least one evidence file")
        files = [self._read(path) for path in paths]
        keys = tuple(self._read(path).data for path in public_keys)
        return self._attest(
            kind, files, keys, release, actor, format, require_signature, review_signature
        )

    def attest_content(
        self,
        kind: str,
        name: str,
        content: bytes,
        release: ReleaseRef,
        *,
        actor: str,
        review_signature: ReviewSignature | None = None,
    ) -> list[Attested]:
        """Evidence the server received as bytes (a webhook delivery), recorded as `attest`
        records the same bytes read from a file called `name`."""
        if len(content) > self._max_bytes:
            raise InputError(
                f"{name} is larger than the {self._max_bytes:,}-byte limit for an evidence file"
            )
        file = EvidenceFile(name, hashlib.sha256(content).hexdigest(), len(content), content)
        return self._attest(kind, [file], (), release, actor, None, False, review_signature)

    def _attest(
        self,
        kind: str,
        files: list[EvidenceFile],
        keys: tuple[bytes, ...],
        release: ReleaseRef,
        actor: str,
        format: str | None,
        require_signature: bool,
        review_signature: ReviewSignature | None,
    ) -> list[Attested]:
        sources = [Source(f.name, f.data) for f in files]
        batches = plan(kind, sources, format)
        for batch in batches:
            _check_options(batch.reader, keys, require_signature, review_signature)
        if review_signature is not None:
            # Authenticated before any reader parses a byte of it.
            for file in files:
                verify_github_signature(file.data, review_signature.header, review_signature.secret)
        options = ReadOptions(format, keys, require_signature)
        readings = [_reading(batch, files, sources, options, review_signature) for batch in batches]
        with self._db.read() as conn:
            if queries.find_release(conn, release) is None:
                raise NotFoundError(
                    f"no release {release}", hint=f"run {operation('release create')}"
                )
            in_release = set(queries.release_commit_shas(conn, release))
            for group, reading in readings:
                _check_commits(reading, group, in_release, release)
                recorded = queries.artifacts_with_digests(conn, reading.artifact_digests)
                _check_artifacts(reading, group, recorded, release)
        return self._record(readings, release, actor)

    def _record(
        self,
        readings: list[tuple[list[EvidenceFile], Reading]],
        release: ReleaseRef,
        actor: str,
    ) -> list[Attested]:
        now = self._clock.now()
        results: list[Attested] = []
        pending: list[tuple[int, Attested]] = []
        with self._unit_of_work() as uow:
            for group, reading in readings:
                digest = _digest(group)
                refs = tuple(f.ref() for f in group)
                existing = queries.find_evidence(uow.conn, release, reading.kind, digest)
                # Already recorded: report the record, not this second reading of the file.
                result = Attested(
                    kind=reading.kind,
                    sha256=digest,
                    seq=-1 if existing is None else existing.seq,
                    recorded=existing is None,
                    format=reading.format if existing is None else existing.format,
                    files=[r.to_data() for r in refs] if existing is None else existing.files,
                    summary=reading.summary.to_data() if existing is None else existing.summary,
                    notes=list(reading.notes) if existing is None else [],
                )
                if existing is None:
                    recorded = EvidenceRecorded(
                        release=str(release),
                        kind=reading.kind,
                        format=reading.format,
                        sha256=digest,
                        files=refs,
                        summary=reading.summary,
                        detail=reading.detail,
                        commits=reading.commits,
                        artifact_digests=reading.artifact_digests,
                        notes=reading.notes,
                    )
                    try:
                        uow.record(Event.of(recorded, actor, now))
                    except (TypeError, ValueError) as e:  # not representable as canonical JSON
                        names = ", ".join(f.name for f in group)
                        raise InputError(
                            f"{names}: holds a value that cannot be recorded ({e})"
                        ) from e
                    pending.append((len(results), result))
                results.append(result)
        for (index, result), entry in zip(pending, uow.recorded, strict=True):
            results[index] = replace(result, seq=entry.seq)
        return results

    def _read(self, path: Path) -> EvidenceFile:
        data = read_input(
            path,
            "evidence file",
            limit=self._max_bytes,
            hint="raise [evidence] max_file_bytes in the instance's config.toml if it must be",
        )
        return EvidenceFile(str(path), hashlib.sha256(data).hexdigest(), len(data), data)


def _check_options(
    spec: ReaderSpec,
    keys: Sequence[bytes],
    require_signature: bool,
    review_signature: ReviewSignature | None,
) -> None:
    """A reader is given only the options it declares: one it would ignore is an error."""
    given = {
        Option.PUBLIC_KEYS: ("public keys", bool(keys)),
        Option.REQUIRE_SIGNATURE: ("required signature", require_signature),
        Option.WEBHOOK_SIGNATURE: ("webhook signature", review_signature is not None),
    }
    for option, (words, used) in given.items():
        if used and option not in spec.options:
            raise UsageError(f"the {spec.title} reader takes no {words}", hint="leave it out")


def _reading(
    batch: Batch,
    files: list[EvidenceFile],
    sources: list[Source],
    options: ReadOptions,
    review_signature: ReviewSignature | None,
) -> tuple[list[EvidenceFile], Reading]:
    spec = batch.reader
    reading = spec.read([sources[n] for n in batch.indexes], options)
    if reading.kind is EvidenceKind.REVIEW:
        # Whoever reads the record later must see whether the payload was authenticated,
        # whichever reader made it: a review without the state reads as one from before.
        if not isinstance(reading.summary, ReviewSummary):
            raise TypeError(f"the {spec.name} reader's review summary is no ReviewSummary")
        verified = review_signature is not None
        checked = WebhookSignature.VERIFIED if verified else WebhookSignature.NOT_CHECKED
        reading = replace(reading, summary=replace(reading.summary, webhook_signature=checked))
    return [files[n] for n in batch.indexes], reading


def _digest(group: list[EvidenceFile]) -> str:
    if len(group) == 1:
        return group[0].sha256
    # Several files read as one piece of evidence: the digest of their sorted digests.
    return hashlib.sha256(canonical_json(sorted(f.sha256 for f in group))).hexdigest()


def _check_commits(
    reading: Reading, group: list[EvidenceFile], in_release: set[str], release: ReleaseRef
) -> None:
    if isinstance(reading.summary, ReviewSummary):
        # A review is about the SHA it approved; the change's other commits may predate
        # the release range.
        reviewed = reading.summary.reviewed_sha
        about = [] if reviewed is None else [reviewed]
    else:
        about = list(reading.commits)
    outside = [sha for sha in about if sha not in in_release]
    if outside:
        names = ", ".join(f.name for f in group)
        raise InputError(
            f"{names} is about commit {outside[0][:12]}, which is not in release {release}",
            hint="attach evidence to the release whose range holds that commit",
        )


def _check_artifacts(
    reading: Reading,
    group: list[EvidenceFile],
    recorded: list[queries.ArtifactRow],
    release: ReleaseRef,
) -> None:
    ours = {row.sha256 for row in recorded if row.release == str(release)}
    for row in recorded:
        digest, owner = row.sha256, row.release
        if owner is not None and owner != str(release) and digest not in ours:
            names = ", ".join(f.name for f in group)
            raise InputError(
                f"{names} is about artifact sha256:{digest[:16]}…, recorded for release "
                f"{owner}, not {release}"
            )
