"""Typed access to a SARIF log's JSON: every wrong shape is a `ReadError` at its JSON pointer.

The SARIF reader's own walker: a null member reads as an absent one, its complaints name what
was found (`expected a JSON array, found an object`), and lone surrogates in text are replaced
rather than refused, since a scan log is read for its counts, not its exact words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeAlias

from changeproof.ingest.errors import ReadError
from changeproof.ingest.jsondoc import MAX_SAFE_INT, clean, json_type, pointer

__all__ = ["LEVELS", "Obj", "Path", "SarifDoc", "clean", "json_kind"]

LEVELS: Final = ("error", "warning", "note", "none")

Path: TypeAlias = tuple[str | int, ...]
Obj: TypeAlias = Mapping[str, object]


class SarifDoc:
    """Typed access to the parsed JSON; every wrong shape is a ReadError at its pointer."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: Path, problem: str, *, hint: str | None = None) -> ReadError:
        return ReadError(self.source, problem, pointer=pointer(*path) if path else "", hint=hint)

    def obj(self, value: object, path: Path) -> Obj:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a JSON object, found {json_kind(value)}")
        return value

    def opt_obj(self, parent: Obj, key: str, path: Path) -> Obj | None:
        value = parent.get(key)
        return None if value is None else self.obj(value, (*path, key))

    def opt_list(self, parent: Obj, key: str, path: Path) -> list[object]:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail((*path, key), f"expected a JSON array, found {json_kind(value)}")
        return value

    def opt_str(self, parent: Obj, key: str, path: Path) -> str | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail((*path, key), f"expected a string, found {json_kind(value)}")
        return clean(value)

    def opt_int(self, parent: Obj, key: str, path: Path, *, least: int) -> int | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail((*path, key), f"expected an integer, found {json_kind(value)}")
        if not least <= value <= MAX_SAFE_INT:
            raise self.fail((*path, key), f"{value} is out of range (at least {least})")
        return value

    def opt_level(self, parent: Obj, key: str, path: Path) -> str | None:
        value = parent.get(key)
        if value is not None and (not isinstance(value, str) or value not in LEVELS):
            raise self.fail((*path, key), f"not a SARIF level ({', '.join(LEVELS)})")
        return None if value is None else str(value)


def json_kind(value: object) -> str:
    """`value`'s JSON type with its article: null, a boolean, an array, an object, ..."""
    kind = json_type(value)
    if value is None:
        return kind
    return f"an {kind}" if kind[0] in "ao" else f"a {kind}"
