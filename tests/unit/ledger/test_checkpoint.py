from __future__ import annotations

import base64
import contextlib
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from changeproof.ledger import (
    Checkpoint,
    KeyMismatchError,
    NoteFormatError,
    NoteSigner,
    NoteVerifier,
    SignatureError,
    parse_note,
)
from changeproof.ledger.keys import parse_public_key, public_key_pem

ROOT = hashlib.sha256(b"root").digest()


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner("example.com/log", Ed25519PrivateKey.generate())


def test_signed_note_has_the_c2sp_shape(signer: NoteSigner) -> None:
    note = signer.sign(Checkpoint("example.com/log", 42, ROOT))
    text, signature_line = note.split("\n\n")
    assert text == f"example.com/log\n42\n{base64.b64encode(ROOT).decode()}"
    assert signature_line.startswith("\u2014 example.com/log ")
    blob = base64.b64decode(signature_line.split(" ")[2])
    public = signer.verifier.public_key
    expected_id = hashlib.sha256(b"example.com/log\n\x01" + public).digest()[:4]
    assert blob[:4] == expected_id
    assert len(blob) == 4 + 64


def test_open_returns_the_checkpoint(signer: NoteSigner) -> None:
    checkpoint = Checkpoint("example.com/log", 7, ROOT, ("extension line",))
    assert signer.verifier.open(signer.sign(checkpoint)) == checkpoint


def test_an_altered_note_fails_its_signature(signer: NoteSigner) -> None:
    note = signer.sign(Checkpoint("example.com/log", 7, ROOT))
    altered = note.replace("\n7\n", "\n8\n")
    with pytest.raises(SignatureError):
        signer.verifier.open(altered)


def test_another_key_is_a_key_mismatch_not_a_forgery(signer: NoteSigner) -> None:
    note = signer.sign(Checkpoint("example.com/log", 7, ROOT))
    stranger = NoteSigner("example.com/log", Ed25519PrivateKey.generate())
    with pytest.raises(KeyMismatchError, match=r"example\.com/log"):
        stranger.verifier.open(note)


def test_verifier_keys_round_trip_through_text_and_pem(signer: NoteSigner) -> None:
    vkey = signer.verifier.vkey()
    assert vkey.startswith("example.com/log+")
    assert NoteVerifier.from_vkey(vkey).key_id == signer.verifier.key_id
    from_pem = parse_public_key(public_key_pem(signer.verifier))
    note = signer.sign(Checkpoint("example.com/log", 1, ROOT))
    assert from_pem.open(note).size == 1


@pytest.mark.parametrize(
    "note",
    [
        "",
        "no blank line\n",
        "a\n1\nroot\n\n- dash a AAAA\n",
        "origin\nnot-a-number\nAAAA\n\n\u2014 k AAAAAAAAAAA=\n",
        "origin\n01\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 k AAAAAAAAAAA=\n",
        "origin\n1\nshort\n\n\u2014 k AAAAAAAAAAA=\n",
        "origin\n1\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 k !!!\n",
        "origin\x07\n1\n" + base64.b64encode(ROOT).decode() + "\n\n\u2014 k AAAAAAAAAAA=\n",
    ],
    ids=["empty", "no-signatures", "ascii-dash", "size", "leading-zero", "root", "b64", "control"],
)
def test_malformed_notes_are_format_errors(note: str, signer: NoteSigner) -> None:
    with pytest.raises(NoteFormatError):
        signer.verifier.open(note)


@given(st.text(max_size=400))
def test_parsing_anything_raises_only_format_errors(note: str) -> None:
    with contextlib.suppress(NoteFormatError):
        parse_note(note)


def test_a_bare_signature_never_passes_for_a_checkpoint() -> None:
    key = Ed25519PrivateKey.generate()
    signer = NoteSigner("example.org/log", key)
    message = b"DSSEv1 28 application/vnd.in-toto+json 2 {}"
    key.public_key().verify(signer.sign_message(message), message)
    forged = Checkpoint("example.org/log", 1, bytes(32)).text().encode()
    with pytest.raises(NoteFormatError, match="reads as a checkpoint"):
        signer.sign_message(forged)
