"""Typed access to an attestation file's JSON, every complaint naming where it is: the line (in
JSON Lines), the JSON pointer, and whether it is inside a DSSE envelope's decoded payload.

The build-provenance reader's own walker: its complaints name the member (`subject is not a
list`, `name is missing`), and a null member reads as an absent one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from changeproof.ingest.errors import ReadError
from changeproof.ingest.jsondoc import pointer

__all__ = [
    "Location",
    "json_object",
    "optional_list",
    "optional_object",
    "optional_string",
    "string",
]

_Part = str | int


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the file: line (JSON Lines), JSON path, and whether inside a decoded payload."""

    source: str
    line: int | None = None
    path: tuple[_Part, ...] = ()
    payload_at: tuple[_Part, ...] | None = None  # where the base64 payload sits, when inside it
    label: str = ""  # "line 2", "attestation 1": how notes and errors name one envelope

    def __truediv__(self, part: _Part) -> Location:
        return replace(self, path=(*self.path, part))

    def inside_payload(self) -> Location:
        return replace(self, payload_at=(*self.path, "payload"), path=())

    def error(self, problem: str, *, hint: str | None = None) -> ReadError:
        path = self.path
        if self.payload_at is not None:
            problem = f"{problem} (in the decoded payload, at {pointer(*path)})"
            path = self.payload_at
        if self.line is not None:
            where = f" (at {pointer(*path)})" if path else ""
            return ReadError(self.source, problem + where, line=self.line, hint=hint)
        return ReadError(self.source, problem, pointer=pointer(*path) if path else "", hint=hint)


def json_object(value: object, at: Location) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise at.error("expected a JSON object")
    return value


def string(obj: Mapping[str, object], key: str, at: Location) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise (at / key).error(f"{key} is missing" if value is None else f"{key} is not a string")
    return value


def optional_string(obj: Mapping[str, object], key: str, at: Location) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise (at / key).error(f"{key} is not a string")


def optional_object(obj: Mapping[str, object], key: str, at: Location) -> Mapping[str, object]:
    value = obj.get(key)
    return {} if value is None else json_object(value, at / key)


def optional_list(obj: Mapping[str, object], key: str, at: Location) -> list[object]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise (at / key).error(f"{key} is not a list")
    return value
