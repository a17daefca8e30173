"""Reading the files people hand a command: one set of refusals, worded the same everywhere.

Only regular files are read. A FIFO, a device (`/dev/zero`, `/dev/stdin`, a terminal) or a
socket is refused before it is read: reading one may never end (`/dev/zero` has no end; a
FIFO blocks in `open()` until a writer comes). The file is stat'ed before it is opened, and
opened with O_NONBLOCK, so a FIFO swapped in between cannot block the open either; the
opened file is then stat'ed again, and that answer is the one that counts.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from io import BufferedReader
from pathlib import Path

from changeproof.domain.errors import InputError

__all__ = ["not_regular", "open_input", "read_input"]


def read_input(path: Path, what: str, *, limit: int, hint: str | None = None) -> bytes:
    """The whole file; refused past `limit` bytes without reading the rest.

    `what` names the kind of file in messages: "checkpoint file", "evidence file", ...
    """
    with open_input(path, what) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as e:
            raise InputError(f"cannot read {what} {path}: {e.strerror}") from e
    if len(data) > limit:
        article = "an" if what[:1] in "aeiou" else "a"
        raise InputError(
            f"{path} is larger than the {limit:,}-byte limit for {article} {what}", hint=hint
        )
    return data


@contextmanager
def open_input(path: Path, what: str) -> Iterator[BufferedReader]:
    """The regular file at `path`, open for reading; InputError naming it for anything else."""
    article = "an" if what[:1] in "aeiou" else "a"
    try:
        refusal = not_regular(os.stat(path).st_mode)
        if refusal is None:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError as e:
        raise InputError(f"{what} {path} does not exist") from e
    except OSError as e:
        raise InputError(f"cannot read {what} {path}: {e.strerror}") from e
    if refusal is None:
        try:
            refusal = not_regular(os.fstat(fd).st_mode)
        except OSError:
            os.close(fd)
            raise
        if refusal is not None:
            os.close(fd)
    if refusal is not None:
        raise InputError(f"{path} is {refusal}, not {article} {what}: only regular files are read")
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as handle:
        yield handle


def not_regular(mode: int) -> str | None:
    """What a file of this mode is, when it is not a regular file (None when it is)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something other than a regular file"
