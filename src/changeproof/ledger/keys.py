"""Reading the public keys auditors are handed: PEM (SubjectPublicKeyInfo) or a verifier key."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from changeproof.ledger.checkpoint import NoteVerifier
from changeproof.ledger.errors import NoteFormatError

__all__ = ["parse_public_key", "public_key_pem"]


def parse_public_key(data: bytes, *, name: str | None = None) -> NoteVerifier:
    """A verifier from PEM bytes or a `name+keyid+base64` verifier key line."""
    text = data.decode("utf-8", "replace").strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError as e:
            raise NoteFormatError("not a PEM public key") from e
        if not isinstance(key, Ed25519PublicKey):
            raise NoteFormatError("not an Ed25519 public key")
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return NoteVerifier(raw, name=name)
    return NoteVerifier.from_vkey(text)


def public_key_pem(verifier: NoteVerifier) -> bytes:
    key = Ed25519PublicKey.from_public_bytes(verifier.public_key)
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
