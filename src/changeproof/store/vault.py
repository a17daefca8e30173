"""The evidence vault: evidence files kept by their SHA-256, beside the ledger that cites them.

A file is named by its content alone, `sha256/<first 2 hex>/<other 62 hex>`, never by a name
a caller gave: no upload name, path or digest string a client sends ever becomes part of a
path, so a traversal (`../`, an absolute path, a NUL) has nothing to traverse. A digest is
checked to be 64 lowercase hex before it is joined to anything.

A file is written to `tmp/` first, flushed and fsync'ed, then renamed into place
(`os.replace`, atomic on one file system): a reader never sees half a file, and a crash
leaves at most a stray temporary file. Keeping content already kept changes nothing (the
kept file is left as it is), so two uploads of one file, or a retry, are the same.

`Vault` is the interface the services use; `FileVault` keeps files in a folder (the
instance's `vault/` by default). An object store is another implementation of the same
four methods.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, Protocol

__all__ = ["DIGEST", "FileVault", "Kept", "Vault", "hash_file"]

DIGEST: Final = re.compile(r"[0-9a-f]{64}")
_CHUNK: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Kept:
    """A file as the vault keeps it."""

    sha256: str
    size: int


class Vault(Protocol):
    """Where evidence files are kept, by digest."""

    def keep(self, data: bytes) -> Kept:
        """Keep `data` (idempotent) and return its digest and size; OSError when it cannot."""
        ...

    def size(self, sha256: str) -> int | None:
        """The size of the kept file, or None when none is kept under that digest."""
        ...

    def open(self, sha256: str) -> IO[bytes] | None:
        """The kept file, open for reading from its start; None when none is kept."""
        ...

    def staging(self) -> AbstractContextManager[IO[bytes]]:
        """A new temporary file for content on its way in (an upload being received),
        removed when the context ends; it is not kept until `keep` is given its bytes."""
        ...


class FileVault:
    """A vault in a folder: `<root>/sha256/ab/cdef…` and `<root>/tmp/`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def path_of(self, sha256: str) -> Path:
        """Where the file of `sha256` is kept; ValueError for anything but 64 lowercase hex."""
        if not DIGEST.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 digest: {sha256!r}")
        return self.root / "sha256" / sha256[:2] / sha256[2:]

    def keep(self, data: bytes) -> Kept:
        sha256 = hashlib.sha256(data).hexdigest()
        target = self.path_of(sha256)
        if target.is_file() and target.stat().st_size == len(data):
            return Kept(sha256, len(data))
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._staged() as (handle, name):
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(name, target)
        _sync_folder(target.parent)
        return Kept(sha256, len(data))

    def size(self, sha256: str) -> int | None:
        try:
            return self.path_of(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def open(self, sha256: str) -> IO[bytes] | None:
        try:
            return self.path_of(sha256).open("rb")
        except FileNotFoundError:
            return None

    @contextmanager
    def staging(self) -> Iterator[IO[bytes]]:
        with self._staged() as (handle, _):
            yield handle

    @contextmanager
    def _staged(self) -> Iterator[tuple[IO[bytes], str]]:
        self.tmp.mkdir(parents=True, exist_ok=True)
        # mkstemp: a fresh name with O_EXCL, mode 0600, in the vault's own file system so
        # the rename into place is atomic.
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix="in-")
        try:
            with os.fdopen(fd, "w+b") as handle:
                yield handle, name
        finally:
            with suppress(FileNotFoundError):  # renamed into place: nothing is left to remove
                os.unlink(name)

    def digests(self) -> Iterator[str]:
        """Every digest kept, in no particular order (for an inventory)."""
        for folder in (self.root / "sha256").glob("??"):
            for file in folder.iterdir():
                if DIGEST.fullmatch(folder.name + file.name):
                    yield folder.name + file.name


def hash_file(handle: IO[bytes]) -> Kept:
    """The digest and size of what `handle` holds from where it is."""
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return Kept(digest.hexdigest(), size)


def _sync_folder(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk too.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
