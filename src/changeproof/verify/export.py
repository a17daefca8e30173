"""Reading a ledger export: one JSON document per line.

line 1         {"format": "changeproof-ledger-export", "version": 1, "origin": …,
                "public_key": …, "tree_size": …, "root_hash": …, "exported_at": …}
entry lines    {"seq": N, "leaf_hash": "<hex>", "body": "<canonical JSON, as a string>"}
checkpoints    {"checkpoint": "<signed note>"}, right after the entry that completes it
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator, Sequence
from io import BufferedReader
from pathlib import Path
from typing import Final

from changeproof.ledger import Entry

__all__ = [
    "EXPORT_FORMAT",
    "ExportFile",
    "ExportFormatError",
    "NotRegularFileError",
    "open_regular",
]

EXPORT_FORMAT: Final = "changeproof-ledger-export"
_BATCH: Final = 10_000


class ExportFormatError(Exception):
    """The file is not a well-formed changeproof export; the message names the line."""


class NotRegularFileError(OSError):
    """A FIFO, device or socket where a file was expected: never read, it may never end."""


def open_regular(path: Path) -> BufferedReader:
    """`path` open for reading when it is a regular file; NotRegularFileError naming what it is
    else. Stat'ed before the open and again after, opened without blocking (a FIFO would block
    the open itself): the same check as the CLI's, kept here by the import contract."""
    kind = _not_regular(os.stat(path).st_mode)
    if kind is None:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        kind = _not_regular(os.fstat(fd).st_mode)
        if kind is None:
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        os.close(fd)
    raise NotRegularFileError(f"{path} is {kind}")


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    return "a device or socket"


class ExportFile:
    """A `LogSource` over an export file: streams it, never holds it in memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with open_regular(path) as handle:
                first = handle.readline(1 << 20)
        except NotRegularFileError as e:
            raise ExportFormatError(f"{e}, not an export file: only regular files are read") from e
        except OSError as e:
            raise ExportFormatError(f"cannot read {path}: {e.strerror}") from e
        header = self._parse(first, 1)
        if header.get("format") != EXPORT_FORMAT or header.get("version") != 1:
            raise ExportFormatError(f"{path} is not a changeproof ledger export (version 1)")
        origin = header.get("origin")
        if not isinstance(origin, str):
            raise ExportFormatError(f"{path}:1: header has no origin")
        self.origin = origin
        self.header = header

    def _parse(self, line: bytes, number: int) -> dict[str, object]:
        try:
            doc = json.loads(line)
        except ValueError as e:
            raise ExportFormatError(f"{self.path}:{number}: not a JSON line ({e})") from e
        except RecursionError as e:  # `[[[[…` nested past Python's stack: no export line is
            raise ExportFormatError(f"{self.path}:{number}: JSON nested too deeply") from e
        if not isinstance(doc, dict):
            raise ExportFormatError(f"{self.path}:{number}: not a JSON object")
        return doc

    def _lines(self, prefix: bytes) -> Iterator[tuple[int, dict[str, object]]]:
        with open_regular(self.path) as handle:
            handle.readline()
            for number, line in enumerate(handle, start=2):
                if line.startswith(prefix):
                    yield number, self._parse(line, number)
                elif not line.startswith((b'{"seq"', b'{"checkpoint"')):
                    raise ExportFormatError(
                        f"{self.path}:{number}: neither an entry nor a checkpoint"
                    )

    def entry_batches(self, start: int = 0, stop: int | None = None) -> Iterator[Sequence[Entry]]:
        batch: list[Entry] = []
        for number, doc in self._lines(b'{"seq"'):
            seq, leaf, body = doc.get("seq"), doc.get("leaf_hash"), doc.get("body")
            if not isinstance(seq, int) or not isinstance(leaf, str) or not isinstance(body, str):
                raise ExportFormatError(f"{self.path}:{number}: entry needs seq, leaf_hash, body")
            if seq < start or (stop is not None and seq >= stop):
                continue
            try:
                batch.append((seq, bytes.fromhex(leaf), body.encode("utf-8")))
            except (ValueError, UnicodeEncodeError) as e:
                raise ExportFormatError(f"{self.path}:{number}: entry {seq}: {e}") from e
            if len(batch) == _BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def checkpoint_notes(self, *, newest_first: bool = False) -> Iterator[str]:
        notes = (self._note(number, doc) for number, doc in self._lines(b'{"checkpoint"'))
        if newest_first:
            # Only needed once, for the newest; exports keep checkpoints in size order.
            return iter(list(notes)[::-1])
        return notes

    def _note(self, number: int, doc: dict[str, object]) -> str:
        note = doc.get("checkpoint")
        if not isinstance(note, str):
            raise ExportFormatError(f"{self.path}:{number}: checkpoint must be a string")
        return note
