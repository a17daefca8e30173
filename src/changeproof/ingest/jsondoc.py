"""Loading JSON documents people hand us: BOM tolerated, errors with line and column; and the
words a complaint uses about them (a JSON pointer, a value's JSON type)."""

from __future__ import annotations

import json
from typing import Final

from changeproof.ingest.errors import ReadError

__all__ = ["MAX_SAFE_INT", "clean", "json_type", "load_json", "pointer"]

MAX_SAFE_INT: Final = 2**53 - 1
"""I-JSON's (RFC 7493) largest integer: beyond it a reader using doubles changes the value."""


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    doc: dict[str, object] = {}
    for key, value in pairs:
        if key in doc:
            raise _DuplicateKeyError(key)
        doc[key] = value
    return doc


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _ConstantError(ValueError):
    def __init__(self, constant: str) -> None:
        super().__init__(constant)
        self.constant = constant


def _reject_constant(constant: str) -> object:
    raise _ConstantError(constant)


def load_json(data: bytes, source: str) -> object:
    """Parse UTF-8 JSON (an optional BOM is dropped); duplicate keys are an error, not a guess."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ReadError(source, f"not UTF-8 text (byte {e.start})") from e
    try:
        return json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as e:
        raise ReadError(source, f"not valid JSON: {e.msg}", line=e.lineno, column=e.colno) from e
    except _ConstantError as e:
        raise ReadError(source, f"{e.constant} is not a JSON number (RFC 8259)") from e
    except _DuplicateKeyError as e:
        raise ReadError(source, f"duplicate key {e.key!r} in a JSON object") from e
    except RecursionError as e:
        raise ReadError(source, "JSON nested too deeply") from e
    except ValueError as e:  # an integer past Python's digit limit (4,300 digits)
        raise ReadError(source, f"not readable as JSON: {e}") from e


def clean(text: str) -> str:
    """JSON may carry lone surrogates ("\\ud800"); they have no UTF-8 form, so replace them."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def pointer(*parts: str | int) -> str:
    """An RFC 6901 JSON pointer to where a problem is."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "/" + "/".join(escaped)


def json_type(value: object) -> str:
    """What `value` is, in JSON's words: null, boolean, number, string, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"  # what is left of what json.loads makes
