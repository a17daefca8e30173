"""Signatures on attestations, and the public keys a caller trusts to check them.

Keys are PEM Ed25519 or ECDSA P-256, each known by its in-toto (securesystemslib) key id. A DSSE
signature signs PAE(payloadType, payload); a classic in-toto link signature signs the
securesystemslib canonical JSON of the link's `signed` object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from changeproof.domain.canonical import JsonValue
from changeproof.ingest.errors import ReadError

__all__ = [
    "NO_KEY_HINT",
    "Signature",
    "VerifyingKey",
    "key_ids",
    "load_keys",
    "pae",
    "securesystemslib_json",
    "verified_key_ids",
]

NO_KEY_HINT: Final = "pass the builder's public key (PEM, Ed25519 or ECDSA P-256)"

_PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True, slots=True)
class VerifyingKey:
    public: _PublicKey
    key_id: str  # in-toto (securesystemslib) key id: sha256 of the key's canonical JSON

    def verifies(self, signature: bytes, message: bytes) -> bool:
        try:
            if isinstance(self.public, Ed25519PublicKey):
                self.public.verify(signature, message)
            else:
                self.public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True


def load_keys(public_keys: Sequence[bytes], source: str) -> tuple[VerifyingKey, ...]:
    keys: list[VerifyingKey] = []
    for n, pem in enumerate(public_keys, 1):
        try:
            public = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError, UnsupportedAlgorithm) as e:
            raise ReadError(
                source, f"public key #{n} is not a PEM public key", hint=NO_KEY_HINT
            ) from e
        if isinstance(public, Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            described: dict[str, JsonValue] = {
                "keytype": "ed25519",
                "scheme": "ed25519",
                "keyval": {"public": raw.hex()},
            }
        elif isinstance(public, ec.EllipticCurvePublicKey) and isinstance(
            public.curve, ec.SECP256R1
        ):
            spki = public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            described = {
                "keytype": "ecdsa",
                "scheme": "ecdsa-sha2-nistp256",
                "keyval": {"public": spki.decode("ascii")},
            }
        else:
            raise ReadError(
                source,
                f"public key #{n} is neither Ed25519 nor ECDSA P-256",
                hint=NO_KEY_HINT,
            )
        key_id = hashlib.sha256(securesystemslib_json(described).encode("utf-8")).hexdigest()
        keys.append(VerifyingKey(public, key_id))
    return tuple(keys)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what a DSSE signature signs."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def securesystemslib_json(value: object) -> str:
    """securesystemslib's canonical JSON (OLPC style): sorted keys, no spaces, only `\\` and `"`
    escaped, raw UTF-8, integers only. What a classic in-toto link signature signs."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ",".join(securesystemslib_json(item) for item in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items())
        return (
            "{"
            + ",".join(f"{securesystemslib_json(k)}:{securesystemslib_json(v)}" for k, v in items)
            + "}"
        )
    raise TypeError(f"{type(value).__name__} has no canonical form")


@dataclass(frozen=True, slots=True)
class Signature:
    key_id: str | None
    sig: bytes


def key_ids(signatures: Sequence[Signature]) -> tuple[str, ...]:
    """The key ids the signatures name, each once."""
    return tuple(dict.fromkeys(s.key_id for s in signatures if s.key_id))


def verified_key_ids(
    signatures: Sequence[Signature], message: bytes, keys: Sequence[VerifyingKey]
) -> list[str]:
    """Ids of the given keys that made one of `signatures` over `message`."""
    return list(
        dict.fromkeys(
            key.key_id for sig in signatures for key in keys if key.verifies(sig.sig, message)
        )
    )
