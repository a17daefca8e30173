"""Authenticating a webhook delivery before its body is read.

GitHub signs each delivery with `X-Hub-Signature-256` (HMAC-SHA256 of the raw body); GitLab
sends the webhook's secret token in `X-Gitlab-Token`. Both are compared in constant time, and
a failure raises `ReadError` naming the header, never the expected value.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final

from changeproof.ingest.errors import ReadError

__all__ = ["verify_github_signature", "verify_gitlab_token"]

_CONFIGURE_HINT: Final = "configure the webhook secret changeproof should expect"


def verify_github_signature(body: bytes, header: str | None, secret: bytes) -> None:
    """Check `X-Hub-Signature-256: sha256=<hex>`, GitHub's HMAC-SHA256 of the raw body.

    Raises `ReadError` when the header is missing or malformed or does not match; the
    expected digest is never put in the message.
    """
    name = "X-Hub-Signature-256"
    if not secret:
        raise ReadError(name, "no webhook secret to check the signature with", hint=_CONFIGURE_HINT)
    if header is None or not header.strip():
        raise ReadError(
            name,
            "the delivery is not signed (no X-Hub-Signature-256 header)",
            hint="set a secret on the GitHub webhook so that GitHub signs every delivery",
        )
    value = header.strip()
    if value.startswith("sha1="):
        raise ReadError(
            name,
            "that is the legacy SHA-1 signature (X-Hub-Signature); it is not accepted",
            hint="pass the X-Hub-Signature-256 header, which GitHub sends beside it",
        )
    if not value.startswith("sha256="):
        raise ReadError(name, "the signature does not start with 'sha256='")
    digest = value.removeprefix("sha256=")
    if len(digest) != 64 or not all(c in "0123456789abcdefABCDEF" for c in digest):
        raise ReadError(name, "the signature is not 64 hexadecimal digits after 'sha256='")
    expected = hmac.new(secret, body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, bytes.fromhex(digest)):
        raise ReadError(
            name,
            "the signature does not match the body",
            hint="check the webhook secret; otherwise the body was changed after GitHub signed "
            "it (verify the raw bytes received, before any JSON re-encoding)",
        )


def verify_gitlab_token(header: str | None, secret: str) -> None:
    """Check `X-Gitlab-Token` against the webhook's secret token, in constant time."""
    name = "X-Gitlab-Token"
    if not secret:
        raise ReadError(name, "no webhook secret token to check against", hint=_CONFIGURE_HINT)
    if header is None or not header:
        raise ReadError(
            name,
            "the delivery carries no X-Gitlab-Token header",
            hint="set a secret token on the GitLab webhook",
        )
    if not hmac.compare_digest(header.encode("utf-8", "surrogatepass"), secret.encode("utf-8")):
        raise ReadError(name, "the token does not match the webhook's secret token")
