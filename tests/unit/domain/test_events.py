from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import InputError
from changeproof.domain.events import ActorId, Event, decode_body, format_time, parse_time
from tests.unit.domain.test_canonical import json_values

_moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(
    st.text(min_size=1, max_size=20),
    st.text(min_size=1, max_size=20),
    _moments,
    st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    st.integers(min_value=0, max_value=2**40),
)
def test_spliced_body_is_the_canonical_encoding_of_the_whole_event(
    kind: str, actor: str, moment: datetime, data: dict[str, JsonValue], seq: int
) -> None:
    event = Event(kind, ActorId(actor), moment, data)
    body = event.encode().body(seq)
    whole: dict[str, JsonValue] = {
        "actor": actor,
        "data": data,
        "seq": seq,
        "time": format_time(moment),
        "type": kind,
        "v": 1,
    }
    assert body == rfc8785.dumps(whole)
    decoded = decode_body(body, seq=seq)
    assert (decoded.seq, decoded.type, decoded.actor, decoded.time) == (seq, kind, actor, moment)
    assert decoded.data == data


def test_times_are_utc_whatever_zone_they_arrive_in() -> None:
    local = datetime(2026, 1, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(local) == "2026-01-01T12:30:00.000000Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"not json", "not JSON"),
        (b"[]", "not a JSON object"),
        (b'{"seq":1}', "expected"),
        (b'{"actor":"a","data":{},"seq":1,"time":"x","type":"t","v":1}', "not a changeproof"),
        (b'{"actor":"a","data":{},"seq":1,"time":"x","type":"t","v":2}', "version"),
    ],
)
def test_decoding_names_the_entry_and_the_problem(body: bytes, words: str) -> None:
    with pytest.raises(InputError, match="ledger entry 7") as caught:
        decode_body(body, seq=7)
    assert words in caught.value.message


@given(st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)))
def test_a_formatted_time_parses_back_to_itself(moment: datetime) -> None:
    assert parse_time(format_time(moment)) == moment


@given(st.text(alphabet="0123456789-T:.Z+ ", min_size=20, max_size=30))
def test_only_what_format_time_writes_parses(text: str) -> None:
    try:
        moment = parse_time(text)
    except ValueError:
        return
    assert format_time(moment) == text
