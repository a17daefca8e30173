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
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import IO

from changeproof.domain.canonical import JsonValue, canonical_json
from changeproof.domain.clock import Clock
from changeproof.domain.errors import (
    InputError,
    IntegrityError,
    NotFoundError,
    UnavailableError,
    UsageError,
    operation,
)
from changeproof.domain.events import Event
from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.domain.evidence_documents import (
    EvidenceFileRef,
    EvidenceRecorded,
    ReviewSummary,
    WebhookSignature,
)
from changeproof.domain.releases import ReleaseRef
from changeproof.ingest.readers import (
    Batch,
    Option,
    ReaderSpec,
    ReadOptions,
    Source,
    commands,
    plan,
)
from changeproof.ingest.webhooks import verify_github_signature
from changeproof.services.evidence_limits import PUBLIC_KEYS, EvidenceLimits
from changeproof.services.evidence_vault import (
    EvidenceDownload,
    Upload,
    VaultReport,
    check_kept,
    check_name,
    cited_by,
    open_download,
    parse_digest,
    read_limited,
    too_large,
)
from changeproof.services.files import open_input
from changeproof.store import releases as queries
from changeproof.store.database import Database
from changeproof.store.entry_check import EntryChecks
from changeproof.store.unit_of_work import UnitOfWork
from changeproof.store.vault import Vault

__all__ = [
    "AttestKind",
    "Attested",
    "EvidenceDownload",
    "EvidenceFile",
    "EvidenceService",
    "ReviewSignature",
    "Upload",
    "VaultReport",
]

log = logging.getLogger(__name__)


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

    def document(self) -> dict[str, JsonValue]:
        """What `attest` prints with JSON output and the API answers, one per record."""
        return {
            "kind": self.kind,
            "seq": self.seq,
            "recorded": self.recorded,
            "sha256": self.sha256,
            "format": self.format,
            "files": list(self.files),
            "summary": self.summary,
            "notes": list(self.notes),
        }


class EvidenceService:
    def __init__(
        self,
        db: Database,
        unit_of_work: Callable[[], UnitOfWork],
        clock: Clock,
        limits: EvidenceLimits,
        vault: Vault,
        checks: EntryChecks,
    ) -> None:
        self._db = db
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._limits = limits
        self._vault = vault
        self._checks = checks

    def limit(self, kind: str) -> int:
        """The size limit of one file for the `attest` command `kind` (InputError when no
        reader answers to it): what an upload is held to as it arrives."""
        return self._limits.of(_kind_of(kind))

    def key_limit(self) -> int:
        """The size limit of one public-key file."""
        return self._limits.of(PUBLIC_KEYS)

    def limit_setting(self, kind: str) -> str:
        """The config setting that decides `limit(kind)`, for a person who must raise it."""
        return self._limits.setting(_kind_of(kind))

    def key_limit_setting(self) -> str:
        """The config setting that decides `key_limit()`."""
        return self._limits.setting(PUBLIC_KEYS)

    def staging(self) -> AbstractContextManager[IO[bytes]]:
        """A temporary file in the vault for an upload on its way in, removed afterwards."""
        return self._vault.staging()

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
        """Evidence from files on this machine: read each (held to its kind's limit), then
        as `attest_uploads`. Messages name each file by the path given."""
        if not paths:
            raise UsageError("give at least one evidence file")
        limit, evidence_kind = self.limit(kind), _kind_of(kind)
        files = [self._read(path, limit, evidence_kind) for path in paths]
        keys = tuple(self._read(path, self.key_limit(), PUBLIC_KEYS).data for path in public_keys)
        return self._attest(
            kind, files, keys, release, actor, format, require_signature, review_signature
        )

    def attest_uploads(
        self,
        kind: str,
        uploads: Sequence[Upload],
        release: ReleaseRef,
        *,
        actor: str,
        format: str | None = None,
        public_keys: Sequence[Upload] = (),
        require_signature: bool = False,
        review_signature: ReviewSignature | None = None,
    ) -> list[Attested]:
        """Evidence sent as content with a name (an HTTP upload): every name must be a plain
        base name, every file is read in chunks and refused as soon as it passes its limit."""
        if not uploads:
            raise UsageError("give at least one evidence file")
        limit, evidence_kind = self.limit(kind), _kind_of(kind)
        files = [self._received(upload, limit, evidence_kind) for upload in uploads]
        keys = tuple(self._received(key, self.key_limit(), PUBLIC_KEYS).data for key in public_keys)
        return self._attest(
            kind, files, keys, release, actor, format, require_signature, review_signature
        )

    def download(self, digest: str, *, reader: str) -> EvidenceDownload:
        """An evidence file some ledger entry cites, by its digest, for `reader` to stream.

        Which entries cite it is proven from the ledger (the projection only says where to
        look): a file in the vault that no entry cites is not there to be downloaded."""
        sha256 = parse_digest(digest)
        with self._db.read() as conn:
            citing = cited_by(conn, self._checks(conn), sha256)
        if not citing:
            raise NotFoundError(f"no evidence entry cites a file with digest {sha256}")
        log.info("evidence file %s downloaded by %s", sha256, reader)
        return open_download(self._vault, sha256, citing)

    def check_vault(self) -> VaultReport:
        """Every file an entry says is kept, checked against the vault."""
        with self._db.read() as conn:
            return check_kept(conn, self._vault)

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
        # Kept before the entry is committed: a kept file no entry cites is harmless (it
        # cannot be downloaded), an entry citing a file that was never kept is not.
        for file in files:
            self._keep(file)
        return self._record(readings, release, actor)

    def _keep(self, file: EvidenceFile) -> None:
        try:
            kept = self._vault.keep(file.data)
        except OSError as e:
            raise UnavailableError(f"cannot keep {file.name} in the evidence vault: {e}") from e
        if kept.sha256 != file.sha256:  # the vault hashed other bytes than were read
            raise IntegrityError(f"the evidence vault kept {file.name} under another digest")

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
                        files_kept=True,
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

    def _received(self, upload: Upload, limit: int, kind: str) -> EvidenceFile:
        name = check_name(upload)
        if isinstance(upload.content, bytes):
            data = upload.content
            if len(data) > limit:
                raise too_large(name, limit, _what(kind), self._limits.setting(kind), upload.field)
        else:
            data = read_limited(
                upload.content,
                name,
                limit,
                _what(kind),
                self._limits.setting(kind),
                upload.field,
            )
        return EvidenceFile(name, hashlib.sha256(data).hexdigest(), len(data), data)

    def _read(self, path: Path, limit: int, kind: str) -> EvidenceFile:
        with open_input(path, _what(kind)) as handle:
            data = read_limited(handle, str(path), limit, _what(kind), self._limits.setting(kind))
        return EvidenceFile(str(path), hashlib.sha256(data).hexdigest(), len(data), data)


def _kind_of(command: str) -> str:
    """The evidence kind an `attest` command records; InputError when no reader answers."""
    specs = commands().get(command)
    if not specs:
        raise InputError(
            f"no evidence reader for {command!r}",
            hint=f"the evidence kinds are {', '.join(commands())}",
        )
    return str(specs[0].kind)


def _what(kind: str) -> str:
    return "public key file" if kind == PUBLIC_KEYS else "evidence file"


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
