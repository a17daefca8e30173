from __future__ import annotations

import json
import math

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.canonical import CanonicalObject, JsonValue, canonical_json

_ints = st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
# Text over the whole of Unicode except lone surrogates, which have no UTF-8 form.
_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
json_values: st.SearchStrategy[JsonValue] = st.recursive(
    st.none() | st.booleans() | _ints | _text,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_text, children, max_size=5),
    max_leaves=25,
)


@given(json_values)
def test_equals_the_reference_rfc8785_encoder(value: JsonValue) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


def test_orders_keys_by_utf16_code_units_not_code_points() -> None:
    # U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FF01 there, after it by code point.
    value = {"\uff01": 1, "\U0001f600": 2}
    assert canonical_json(value) == '{"\U0001f600":2,"\uff01":1}'.encode()


@pytest.mark.parametrize(
    "bad",
    [1.5, math.nan, 2**53, {"k": b"bytes"}, {1: "key"}, "\ud800", {"\udfff": 1}],
    ids=["float", "nan", "unsafe-int", "bytes", "int-key", "lone-surrogate", "surrogate-key"],
)
def test_rejects_what_canonical_json_cannot_hold(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        canonical_json(bad)  # type: ignore[arg-type]  # deliberately outside JsonValue


_objects = st.dictionaries(_text, json_values, max_size=5)


@given(_objects)
def test_a_canonical_object_encodes_as_the_reference_does(value: dict[str, JsonValue]) -> None:
    built = CanonicalObject(value)
    assert built == value
    assert canonical_json(built) == built.canonical == rfc8785.dumps(value)
    plain = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert built.text == plain


@pytest.mark.parametrize(
    "bad",
    [
        {"k": 1.5},
        {"a": "x", "k": [1, -2.5e-07, 3]},
        {"k": [1e16]},
        {"k": {"j": 1.0}},
        {"k": [2**53]},
        {"k": -(2**60)},
        {"k": "\ud800"},
        {"k": {"\udfff": 1}},
    ],
    ids=[
        "float",
        "float-in-a-list",
        "float-with-exponent",
        "float-in-an-object",
        "unsafe-int",
        "unsafe-negative-int",
        "lone-surrogate",
        "surrogate-key",
    ],
)
def test_a_canonical_object_refuses_what_canonical_json_refuses(bad: dict[str, object]) -> None:
    with pytest.raises((TypeError, ValueError)):
        CanonicalObject(bad)  # type: ignore[arg-type]  # deliberately outside JsonValue


@pytest.mark.parametrize(
    "value",
    [
        {"now": "2026-11-25T16:05:55.123456+00:00"},
        {"a": "v:1.5,", "b": ["x,1e+16]"], "c": ":12345678901234567}"},
        {"n": [9007199254740991, -9007199254740991, 0, 10]},
        {"\U0001f600": "\uff01", "\uff01": ["\U0001f600"]},
    ],
    ids=["time", "numbers-in-strings", "safe-ints", "astral"],
)
def test_a_canonical_object_with_number_like_text_encodes_as_the_reference_does(
    value: dict[str, JsonValue],
) -> None:
    assert CanonicalObject(value).canonical == rfc8785.dumps(value)


_anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _text,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_text, children, max_size=5),
    max_leaves=25,
)


@given(st.dictionaries(_text, _anything, max_size=5))
def test_a_canonical_object_refuses_exactly_what_canonical_json_refuses(
    value: dict[str, JsonValue],
) -> None:
    try:
        expected = canonical_json(value)
    except (TypeError, ValueError):
        with pytest.raises((TypeError, ValueError)):
            CanonicalObject(value)
    else:
        assert CanonicalObject(value).canonical == expected
