"""Reading the files people hand a command: one set of refusals, worded the same everywhere."""

from __future__ import annotations

from pathlib import Path

from changeproof.domain.errors import InputError

__all__ = ["read_input"]


def read_input(path: Path, what: str, *, limit: int, hint: str | None = None) -> bytes:
    """The whole file; refused past `limit` bytes without reading the rest.

    `what` names the kind of file in messages: "checkpoint file", "evidence file", ...
    """
    article = "an" if what[:1] in "aeiou" else "a"
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except IsADirectoryError as e:
        raise InputError(f"{path} is a directory, not {article} {what}") from e
    except FileNotFoundError as e:
        raise InputError(f"{what} {path} does not exist") from e
    except OSError as e:
        raise InputError(f"cannot read {what} {path}: {e.strerror}") from e
    if len(data) > limit:
        raise InputError(f"{path} is larger than the {limit:,}-byte limit for a {what}", hint=hint)
    return data
