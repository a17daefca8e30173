"""Authenticating a webhook delivery before its body is read.

GitHub signs each delivery with `X-Hub-Signature-256` (HMAC-SHA256 of the raw body); GitLab
sends the webhook's secret token in `X-Gitlab-Token`; a Standard Webhooks sender (GitLab
with a signing token, and many others) signs `webhook-id.webhook-timestamp.body` with
HMAC-SHA256 under a `whsec_…` secret and sends `webhook-signature: v1,<base64> …`. All are
compared in constant time, and a failure raises `SignatureError` naming the header and why
(`reason`: missing, malformed, mismatch, expired, unconfigured), never the expected value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Final

from changeproof.ingest.errors import ReadError

__all__ = [
    "STANDARD_TOLERANCE",
    "SignatureError",
    "standard_secret",
    "verify_github_signature",
    "verify_gitlab_token",
    "verify_standard_signature",
]

_CONFIGURE_HINT: Final = "configure the webhook secret changeproof should expect"
# Standard Webhooks: a timestamp further than this from the receiver's clock is refused, so
# a captured delivery cannot be replayed later.
STANDARD_TOLERANCE: Final = 5 * 60
_SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the spec's prefix, not a secret
_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}")
_MSG_ID: Final = re.compile(r"[\x21-\x7e]{1,255}")


class SignatureError(ReadError):
    """A delivery whose signature does not hold; `reason` is a short slug for counting."""

    def __init__(self, header: str, problem: str, *, reason: str, hint: str | None = None) -> None:
        super().__init__(header, problem, hint=hint)
        self.reason = reason


def verify_github_signature(body: bytes, header: str | None, secret: bytes) -> None:
    """Check `X-Hub-Signature-256: sha256=<hex>`, GitHub's HMAC-SHA256 of the raw body.

    Raises `ReadError` when the header is missing or malformed or does not match; the
    expected digest is never put in the message.
    """
    name = "X-Hub-Signature-256"
    if not secret:
        raise SignatureError(
            name,
            "no webhook secret to check the signature with",
            reason="unconfigured",
            hint=_CONFIGURE_HINT,
        )
    if header is None or not header.strip():
        raise SignatureError(
            name,
            "the delivery is not signed (no X-Hub-Signature-256 header)",
            reason="missing",
            hint="set a secret on the GitHub webhook so that GitHub signs every delivery",
        )
    value = header.strip()
    if value.startswith("sha1="):
        raise SignatureError(
            name,
            "that is the legacy SHA-1 signature (X-Hub-Signature); it is not accepted",
            reason="malformed",
            hint="pass the X-Hub-Signature-256 header, which GitHub sends beside it",
        )
    if not value.startswith("sha256="):
        raise SignatureError(
            name, "the signature does not start with 'sha256='", reason="malformed"
        )
    digest = value.removeprefix("sha256=")
    if len(digest) != 64 or not all(c in "0123456789abcdefABCDEF" for c in digest):
        raise SignatureError(
            name, "the signature is not 64 hexadecimal digits after 'sha256='", reason="malformed"
        )
    expected = hmac.new(secret, body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, bytes.fromhex(digest)):
        raise SignatureError(
            name,
            "the signature does not match the body",
            reason="mismatch",
            hint="check the webhook secret; otherwise the body was changed after GitHub signed "
            "it (verify the raw bytes received, before any JSON re-encoding)",
        )


def verify_gitlab_token(header: str | None, secret: str) -> None:
    """Check `X-Gitlab-Token` against the webhook's secret token, in constant time."""
    name = "X-Gitlab-Token"
    if not secret:
        raise SignatureError(
            name,
            "no webhook secret token to check against",
            reason="unconfigured",
            hint=_CONFIGURE_HINT,
        )
    if header is None or not header:
        raise SignatureError(
            name,
            "the delivery carries no X-Gitlab-Token header",
            reason="missing",
            hint="set a secret token on the GitLab webhook",
        )
    if not hmac.compare_digest(header.encode("utf-8", "surrogatepass"), secret.encode("utf-8")):
        raise SignatureError(
            name, "the token does not match the webhook's secret token", reason="mismatch"
        )


def standard_secret(text: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret `whsec_<base64>`; ValueError, never quoting
    it, when it is not one."""
    value = text.strip()
    if not value.startswith(_SECRET_PREFIX):
        raise ValueError(f"a Standard Webhooks secret starts with {_SECRET_PREFIX}")
    try:
        key = base64.b64decode(value.removeprefix(_SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"the part after {_SECRET_PREFIX} is not base64") from e
    if len(key) < 16:
        raise ValueError("a Standard Webhooks secret must hold at least 16 bytes (128 bits)")
    return key


def verify_standard_signature(
    body: bytes,
    *,
    msg_id: str | None,
    timestamp: str | None,
    signatures: str | None,
    keys: Sequence[bytes],
    now: float,
    tolerance: int = STANDARD_TOLERANCE,
) -> None:
    """Check a Standard Webhooks delivery: `webhook-timestamp` within `tolerance` seconds of
    `now` (Unix seconds), and one of the space-separated `v1,<base64>` signatures in
    `webhook-signature` equal to HMAC-SHA256(key, id.timestamp.body) under one of `keys`
    (several while a secret is rotated). Other signature versions are skipped, as the spec
    asks; SignatureError when none holds."""
    if not keys:
        raise SignatureError(
            "webhook-signature",
            "no Standard Webhooks secret to check the signature with",
            reason="unconfigured",
            hint=_CONFIGURE_HINT,
        )
    msg_id = _required("webhook-id", msg_id)
    timestamp = _required("webhook-timestamp", timestamp)
    signatures = _required("webhook-signature", signatures)
    if not _MSG_ID.fullmatch(msg_id):
        raise SignatureError(
            "webhook-id", "the id is not 1 to 255 printable ASCII characters", reason="malformed"
        )
    if not _TIMESTAMP.fullmatch(timestamp.strip()):
        raise SignatureError(
            "webhook-timestamp", "the timestamp is not whole Unix seconds", reason="malformed"
        )
    sent = int(timestamp.strip())
    if abs(now - sent) > tolerance:
        raise SignatureError(
            "webhook-timestamp",
            f"the timestamp is {abs(int(now) - sent)} s away from the server's clock (more "
            f"than {tolerance} s): a replay, or a clock that is wrong",
            reason="expired",
        )
    given = _v1_signatures(signatures)
    signed = msg_id.encode("ascii") + b"." + timestamp.strip().encode("ascii") + b"." + body
    for key in keys:
        expected = hmac.new(key, signed, hashlib.sha256).digest()
        # Every candidate is compared, whichever matches: the time taken says nothing.
        matched = [hmac.compare_digest(expected, candidate) for candidate in given]
        if any(matched):
            return
    raise SignatureError(
        "webhook-signature",
        "no signature matches the delivery under any configured secret",
        reason="mismatch",
        hint="check the secret (whsec_…); otherwise the body was changed after it was signed",
    )


def _required(name: str, value: str | None) -> str:
    if value is None or not value.strip():
        raise SignatureError(name, f"the delivery carries no {name} header", reason="missing")
    return value


def _v1_signatures(header: str) -> list[bytes]:
    found: list[bytes] = []
    for part in header.split():
        version, comma, value = part.partition(",")
        if not comma or version != "v1":
            continue  # another scheme (v1a is asymmetric): not ours to check
        try:
            digest = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(digest) == hashlib.sha256().digest_size:
            found.append(digest)
    if not found:
        raise SignatureError(
            "webhook-signature",
            "the header holds no v1,<base64 HMAC-SHA256> signature",
            reason="malformed",
        )
    return found
