"""Typed access to a review webhook payload's JSON: a `Node` is a value and the JSON pointer to
it, so every complaint says where.

The review reader's own walker: it tells a missing member from a null one, refuses empty text
and lone surrogates, and its complaints are short (`missing`, `empty`, `expected an object,
found null`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from changeproof.ingest.errors import ReadError
from changeproof.ingest.jsondoc import MAX_SAFE_INT, json_type, pointer

__all__ = ["COMMIT_SHA", "Node", "parse_time", "safe_int", "text_ok"]

COMMIT_SHA: Final = re.compile(r"[0-9a-f]{40}")


class _Absent:
    """What a `Node` holds where the document has no such member."""


_ABSENT: Final = _Absent()


class Node:
    """A value in a JSON document and the pointer to it, so every error says where."""

    __slots__ = ("path", "source", "value")

    def __init__(self, value: object, source: str, path: tuple[str | int, ...] = ()) -> None:
        self.value = value
        self.source = source
        self.path = path

    def error(self, problem: str, *, hint: str | None = None) -> ReadError:
        return ReadError(self.source, problem, pointer=pointer(*self.path), hint=hint)

    def mapping(self) -> Mapping[str, object]:
        if isinstance(self.value, _Absent):
            raise self.error("missing")
        if not isinstance(self.value, dict):
            raise self.error(f"expected an object, found {json_type(self.value)}")
        return self.value

    def get(self, key: str) -> Node:
        return Node(self.mapping().get(key, _ABSENT), self.source, (*self.path, key))

    def absent_or_null(self) -> bool:
        return self.value is None or isinstance(self.value, _Absent)

    def text(self) -> str:
        if isinstance(self.value, _Absent):
            raise self.error("missing")
        if not isinstance(self.value, str):
            raise self.error(f"expected a string, found {json_type(self.value)}")
        if not self.value:
            raise self.error("empty")
        if not text_ok(self.value):
            raise self.error("text with a lone surrogate (not valid Unicode)")
        return self.value

    def optional_text(self) -> str | None:
        return None if self.absent_or_null() else self.text()

    def positive_int(self) -> int:
        value = self.value
        if isinstance(value, _Absent):
            raise self.error("missing")
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(f"expected an integer, found {json_type(value)}")
        if not 0 < value <= MAX_SAFE_INT:
            raise self.error(f"expected a positive number, found {value}")
        return value

    def sha(self) -> str:
        value = self.text()
        if not COMMIT_SHA.fullmatch(value):
            raise self.error(
                f"{value[:60]!r} is not a full commit SHA (40 lowercase hexadecimal digits)"
            )
        return value

    def timestamp(self) -> str | None:
        value = self.optional_text()
        if value is not None:
            try:
                parse_time(value)
            except ValueError as e:
                raise self.error(str(e)) from e
        return value


def parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as e:
        raise ValueError(f"{value[:60]!r} is not an RFC 3339 timestamp") from e
    if moment.tzinfo is None:
        raise ValueError(f"{value[:60]!r} has no UTC offset (add Z or +hh:mm)")
    return moment


def text_ok(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def safe_int(value: object) -> int | None:
    """`value` when it is an integer canonical JSON can hold, else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -MAX_SAFE_INT <= value <= MAX_SAFE_INT else None
