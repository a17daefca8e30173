"""The entry check compares a row's fields with its entry's as their canonical JSON would,
without encoding them (ledger data holds no fractions: canonical JSON refuses them)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.canonical import canonical_json
from changeproof.store.entry_check import _same

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=10,
)


@given(JSON, JSON)
def test_same_is_canonical_equality(one: object, other: object) -> None:
    assert _same(one, other) == (canonical_json(one) == canonical_json(other))  # type: ignore[arg-type]


@given(JSON)
def test_a_value_is_the_same_as_itself(value: object) -> None:
    assert _same(value, value)


def test_true_is_not_one_and_a_list_is_not_its_items() -> None:
    assert not _same(True, 1)
    assert not _same(0, False)
    assert not _same([1], 1)
    assert not _same({"a": 1}, {"a": 1, "b": None})
