"""Tokens: their text, what is kept of it, and when `--expires` says they stop working."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import InputError
from changeproof.domain.events import format_time, parse_time
from changeproof.domain.tokens import (
    MAX_LIFETIME,
    Token,
    TokenId,
    TokenRevoked,
    expiry,
    issue,
    present,
    token_id,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
ZONES: st.SearchStrategy[tzinfo] = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
nows = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(st.binary(min_size=8, max_size=8), st.binary(min_size=32, max_size=32))
def test_an_issued_token_reads_back_as_its_id_and_digest(ident: bytes, secret: bytes) -> None:
    issued = issue(ident, secret)
    assert re.fullmatch(r"cpt_[0-9a-f]{16}_[0-9a-f]{64}", issued.text)
    assert issued.id == ident.hex()
    assert issued.sha256 == hashlib.sha256(issued.text.encode()).hexdigest()
    presented = present(f"  {issued.text}\n")  # as pasted into a variable
    assert (presented.id, presented.sha256) == (issued.id, issued.sha256)
    assert secret.hex() not in repr(issued)
    assert token_id(issued.text) == token_id(issued.id) == issued.id


def test_issue_needs_exactly_the_random_bytes_it_asks_for() -> None:
    with pytest.raises(ValueError, match="8 id bytes and 32 secret bytes"):
        issue(b"\x00" * 7, b"\x00" * 32)


@given(st.text(max_size=200))
def test_a_malformed_token_is_refused_without_quoting_it(text: str) -> None:
    assume(not re.fullmatch(r"\s*cpt_[0-9a-f]{16}_[0-9a-f]{64}\s*", text))
    with pytest.raises(ValueError, match=r"it is empty|not a changeproof token") as raised:
        present(text)
    if len(text.strip()) > 4:
        assert text.strip() not in str(raised.value)


@pytest.mark.parametrize(
    "text",
    [
        "cpt_" + "a" * 16 + "_" + "b" * 63,  # a digit short
        "cpt_" + "A" * 16 + "_" + "b" * 64,  # upper case
        "cpx_" + "a" * 16 + "_" + "b" * 64,
        "cpt_" + "a" * 16 + "-" + "b" * 64,
        "a" * 15,
    ],
)
def test_near_misses_are_not_tokens_or_ids(text: str) -> None:
    with pytest.raises(ValueError, match="not a changeproof token"):
        token_id(text)


def test_token_data_round_trips_and_rejects_what_it_cannot_read() -> None:
    token = Token(TokenId("0123456789abcdef"), "alice", "e" * 64, NOW, "ci")
    assert token.to_data()["expires_at"] == "2026-11-25T12:00:00.000000Z"
    assert Token.from_data(token.to_data()) == token
    assert Token.from_data({**token.to_data(), "label": None}).label is None
    cases: list[tuple[dict[str, JsonValue], str]] = [
        ({"id": "XYZ"}, "field 'id': String should match pattern"),
        ({"id": "0123456789ABCDEF"}, "field 'id': String should match pattern"),
        ({"actor": 7}, "field 'actor': Input should be a valid string"),
        ({"label": 7}, "field 'label': Input should be a valid string"),
        ({"expires_at": "2026-11-25"}, "field 'expires_at': .*not a changeproof timestamp"),
    ]
    for bad, words in cases:
        with pytest.raises(InputError, match=words):
            Token.from_data({**token.to_data(), **bad})
    revoked = TokenRevoked(TokenId("0123456789abcdef"), "alice")
    assert revoked.to_data() == {"id": "0123456789abcdef", "actor": "alice"}
    assert TokenRevoked.from_data(revoked.to_data()) == revoked


@given(nows, st.integers(min_value=1, max_value=10_000), st.sampled_from(sorted(UNITS)))
def test_a_duration_counts_from_now(now: datetime, count: int, unit: str) -> None:
    wanted = count * UNITS[unit]
    if wanted > MAX_LIFETIME:
        with pytest.raises(ValueError, match="more than 3653 days from now"):
            expiry(f"{count}{unit}", now)
    else:
        assert expiry(f"{count}{unit}", now) == now + wanted


@given(nows, st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 1, 1)))
def test_a_date_means_midnight_utc_that_day(now: datetime, day: date) -> None:
    moment = datetime.combine(day, time(), UTC)
    if now < moment <= now + MAX_LIFETIME:
        assert expiry(day.isoformat(), now) == moment
    else:
        with pytest.raises(ValueError, match=r"not in the future|more than 3653 days"):
            expiry(day.isoformat(), now)


@given(
    nows,
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1), timezones=ZONES),
    st.booleans(),
)
def test_a_date_and_time_needs_its_offset(now: datetime, moment: datetime, naive: bool) -> None:
    text = moment.replace(tzinfo=None).isoformat() if naive else moment.isoformat()
    if naive:
        with pytest.raises(ValueError, match=r"give the time's offset \(Z or \+HH:MM\)"):
            expiry(text, now)
    elif now < moment <= now + MAX_LIFETIME:
        assert expiry(text, now) == moment
        assert expiry(text, now).tzinfo is UTC
    else:
        with pytest.raises(ValueError, match=r"not in the future|more than 3653 days"):
            expiry(text, now)


@given(nows, st.text(max_size=40))
def test_any_text_gives_a_future_moment_or_says_why_not(now: datetime, text: str) -> None:
    try:
        moment = expiry(text, now)
    except ValueError as e:
        reason = str(e)
        assert reason  # every refusal says why
    else:
        assert now < moment <= now + MAX_LIFETIME
        assert parse_time(format_time(moment)) == moment  # what the ledger keeps is exact


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0d", "at least 1"),
        ("90", "expected a duration"),
        ("90 days", "expected a duration"),
        ("1y", "expected a duration"),
        ("-1d", "expected a duration"),
        ("", "expected a duration"),
        ("2027-02-30", "day is out of range"),
        ("2026-11-25", "is not in the future"),
        ("2026-11-25T11:59:59Z", "is not in the future"),
        ("2040-01-01", "more than 3653 days"),
        ("99999999d", "expected a duration"),
        ("0001-01-01T00:00:00+23:59", "not a date changeproof can hold"),
        ("9999-12-31T23:59:59-23:59", "not a date changeproof can hold"),
    ],
)
def test_what_is_wrong_with_an_expiry(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        expiry(text, NOW)


def test_an_expiry_can_be_given_in_any_zone() -> None:
    assert expiry(" 12h ", NOW) == NOW + timedelta(hours=12)
    assert expiry("2027-01-31", NOW) == datetime(2027, 1, 31, tzinfo=UTC)
    assert expiry("2027-01-31T18:00:00+01:00", NOW) == datetime(2027, 1, 31, 17, tzinfo=UTC)
    assert expiry("2027-01-31T18:00Z", NOW) == datetime(2027, 1, 31, 18, tzinfo=UTC)
