"""A commit's event data: encoded from its fields, exactly as the generic encoders would."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.canonical import canonical_json, json_text
from changeproof.domain.releases import (
    Commit,
    CommitRecorded,
    Identity,
    PathChange,
    Person,
    TicketRef,
    TicketSource,
)

# Any text but lone surrogates (no UTF-8 form): quotes, controls, astral characters included.
_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=10)
_counts = st.none() | st.integers(min_value=0, max_value=2**53 - 1)
_people = st.builds(Person, _text, _text, _text)
_commits = st.builds(
    Commit,
    sha=_text,
    parents=st.lists(_text, max_size=3).map(tuple),
    author=_people,
    committer=_people,
    co_authors=st.lists(st.builds(Identity, _text, _text), max_size=2).map(tuple),
    subject=_text,
    message=_text,
    paths=st.lists(
        st.builds(PathChange, _text, _counts, _counts, st.none() | _text), max_size=4
    ).map(tuple),
    tickets=st.lists(
        st.builds(TicketRef, _text, _text, st.sampled_from(TicketSource), st.booleans()),
        max_size=3,
    ).map(tuple),
    reverts=st.none() | _text,
)


@given(_commits)
def test_a_commit_s_data_encodes_as_the_generic_encoders_do(commit: Commit) -> None:
    recorded = CommitRecorded.of(commit)
    data = recorded.to_data()
    plain = dict(data)  # what the payload's adapter dumps
    assert data.text == json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert data.canonical == canonical_json(data) == rfc8785.dumps(plain)
    assert json_text(data) == recorded.record_json() == data.text
    assert CommitRecorded.from_data(plain) == CommitRecorded.from_data(data) == recorded
    assert recorded.commit == commit
    assert plain["merge"] is commit.merge


@pytest.mark.parametrize(
    "commit",
    [
        Commit("a", (), Person("n", "e", "t"), Person("n", "e", "t"), (), "s", "\ud800", (), ()),
        Commit(
            "a",
            (),
            Person("n", "e", "t"),
            Person("n", "e", "t"),
            (),
            "s",
            "m",
            (PathChange("p", 2**53, 0),),
            (),
        ),
    ],
    ids=["lone-surrogate", "unsafe-int"],
)
def test_a_commit_s_data_refuses_what_canonical_json_refuses(commit: Commit) -> None:
    with pytest.raises(ValueError, match=r"surrogate|I-JSON"):
        CommitRecorded.of(commit).to_data()
