"""RFC 8785 (JCS) canonical JSON for the values events carry.

Events hold strings, integers, booleans, null, lists and objects; never floats, whose
ES6 number formatting is where encoders disagree. For those values JCS output equals
`json.dumps(sort_keys=True)` with no whitespace and raw UTF-8, except that JCS orders
keys by UTF-16 code units: the two orders differ only for keys holding characters
beyond U+FFFF, which we hand to the reference implementation. A property test pins the
fast path to `rfc8785.dumps`.

`CanonicalObject` is for the many objects our own code builds (a commit per event): it is
encoded once, when built, and its checks are made on the encoded text instead of by a walk.
"""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Mapping, Sequence
from typing import Final, TypeAlias

import rfc8785

__all__ = ["CanonicalObject", "JsonValue", "canonical_json", "json_text"]

JsonValue: TypeAlias = "str | int | bool | Sequence[JsonValue] | Mapping[str, JsonValue] | None"

# I-JSON (RFC 7493) integers: beyond 2**53 a reader using doubles silently changes the value.
_MAX_SAFE_INT: Final = 2**53 - 1
_encode = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
).encode
_encode_string: Final = json.encoder.encode_basestring  # what _encode does with a str


# In encoded text: where a number could be a float (1.5, 1e+16) or an integer of 16 digits or
# more, and then whether that is a whole number token, ending where a value ends. Text in a
# string matches now and then ("v:1.5,"): those objects are then walked, as others; a time
# with fractions of a second ("12:30:05.123456+00:00") does not.
_SUSPECT_NUMBER: Final = re.compile(r"[:,\[]-?\d(?:\d*[.eE]|\d{15})")
_NUMBER_TOKEN: Final = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[,\]}]")
_ASTRAL: Final = re.compile("[\U00010000-\U0010ffff]")


class CanonicalObject(dict[str, JsonValue]):
    """A JSON object our own code builds, encoded and checked once, when built.

    Only for objects assembled from typed fields, whose keys are strings and whose values are
    strings, integers, booleans, None, lists and such objects: the checks `canonical_json`
    makes with a walk are then made on the encoded text, and it returns the stored bytes.
    A lone surrogate fails to encode (ValueError); a number that could be a float or beyond
    the I-JSON range, or a character beyond U+FFFF (JCS orders such keys differently), sends
    the object through the walk after all. Never change one once built.
    """

    __slots__ = ("canonical", "text")

    def __init__(self, items: Mapping[str, JsonValue]) -> None:
        super().__init__(items)
        text = _encode(self)
        if not _suspect_number(text) and (text.isascii() or _ASTRAL.search(text) is None):
            canonical = text.encode("utf-8")
        else:
            canonical = canonical_json(dict(self))
        self.text: str = text  # json.dumps(sort_keys=True), no whitespace, raw UTF-8
        self.canonical: bytes = canonical  # RFC 8785


def json_text(value: object) -> str:
    """`value` as the text projections store: sorted keys, no whitespace, raw UTF-8.

    Not for bytes that are hashed or signed (`canonical_json` is); a `CanonicalObject` gives
    the text it was encoded to once already.
    """
    if isinstance(value, CanonicalObject):
        return value.text
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _suspect_number(text: str) -> bool:
    return any(_NUMBER_TOKEN.match(text, at.start() + 1) for at in _SUSPECT_NUMBER.finditer(text))


def canonical_json(value: JsonValue) -> bytes:
    """Encode `value` as RFC 8785 canonical JSON bytes; TypeError/ValueError on what JCS forbids."""
    if type(value) is str:  # an event's actor, type and time: no walk needed
        return _encode_string(value).encode("utf-8")  # a lone surrogate raises here
    if isinstance(value, CanonicalObject):
        return value.canonical
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
