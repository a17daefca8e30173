"""Evidence files in the vault: uploads received, downloads proven, the vault checked.

An upload's name is a base name a person may read later, never a path: a name holding `/`,
`\\`, `..`, NUL or any control character is refused before a byte of the content is read,
and nothing is recorded or kept. Content is read in chunks and refused as soon as it passes
its limit.

A download is of a digest the ledger cites (the projection only says which entries to
prove): a file the vault happens to hold but no entry cites is not served. The file's size
is checked before streaming; its content is hashed as it streams, and the last chunk is
held back until the whole file has hashed to its digest, so a client never receives a
complete file that is not the one the ledger cites.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, Final

from sqlalchemy import Connection

from changeproof.domain.errors import (
    Field,
    InputError,
    IntegrityError,
    NotFoundError,
    TooLargeError,
    UnavailableError,
    operation,
)
from changeproof.domain.evidence import EVIDENCE_RECORDED
from changeproof.domain.evidence_documents import EvidenceRecorded
from changeproof.store import releases as queries
from changeproof.store.entry_check import EntryCheck
from changeproof.store.evidence_entries import evidence_entries
from changeproof.store.vault import DIGEST, Vault, hash_file

__all__ = [
    "CHUNK",
    "Citation",
    "EvidenceDownload",
    "Upload",
    "VaultFinding",
    "VaultReport",
    "check_kept",
    "check_name",
    "cited_by",
    "open_download",
    "parse_digest",
    "read_limited",
    "too_large",
]

CHUNK: Final = 1024 * 1024
NAME_LIMIT: Final = 255  # bytes of UTF-8, as most file systems allow
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class Upload:
    """A file sent with a name: its content whole, or a binary file to read from."""

    name: str
    content: bytes | IO[bytes]
    field: str = "files"  # the request field it came in, for errors


def check_name(upload: Upload) -> str:
    """The upload's name, when it is a plain base name; InputError on its field else."""
    name, field = upload.name, upload.field
    why = None
    if not name:
        why = "is empty"
    elif _CONTROL.search(name):
        why = "holds a control character"
    elif "/" in name or "\\" in name:
        why = "holds a path separator: give the file's base name only"
    elif ".." in name or name == ".":
        why = "holds `..`" if ".." in name else "is not a file name"
    elif len(name.encode("utf-8", "surrogatepass")) > NAME_LIMIT:
        why = f"is longer than {NAME_LIMIT} bytes"
    else:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            why = "is not valid Unicode"
    if why is not None:
        raise InputError(f"{Field(field)}: the file name {name!r} {why}")
    return name


def read_limited(
    handle: IO[bytes], name: str, limit: int, what: str, setting: str, field: str | None = None
) -> bytes:
    """All of `handle`, read in chunks; TooLargeError as soon as it passes `limit` bytes."""
    parts: list[bytes] = []
    seen = 0
    while True:
        try:
            chunk = handle.read(min(CHUNK, limit + 1 - seen))
        except OSError as e:
            raise InputError(f"cannot read {what} {name}: {e.strerror}") from e
        if not chunk:
            break
        seen += len(chunk)
        parts.append(chunk)
        if seen > limit:
            raise too_large(name, limit, what, setting, field)
    return b"".join(parts)


def too_large(
    name: str, limit: int, what: str, setting: str, field: str | None = None
) -> TooLargeError:
    """The refusal of a file over its limit; `field`: the request field it came in."""
    article = "an" if what[:1] in "aeiou" else "a"
    where = "" if field is None else f"{Field(field)}: "
    return TooLargeError(
        f"{where}{name} is larger than the {limit:,}-byte limit for {article} {what}",
        limit=limit,
        what=what,
        hint=f"raise {setting} in the instance's config.toml if it must be",
    )


def parse_digest(text: str) -> str:
    """A SHA-256 as 64 hex digits (an optional `sha256:` prefix; any case), lowercased."""
    digest = text.removeprefix("sha256:").lower()
    if not DIGEST.fullmatch(digest):
        shown = text if len(text) <= 80 else text[:80] + "…"
        raise InputError(f"{Field('digest')} must be a SHA-256 (64 hex digits), not {shown!r}")
    return digest


@dataclass(frozen=True, slots=True)
class Citation:
    seq: int
    names: tuple[str, ...]  # the names the entry gives the file
    size: int
    kept: bool  # the entry says its files were kept


def cited_by(conn: Connection, check: EntryCheck, sha256: str) -> list[Citation]:
    """The evidence entries citing a file of digest `sha256`, each proven from the ledger."""
    seqs = queries.evidence_citing(conn, sha256)
    for seq in seqs:
        check.expect("evidence", seq, EVIDENCE_RECORDED)
    entries = check.confirm()
    found = []
    for seq in seqs:
        payload = entries[seq].payload()
        assert isinstance(payload, EvidenceRecorded)
        refs = [ref for ref in payload.files if ref.sha256 == sha256]
        if refs:
            kept = payload.files_kept is True
            found.append(Citation(seq, tuple(r.name for r in refs), refs[0].size, kept))
    return found


@dataclass(slots=True)
class EvidenceDownload:
    """An evidence file open for streaming; close it (or use it as a context manager)."""

    digest: str
    size: int
    names: tuple[str, ...]  # the names citing entries give it, first recorded first
    cited_by: tuple[int, ...]  # the seqs of the entries citing it
    _handle: IO[bytes] = field(repr=False)

    def chunks(self) -> Iterator[bytes]:
        """The content in chunks; IntegrityError instead of the last chunk when the whole
        does not hash to `digest` (or is not `size` bytes long)."""
        digest = hashlib.sha256()
        seen = 0
        held: bytes | None = None
        try:
            while chunk := self._handle.read(CHUNK):
                digest.update(chunk)
                seen += len(chunk)
                if held is not None:
                    yield held
                held = chunk
            if seen != self.size or digest.hexdigest() != self.digest:
                raise _altered(self.digest, self.cited_by)
            if held is not None:
                yield held
        finally:
            # Whether it ended, failed or was abandoned: a cut stream runs no background task.
            self.close()

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> EvidenceDownload:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_download(vault: Vault, sha256: str, citing: list[Citation]) -> EvidenceDownload:
    seqs = tuple(c.seq for c in citing)
    handle = vault.open(sha256)
    if handle is None:
        if not any(c.kept for c in citing):
            raise NotFoundError(
                f"the file of digest {sha256} was recorded (entry {seqs[0]}) before evidence "
                "files were kept: the vault has no copy"
            )
        raise UnavailableError(
            f"the evidence vault has no file of digest {sha256}, which entry {seqs[0]} says "
            "it kept",
            hint=f"run {operation('vault check')}; restore the vault from its backup",
        )
    size = citing[0].size
    try:
        actual = _size(handle)
    except OSError:
        handle.close()
        raise
    if actual != size:
        handle.close()
        raise _altered(sha256, seqs, f"it is {actual:,} bytes, not {size:,}")
    names = tuple(dict.fromkeys(n for c in citing for n in c.names))
    return EvidenceDownload(sha256, size, names, seqs, handle)


def _size(handle: IO[bytes]) -> int:
    return os.fstat(handle.fileno()).st_size


def _altered(sha256: str, seqs: tuple[int, ...], why: str = "") -> IntegrityError:
    detail = f": {why}" if why else ""
    return IntegrityError(
        f"the evidence vault's file of digest {sha256} is not the file entry {seqs[0]} "
        f"cites{detail}",
        first_bad_seq=seqs[0],
        hint=f"run {operation('vault check')}; restore the vault from its backup",
    )


@dataclass(frozen=True, slots=True)
class VaultFinding:
    seq: int
    name: str
    sha256: str
    problem: str  # "missing" or "altered"


@dataclass(frozen=True, slots=True)
class VaultReport:
    entries: int  # the evidence entries that say their files were kept
    files: int  # the distinct files those entries cite
    findings: tuple[VaultFinding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings


def check_kept(conn: Connection, vault: Vault) -> VaultReport:
    """Walk the ledger's evidence entries that kept their files; hash each file once."""
    entries = 0
    state: dict[str, str | None] = {}  # digest -> None (sound), "missing" or "altered"
    findings: list[VaultFinding] = []
    for event in evidence_entries(conn):
        payload = event.payload()
        if not isinstance(payload, EvidenceRecorded) or payload.files_kept is not True:
            continue
        entries += 1
        for ref in payload.files:
            if ref.sha256 not in state:
                state[ref.sha256] = _problem(vault, ref.sha256, ref.size)
            problem = state[ref.sha256]
            if problem is not None:
                findings.append(VaultFinding(event.seq, ref.name, ref.sha256, problem))
    return VaultReport(entries, len(state), tuple(findings))


def _problem(vault: Vault, sha256: str, size: int) -> str | None:
    if not DIGEST.fullmatch(sha256):
        return "altered"
    handle = vault.open(sha256)
    if handle is None:
        return "missing"
    with handle:
        kept = hash_file(handle)
    return None if (kept.sha256, kept.size) == (sha256, size) else "altered"
