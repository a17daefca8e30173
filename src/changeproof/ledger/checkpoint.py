"""Checkpoints as C2SP signed notes (c2sp.org/tlog-checkpoint, c2sp.org/signed-note).

A checkpoint's text is three lines (origin, decimal tree size, base64 root hash) plus
optional extension lines; the note appends a blank line and one signature line per
signer: ``— <key name> <base64(key id || Ed25519 signature)>``. The key id is the first
four bytes of SHA-256(key name || 0x0A || 0x01 || public key).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from changeproof.ledger.errors import KeyMismatchError, NoteFormatError, SignatureError
from changeproof.ledger.merkle import HASH_SIZE

__all__ = [
    "MAX_NOTE_BYTES",
    "Checkpoint",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "parse_note",
]

MAX_NOTE_BYTES: Final = 1 << 20
_MAX_SIGNATURES: Final = 100
_ED25519: Final = b"\x01"
_DASH: Final = "\u2014 "


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The note text the signatures cover, final newline included."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


def _key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + _ED25519 + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(ch.isspace() or ch == "+" for ch in name):
        raise NoteFormatError(f"key name {name!r} must be non-empty, without spaces or '+'")


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


class NoteSigner:
    """Signs checkpoints with the instance's Ed25519 key under a key name (its origin)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_name(name)
        self.name = name
        self._key = private_key
        self.verifier = NoteVerifier(_raw(private_key.public_key()), name=name)

    def sign(self, checkpoint: Checkpoint) -> str:
        text = checkpoint.text()
        _check_text(text)
        signature = self._key.sign(text.encode())
        blob = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{_DASH}{self.name} {blob}\n"

    def sign_message(self, message: bytes) -> bytes:
        """A bare Ed25519 signature over `message`, for formats that frame what they sign
        (DSSE signs `DSSEv1 …`). Refuses a message that starts as this key's checkpoints do
        (the origin line), so nothing signed here can pass for a checkpoint."""
        if message.startswith(self.name.encode() + b"\n"):
            raise NoteFormatError("refusing to sign a message that reads as a checkpoint")
        return self._key.sign(message)


class NoteVerifier:
    """Opens notes signed by one Ed25519 key; `name` pins the key name when known."""

    def __init__(self, public_key: bytes, *, name: str | None = None) -> None:
        if len(public_key) != 32:
            raise NoteFormatError("an Ed25519 public key is 32 bytes")
        self.public_key = public_key
        self.name = name
        self._key = Ed25519PublicKey.from_public_bytes(public_key)

    @property
    def key_id(self) -> bytes:
        if self.name is None:
            raise NoteFormatError("a key id needs a key name")
        return _key_id(self.name, self.public_key)

    def vkey(self) -> str:
        """The verifier key string (name+hex key id+base64 key) witnesses and auditors keep."""
        if self.name is None:
            raise NoteFormatError("a verifier key needs a key name")
        encoded = base64.b64encode(_ED25519 + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteFormatError("a verifier key has the form name+keyid+base64key")
        name, key_id_hex, encoded = parts
        _check_name(name)
        try:
            raw = base64.b64decode(encoded, validate=True)
            key_id = bytes.fromhex(key_id_hex)
        except (binascii.Error, ValueError) as e:
            raise NoteFormatError(f"verifier key is not well formed: {e}") from e
        if raw[:1] != _ED25519 or len(raw) != 33:
            raise NoteFormatError("verifier key is not an Ed25519 key")
        verifier = cls(raw[1:], name=name)
        if verifier.key_id != key_id:
            raise NoteFormatError("verifier key's id does not match its name and key")
        return verifier

    def open(self, note: str) -> Checkpoint:
        """Parse `note` and check our signature on it.

        KeyMismatchError when no signature line is from this key (the wrong key was given);
        SignatureError when one is, and it does not verify (the note was altered or forged).
        """
        checkpoint, text, signatures = parse_note(note)
        for sig in signatures:
            if self.name is not None and sig.name != self.name:
                continue
            if sig.key_id != _key_id(sig.name, self.public_key):
                continue
            try:
                self._key.verify(sig.signature, text.encode())
            except InvalidSignature as e:
                raise SignatureError(
                    f"signature by {sig.name} does not verify: the checkpoint was altered or forged"
                ) from e
            return checkpoint
        names = ", ".join(f"{s.name} ({s.key_id.hex()})" for s in signatures)
        raise KeyMismatchError(
            f"the note is not signed by this public key; it is signed by {names}"
        )


_CONTROL: Final = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _check_text(text: str) -> None:
    if _CONTROL.search(text):
        raise NoteFormatError("note contains a control character")


def parse_note(note: str) -> tuple[Checkpoint, str, list[NoteSignature]]:
    """Split a signed checkpoint note into its checkpoint, signed text and signatures."""
    if len(note.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise NoteFormatError(f"note is larger than {MAX_NOTE_BYTES} bytes")
    _check_text(note)
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise NoteFormatError("not a signed note: no blank line before the signatures")
    text, sig_block = note[: cut + 1], note[cut + 2 :]
    signatures: list[NoteSignature] = []
    for number, line in enumerate(sig_block.removesuffix("\n").split("\n"), start=1):
        if not line.startswith(_DASH):
            raise NoteFormatError(f"signature line {number} does not start with an em dash")
        name, _, blob = line[len(_DASH) :].partition(" ")
        _check_name(name)
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error as e:
            raise NoteFormatError(f"signature line {number} is not base64") from e
        if len(raw) < 5:
            raise NoteFormatError(f"signature line {number} is too short")
        signatures.append(NoteSignature(name=name, key_id=raw[:4], signature=raw[4:]))
    if not signatures or len(signatures) > _MAX_SIGNATURES:
        raise NoteFormatError("a signed note has between 1 and 100 signatures")
    return _parse_checkpoint(text), text, signatures


def _parse_checkpoint(text: str) -> Checkpoint:
    lines = text.removesuffix("\n").split("\n")
    if len(lines) < 3:
        raise NoteFormatError("a checkpoint has an origin, a tree size and a root hash line")
    origin, size_text, root_text, *extensions = lines
    if not origin:
        raise NoteFormatError("checkpoint origin line is empty")
    # isascii: str.isdigit also takes "²" and other digits int() refuses.
    digits = size_text.isascii() and size_text.isdigit()
    if not digits or (size_text.startswith("0") and size_text != "0"):
        raise NoteFormatError(f"checkpoint tree size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as e:
        raise NoteFormatError("checkpoint root hash is not base64") from e
    if len(root) != HASH_SIZE:
        raise NoteFormatError(f"checkpoint root hash is {len(root)} bytes, not {HASH_SIZE}")
    if any(not line for line in extensions):
        raise NoteFormatError("checkpoint has an empty extension line")
    return Checkpoint(origin, int(size_text), root, tuple(extensions))
