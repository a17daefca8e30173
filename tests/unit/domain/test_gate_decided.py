"""A gate decision's hand-written encoder says exactly what its codec would, and decodes back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.decisions import (
    Classification,
    ControlResult,
    ControlStatus,
    EvidenceRef,
    GateDecided,
)
from changeproof.domain.payloads import _adapter

text = st.text(max_size=20)
optional = st.none() | text
refs = st.builds(EvidenceRef, kind=text, ref=text, note=optional)
facts = st.dictionaries(text, st.integers(-(2**53), 2**53) | st.booleans() | text, max_size=3)
controls = st.builds(
    ControlResult,
    id=text,
    status=st.sampled_from(ControlStatus),
    reason=text,
    evidence=st.tuples(refs, refs) | st.just(()),
    facts=facts,
)
decisions = st.builds(
    GateDecided,
    release=text,
    environment=text,
    allowed=st.booleans(),
    classification=st.sampled_from(Classification),
    classification_reason=text,
    approval_required=st.booleans(),
    controls=st.lists(controls, max_size=3).map(tuple),
    policy_digest=text,
    deployer=optional,
    deployer_identity=optional,
    artifact=optional,
    urgent_reason=optional,
    bypassed=st.lists(text, max_size=2).map(tuple),
    as_of_seq=st.integers(0, 2**40),
    declared=st.none() | st.sampled_from(Classification),
    now=text,
)


@given(decisions)
def test_the_hand_encoder_is_the_codec_and_decodes_back(decided: GateDecided) -> None:
    data = decided.to_data()
    assert data == _adapter(GateDecided).dump_python(decided, mode="json")
    assert GateDecided.from_data(data) == decided


@given(decisions)
def test_the_verdict_leaves_out_only_what_the_gate_was_asked_when(decided: GateDecided) -> None:
    verdict = decided.verdict()
    assert set(decided.to_data()) - set(verdict) == {"declared", "now"}
