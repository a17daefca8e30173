"""RFC 8785 (JCS) canonical JSON for the values events carry.

Events hold strings, integers, booleans, null, lists and objects; never floats, whose
ES6 number formatting is where encoders disagree. For those values JCS output equals
`json.dumps(sort_keys=True)` with no whitespace and raw UTF-8, except that JCS orders
keys by UTF-16 code units: the two orders differ only for keys holding characters
beyond U+FFFF, which we hand to the reference implementation. A property test pins the
fast path to `rfc8785.dumps`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Final, TypeAlias

import rfc8785

__all__ = ["JsonValue", "canonical_json"]

JsonValue: TypeAlias = "str | int | bool | Sequence[JsonValue] | Mapping[str, JsonValue] | None"

# I-JSON (RFC 7493) integers: beyond 2**53 a reader using doubles silently changes the value.
_MAX_SAFE_INT: Final = 2**53 - 1
_encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
).encode


def canonical_json(value: JsonValue) -> bytes:
    """Encode `value` as RFC 8785 canonical JSON bytes; TypeError/ValueError on what JCS forbids."""
    if _needs_reference_order(value):
        return bytes(rfc8785.dumps(value))
    return _encode(value).encode("utf-8")


def _needs_reference_order(value: JsonValue) -> bool:
    """Validate `value`; True when some key needs UTF-16 ordering."""
    if isinstance(value, str):
        _check_string(value)
        return False
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        if not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
            raise ValueError(f"integer {value} is outside the I-JSON safe range")
        return False
    if isinstance(value, Mapping):
        astral = False
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"object key {key!r} is not a string")
            _check_string(key)
            astral = astral or (not key.isascii() and max(key) > "\uffff")
            astral = _needs_reference_order(item) or astral
        return astral
    if isinstance(value, Sequence):
        astral = False
        for item in value:
            astral = _needs_reference_order(item) or astral
        return astral
    raise TypeError(f"{type(value).__name__} is not a canonical JSON value")


def _check_string(text: str) -> None:
    # A lone surrogate has no UTF-8 form; encode() raises UnicodeEncodeError (a ValueError).
    if not text.isascii():
        text.encode("utf-8")
