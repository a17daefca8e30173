"""The webhook signature checks: Standard Webhooks by the spec's own rules, and every header
parser fuzzed: whatever a sender puts in a header, the answer is a pass for a signature made
with the secret, or a SignatureError with a reason, never another exception."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from changeproof.ingest.webhooks import (
    SignatureError,
    standard_secret,
    verify_github_signature,
    verify_gitlab_token,
    verify_standard_signature,
)

KEY = b"0123456789abcdef0123456789abcdef"
OLD_KEY = b"fedcba9876543210fedcba9876543210"
NOW = 1_765_000_000
BODY = b'{"type":"review.submitted","data":{}}'
REASONS = {"missing", "malformed", "mismatch", "expired", "unconfigured"}


def _sign(msg_id: str, timestamp: int, body: bytes, key: bytes = KEY) -> str:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def _verify(
    signatures: str | None,
    *,
    msg_id: str | None = "msg_1",
    timestamp: str | None = str(NOW),
    keys: tuple[bytes, ...] = (KEY,),
    body: bytes = BODY,
) -> None:
    verify_standard_signature(
        body, msg_id=msg_id, timestamp=timestamp, signatures=signatures, keys=keys, now=NOW
    )


def test_a_standard_signature_under_any_configured_key_holds() -> None:
    _verify(_sign("msg_1", NOW, BODY))
    _verify(_sign("msg_1", NOW, BODY, OLD_KEY), keys=(KEY, OLD_KEY))  # rotation
    several = f"v1a,c2lnbmVk {_sign('msg_1', NOW, BODY, OLD_KEY)} {_sign('msg_1', NOW, BODY)}"
    _verify(several)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"msg_id": None}, "missing"),
        ({"timestamp": "  "}, "missing"),
        ({"timestamp": "17650000.5"}, "malformed"),
        ({"timestamp": str(NOW - 301)}, "expired"),
        ({"timestamp": str(NOW + 301)}, "expired"),
        ({"keys": ()}, "unconfigured"),
        ({"keys": (OLD_KEY,)}, "mismatch"),
        ({"body": BODY + b" "}, "mismatch"),
        ({"msg_id": "msg_2"}, "mismatch"),
        ({"msg_id": "with space"}, "malformed"),
    ],
)
def test_a_standard_signature_that_does_not_hold_says_why(
    change: dict[str, object], reason: str
) -> None:
    with pytest.raises(SignatureError) as caught:
        _verify(_sign("msg_1", NOW, BODY), **change)  # type: ignore[arg-type]
    assert caught.value.reason == reason


def test_the_timestamp_window_is_five_minutes_either_way() -> None:
    for timestamp in (NOW - 300, NOW + 300):
        _verify(_sign("msg_1", timestamp, BODY), timestamp=str(timestamp))


def test_a_header_of_other_schemes_only_is_malformed() -> None:
    with pytest.raises(SignatureError) as caught:
        _verify("v1a,c2lnbmVk v2,AAAA")
    assert caught.value.reason == "malformed"


def test_standard_secrets_are_whsec_base64_of_enough_bytes() -> None:
    assert standard_secret("whsec_" + base64.b64encode(KEY).decode()) == KEY
    for bad in ("not-a-secret", "whsec_!!!", "whsec_" + base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError, match=r"Standard Webhooks secret|base64") as caught:
            standard_secret(bad)
        assert bad not in str(caught.value)


_HEADER = st.one_of(st.none(), st.text(max_size=300), st.from_regex(r"v1,[A-Za-z0-9+/=]{0,60}"))


@given(signatures=_HEADER, msg_id=_HEADER, timestamp=_HEADER, body=st.binary(max_size=200))
def test_fuzzed_standard_headers_never_pass_without_the_key_nor_crash(
    signatures: str | None, msg_id: str | None, timestamp: str | None, body: bytes
) -> None:
    # Only a real signature under KEY can pass: a random one never matches.
    with pytest.raises(SignatureError) as caught:
        _verify(signatures, msg_id=msg_id, timestamp=timestamp, body=body)
    assert caught.value.reason in REASONS


@given(header=st.one_of(st.none(), st.text(max_size=200)), body=st.binary(max_size=200))
def test_fuzzed_github_signature_headers_never_pass_nor_crash(
    header: str | None, body: bytes
) -> None:
    with pytest.raises(SignatureError) as caught:
        verify_github_signature(body, header, b"the secret")
    assert caught.value.reason in REASONS


@given(body=st.binary(max_size=200), key=st.binary(min_size=1, max_size=64))
def test_a_github_signature_made_with_the_secret_always_holds(body: bytes, key: bytes) -> None:
    verify_github_signature(body, "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(), key)


@given(header=st.one_of(st.none(), st.text(max_size=200)))
def test_fuzzed_gitlab_tokens_never_pass_nor_crash(header: str | None) -> None:
    if header == "the token":
        return
    with pytest.raises(SignatureError) as caught:
        verify_gitlab_token(header, "the token")
    assert caught.value.reason in REASONS
