"""The provenance reader: envelopes, statements, SLSA predicates, links and their signatures."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changeproof.domain.canonical import JsonValue, canonical_json
from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.ingest.errors import ReadError
from changeproof.ingest.provenance import pae, read_provenance

PAYLOAD_TYPE = "application/vnd.in-toto+json"
DIGEST = "ab" * 32
COMMIT = "0123456789abcdef0123456789abcdef01234567"
BUILDER = (
    "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/x.yml@refs/tags/v2"
)


def statement_v02(*subjects: tuple[str, str]) -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": n, "digest": {"sha256": d}} for n, d in subjects or [("app", DIGEST)]],
        "predicate": {
            "builder": {"id": BUILDER},
            "buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
            "invocation": {
                "configSource": {
                    "uri": "git+https://github.com/acme/shop@refs/tags/v1.2.0",
                    "digest": {"sha1": COMMIT.upper()},
                    "entryPoint": ".github/workflows/release.yml",
                }
            },
            "metadata": {"buildInvocationID": "123-1"},
            "materials": [
                {
                    "uri": "git+https://github.com/acme/shop@refs/tags/v1.2.0",
                    "digest": {"sha1": COMMIT},
                },
                {"uri": "https://github.com/actions/virtual-environments/releases/tag/ubuntu24"},
            ],
        },
    }


def statement_v1(external: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "pkg:npm/shop@1.2.0", "digest": {"sha512": "CD" * 64}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
                "externalParameters": external
                if external is not None
                else {
                    "workflow": {
                        "ref": "refs/heads/main",
                        "repository": "https://github.com/acme/shop",
                        "path": ".github/workflows/release.yml",
                    }
                },
                "resolvedDependencies": [
                    {
                        "uri": "git+https://github.com/acme/tooling@refs/heads/main",
                        "digest": {"gitCommit": "f" * 40},
                    },
                    {
                        "uri": "git+https://github.com/acme/shop@refs/heads/main",
                        "digest": {"gitCommit": COMMIT},
                    },
                ],
            },
            "runDetails": {
                "builder": {"id": "https://github.com/actions/runner/github-hosted"},
                "metadata": {
                    "invocationId": "https://github.com/acme/shop/actions/runs/1/attempts/1"
                },
            },
        },
    }


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def dsse(
    statement: dict[str, Any] | bytes,
    *keys: Ed25519PrivateKey | ec.EllipticCurvePrivateKey,
    payload_type: str = PAYLOAD_TYPE,
) -> dict[str, Any]:
    payload = statement if isinstance(statement, bytes) else json.dumps(statement).encode()
    signatures = []
    for n, key in enumerate(keys):
        message = pae(payload_type, payload)
        if isinstance(key, Ed25519PrivateKey):
            sig = key.sign(message)
        else:
            sig = key.sign(message, ec.ECDSA(hashes.SHA256()))
        signatures.append({"keyid": f"key-{n}", "sig": b64(sig)})
    return {"payloadType": payload_type, "payload": b64(payload), "signatures": signatures}


def pem(key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def read(
    doc: object, *, keys: Sequence[bytes] = (), require: bool = False, source: str = "prov.json"
) -> Reading:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return read_provenance(data, source, public_keys=keys, require_signature=require)


def plain(value: Mapping[str, JsonValue]) -> Any:
    """A reading's summary or detail as plain JSON data, to index freely."""
    return json.loads(json.dumps(value))


def olpc(value: object) -> bytes:
    """securesystemslib canonical JSON for printable ASCII text only: sorted, no whitespace.
    (Control characters differ: securesystemslib leaves them raw; see the escaping test.)"""
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def ed25519_keyid(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    described = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": raw.hex()}}
    return hashlib.sha256(olpc(described)).hexdigest()


def link(key: Ed25519PrivateKey | None = None, **signed_extra: Any) -> dict[str, Any]:
    signed: dict[str, Any] = {
        "_type": "link",
        "name": "test",
        "command": ["pytest", "-q"],
        "environment": {},
        "materials": {"src/app.py": {"sha256": "1" * 64}, "README": {"sha256": "2" * 64}},
        "products": {"report.xml": {"sha256": DIGEST}},
        "byproducts": {"return-value": 0, "stderr": "", "stdout": "ok; 2 passed in 0.01s"},
    }
    signed.update(signed_extra)
    signatures = []
    if key is not None:
        signatures.append({"keyid": ed25519_keyid(key), "sig": key.sign(olpc(signed)).hex()})
    return {"signatures": signatures, "signed": signed}


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


# --- statements and predicates ---------------------------------------------------------------


def test_bare_statement_with_slsa_v02() -> None:
    reading = read(statement_v02())
    assert reading.kind is EvidenceKind.PROVENANCE
    assert reading.format == "in-toto"
    s = reading.summary.to_data()
    assert s["envelope"] == "bare"
    assert s["statement_type"] == "https://in-toto.io/Statement/v0.1"
    assert s["predicate_type"] == "https://slsa.dev/provenance/v0.2"
    assert s["subjects"] == [{"name": "app", "digest": {"sha256": DIGEST}}]
    assert s["builder"] == BUILDER
    assert s["build_type"] == "https://github.com/slsa-framework/slsa-github-generator/generic@v1"
    assert s["source_uri"] == "git+https://github.com/acme/shop@refs/tags/v1.2.0"
    assert s["source_repository"] == "https://github.com/acme/shop"
    assert s["source_ref"] == "refs/tags/v1.2.0"
    assert s["source_commit"] == COMMIT  # lowercased
    assert s["materials"] == 2
    assert s["signatures"] == 0
    assert s["signature_verified"] is None
    assert reading.commits == (COMMIT,)
    assert reading.artifact_digests == (DIGEST,)
    assert "not signed: nothing binds this provenance to a builder" in reading.notes


def test_slsa_v02_materials_are_in_the_detail() -> None:
    materials = read(statement_v02()).detail.to_data()["materials"]
    assert materials == [
        {"uri": "git+https://github.com/acme/shop@refs/tags/v1.2.0", "digest": {"sha1": COMMIT}},
        {
            "uri": "https://github.com/actions/virtual-environments/releases/tag/ubuntu24",
            "digest": {},
        },
    ]


def test_slsa_v1_source_is_the_workflow_repository_and_its_resolved_commit() -> None:
    reading = read(statement_v1())
    s = reading.summary.to_data()
    assert s["statement_type"] == "https://in-toto.io/Statement/v1"
    assert s["predicate_type"] == "https://slsa.dev/provenance/v1"
    assert s["builder"] == "https://github.com/actions/runner/github-hosted"
    assert s["build_type"] == (
        "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
    )
    assert s["source_repository"] == "https://github.com/acme/shop"
    assert s["source_commit"] == COMMIT  # not the first resolved dependency's
    assert s["source_ref"] == "refs/heads/main"
    assert s["materials"] == 2
    assert reading.commits == (COMMIT,)
    assert reading.artifact_digests == ()  # a sha512 subject only
    assert s["subjects"] == [{"name": "pkg:npm/shop@1.2.0", "digest": {"sha512": "cd" * 64}}]


def test_slsa_v1_source_parameter_names_the_source() -> None:
    external = {
        "source": {
            "uri": "git+https://github.com/acme/shop@refs/heads/main",
            "digest": {"sha1": COMMIT},
        }
    }
    s = read(statement_v1(external)).summary.to_data()
    assert s["source_repository"] == "https://github.com/acme/shop"
    assert s["source_uri"] == "git+https://github.com/acme/shop@refs/heads/main"
    assert s["source_commit"] == COMMIT


def test_slsa_v1_without_source_parameters_falls_back_to_the_first_git_dependency() -> None:
    s = read(statement_v1({})).summary.to_data()
    assert s["source_repository"] == "https://github.com/acme/tooling"
    assert s["source_commit"] == "f" * 40


def test_other_predicates_give_subjects_without_a_builder() -> None:
    doc = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://github.com/npm/attestation/tree/main/specs/publish/v0.1",
        "subject": [{"name": "pkg:npm/shop@1.2.0", "digest": {"sha512": "cd" * 64}}],
        "predicate": {"name": "shop", "version": "1.2.0"},
    }
    s = read(doc).summary.to_data()
    assert s["builder"] is None
    assert s["source_commit"] is None
    assert s["subjects"] == [{"name": "pkg:npm/shop@1.2.0", "digest": {"sha512": "cd" * 64}}]


def test_repository_urls_keep_ssh_users_and_drop_dot_git() -> None:
    doc = statement_v02()
    doc["predicate"]["invocation"]["configSource"]["uri"] = (
        "git+ssh://git@example.com/acme/shop.git@v1"
    )
    s = read(doc).summary.to_data()
    assert s["source_repository"] == "ssh://git@example.com/acme/shop"
    assert s["source_ref"] == "v1"


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d.__setitem__("_type", "https://in-toto.io/Statement/v2"), "not provenance"),
        (lambda d: d.__setitem__("subject", []), "names no subject"),
        (lambda d: d["subject"][0].pop("digest"), "without a digest"),
        (lambda d: d["subject"][0]["digest"].__setitem__("sha256", "zz"), "not a sha256"),
        (lambda d: d["subject"][0]["digest"].__setitem__("sha256", 7), "not a string"),
        (lambda d: d.pop("predicateType"), "predicateType"),
        (lambda d: d.__setitem__("predicate", []), "expected a JSON object"),
        (lambda d: d["predicate"].__setitem__("builder", "me"), "expected a JSON object"),
        (lambda d: d["predicate"]["builder"].__setitem__("id", 1), "not a string"),
        (lambda d: d["predicate"].__setitem__("materials", {}), "not a list"),
    ],
)
def test_malformed_statements_are_refused_in_words(mutate: Any, words: str) -> None:
    doc = statement_v02()
    mutate(doc)
    with pytest.raises(ReadError, match=words):
        read(doc)


def test_errors_inside_a_payload_name_the_payload_and_the_path_in_it() -> None:
    doc = statement_v02()
    doc["subject"][0]["digest"]["sha256"] = "nothex"
    with pytest.raises(ReadError) as info:
        read(
            {
                "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "dsseEnvelope": dsse(doc),
            }
        )
    assert info.value.pointer == "/dsseEnvelope/payload"
    assert "/subject/0/digest/sha256" in info.value.problem


# --- envelopes -------------------------------------------------------------------------------


def test_dsse_envelope(key: Ed25519PrivateKey) -> None:
    reading = read(dsse(statement_v02(), key))
    s = reading.summary.to_data()
    assert s["envelope"] == "dsse"
    assert s["signatures"] == 1
    assert s["key_ids"] == ["key-0"]
    assert s["signature_verified"] is None
    assert "signatures not checked: no public key was given" in reading.notes
    envelope = plain(reading.detail.to_data())["envelopes"][0]
    assert envelope["container"] == "dsse"
    assert envelope["payload_type"] == PAYLOAD_TYPE


@pytest.mark.parametrize(
    "media_type",
    [
        "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "application/vnd.dev.sigstore.bundle+json;version=0.2",
        "application/vnd.dev.sigstore.bundle.v0.3+json",
    ],
)
def test_sigstore_bundles(media_type: str, key: Ed25519PrivateKey) -> None:
    bundle = {
        "mediaType": media_type,
        "verificationMaterial": {"publicKey": {"hint": "k"}},
        "dsseEnvelope": dsse(statement_v02(), key),
    }
    reading = read(bundle, keys=[pem(key)], require=True)
    assert reading.summary.to_data()["envelope"] == "sigstore-bundle"
    assert reading.summary.to_data()["signature_verified"] is True
    envelope = plain(reading.detail.to_data())["envelopes"][0]
    assert envelope["container"] == f"sigstore-bundle:{media_type}"
    assert any("transparency-log" in note for note in reading.notes)


@pytest.mark.parametrize(
    ("bundle", "words"),
    [
        ({"mediaType": "application/vnd.dev.sigstore.bundle.v0.4+json"}, "0.4 is not supported"),
        ({"mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.9"}, "not supported"),
        ({"mediaType": "application/json"}, "not a Sigstore bundle media type"),
        (
            {
                "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "messageSignature": {"signature": "AA=="},
            },
            "messageSignature",
        ),
    ],
)
def test_unsupported_bundles_are_refused(bundle: dict[str, Any], words: str) -> None:
    with pytest.raises(ReadError, match=words):
        read(bundle)


def test_json_lines_merge_the_statements() -> None:
    first = dsse(statement_v02(("a", "1" * 64), ("b", "2" * 64)))
    second = dsse(statement_v02(("b", "2" * 64), ("c", "3" * 64)))
    data = (json.dumps(first) + "\n\n" + json.dumps(second) + "\n").encode()
    reading = read(data, source="prov.intoto.jsonl")
    assert reading.summary.to_data()["statements"] == 2
    assert [s["name"] for s in plain(reading.summary.to_data())["subjects"]] == ["a", "b", "c"]
    assert reading.artifact_digests == ("1" * 64, "2" * 64, "3" * 64)
    assert reading.summary.to_data()["signatures"] == 0
    wheres = [e["where"] for e in plain(reading.detail.to_data())["envelopes"]]
    assert wheres == ["line 1", "line 3"]


def test_json_lines_with_a_bad_line_name_it() -> None:
    data = (json.dumps(dsse(statement_v02())) + "\n{not json}\n").encode()
    with pytest.raises(ReadError, match="not valid JSON") as info:
        read(data)
    assert info.value.line == 2


def test_json_lines_error_inside_a_line_names_the_line_and_path() -> None:
    bad = statement_v02()
    bad["subject"] = []
    data = (json.dumps(statement_v02()) + "\n" + json.dumps(bad) + "\n").encode()
    with pytest.raises(ReadError, match="names no subject") as info:
        read(data)
    assert info.value.line == 2
    assert "/subject" in info.value.problem


def test_pretty_printed_json_that_is_broken_is_reported_as_json() -> None:
    with pytest.raises(ReadError, match="not valid JSON") as info:
        read(b'{\n  "_type": "x",\n  oops\n}\n')
    assert info.value.line == 3


def test_npm_wrapper_with_two_bundles(key: Ed25519PrivateKey) -> None:
    publish = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://github.com/npm/attestation/tree/main/specs/publish/v0.1",
        "subject": [{"name": "pkg:npm/shop@1.2.0", "digest": {"sha512": "cd" * 64}}],
        "predicate": {"name": "shop"},
    }
    bundle = "application/vnd.dev.sigstore.bundle+json;version=0.2"
    doc = {
        "attestations": [
            {
                "predicateType": publish["predicateType"],
                "bundle": {"mediaType": bundle, "dsseEnvelope": dsse(publish)},
            },
            {
                "predicateType": "https://slsa.dev/provenance/v1",
                "bundle": {"mediaType": bundle, "dsseEnvelope": dsse(statement_v1(), key)},
            },
        ]
    }
    reading = read(doc, keys=[pem(key)])
    s = reading.summary.to_data()
    assert s["statements"] == 2
    assert s["builder"] == "https://github.com/actions/runner/github-hosted"  # from the SLSA one
    assert s["predicate_type"] == "https://slsa.dev/provenance/v1"
    assert s["predicate_types"] == [
        "https://github.com/npm/attestation/tree/main/specs/publish/v0.1",
        "https://slsa.dev/provenance/v1",
    ]
    assert len(plain(s)["subjects"]) == 1  # the same subject, merged
    assert s["signature_verified"] is False  # the first bundle is unsigned
    assert "no signature by the given key on attestation 1" in reading.notes
    with pytest.raises(ReadError, match="no signature by the given key on attestation 1"):
        read(doc, keys=[pem(key)], require=True)


def test_empty_attestation_list_is_refused() -> None:
    with pytest.raises(ReadError, match="no attestations"):
        read({"attestations": []})


@pytest.mark.parametrize(
    ("envelope", "words"),
    [
        (
            {"payloadType": "text/plain", "payload": b64(b"{}"), "signatures": []},
            "not an in-toto attestation",
        ),
        ({"payloadType": PAYLOAD_TYPE, "payload": "!!!", "signatures": []}, "not base64"),
        (
            {"payloadType": PAYLOAD_TYPE, "payload": b64(b"{oops"), "signatures": []},
            "decoded payload is not JSON",
        ),
        (
            {"payloadType": PAYLOAD_TYPE, "payload": b64(b"[]"), "signatures": []},
            "expected a JSON object",
        ),
        ({"payloadType": PAYLOAD_TYPE, "signatures": []}, "payload"),
        (
            {"payloadType": PAYLOAD_TYPE, "payload": b64(b"{}"), "signatures": [{"sig": "@@"}]},
            "not base64",
        ),
        ({"payloadType": PAYLOAD_TYPE, "payload": b64(b"{}"), "signatures": {}}, "not a list"),
    ],
)
def test_malformed_envelopes_are_refused(envelope: dict[str, Any], words: str) -> None:
    with pytest.raises(ReadError, match=words):
        read(envelope)


def test_url_safe_unpadded_base64_is_accepted() -> None:
    payload = json.dumps(statement_v02(("???>>>~~~", DIGEST))).encode()
    for extra in range(3):  # one of three lengths needs padding
        encoded = base64.urlsafe_b64encode(payload + b" " * extra).decode()
        assert "-" in encoded or "_" in encoded
        envelope = {"payloadType": PAYLOAD_TYPE, "payload": encoded.rstrip("="), "signatures": []}
        assert read(envelope).summary.to_data()["subjects"] == [
            {"name": "???>>>~~~", "digest": {"sha256": DIGEST}}
        ]


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        ({"_type": "layout", "steps": []}, "in-toto layout"),
        ({"signed": {"_type": "layout"}, "signatures": []}, "not an in-toto link"),
        ({"runs": []}, "not provenance"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_what_is_not_provenance_is_refused(doc: object, words: str) -> None:
    with pytest.raises(ReadError, match=words):
        read(doc)


def test_pae_matches_the_dsse_specification() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


# --- DSSE signatures -------------------------------------------------------------------------


def test_signed_dsse_verifies_with_the_signing_key(key: Ed25519PrivateKey) -> None:
    reading = read(dsse(statement_v02(), key), keys=[pem(key)], require=True)
    assert reading.summary.to_data()["signature_verified"] is True
    assert reading.summary.to_data()["verified_key_ids"] == [ed25519_keyid(key)]
    assert not any("no signature" in note for note in reading.notes)


def test_one_good_signature_among_others_is_enough(key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    reading = read(dsse(statement_v02(), other, key), keys=[pem(key)], require=True)
    assert reading.summary.to_data()["signature_verified"] is True
    assert reading.summary.to_data()["signatures"] == 2


def test_any_given_key_may_verify(key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    reading = read(dsse(statement_v02(), key), keys=[pem(other), pem(key)], require=True)
    assert reading.summary.to_data()["signature_verified"] is True


def test_wrong_key_does_not_verify(key: Ed25519PrivateKey) -> None:
    wrong = pem(Ed25519PrivateKey.generate())
    reading = read(dsse(statement_v02(), key), keys=[wrong])
    assert reading.summary.to_data()["signature_verified"] is False
    assert "no signature by the given key on the envelope" in reading.notes
    with pytest.raises(ReadError, match="no signature by the given key"):
        read(dsse(statement_v02(), key), keys=[wrong], require=True)


def test_altered_payload_does_not_verify(key: Ed25519PrivateKey) -> None:
    envelope = dsse(statement_v02(), key)
    altered = statement_v02()
    altered["subject"][0]["digest"]["sha256"] = "cd" * 32
    envelope["payload"] = b64(json.dumps(altered).encode())
    assert read(envelope, keys=[pem(key)]).summary.to_data()["signature_verified"] is False
    with pytest.raises(ReadError, match="no signature by the given key"):
        read(envelope, keys=[pem(key)], require=True)


def test_altered_payload_type_does_not_verify(key: Ed25519PrivateKey) -> None:
    envelope = dsse(statement_v02(), key, payload_type="application/vnd.in-toto+json; x")
    envelope["payloadType"] = PAYLOAD_TYPE
    with pytest.raises(ReadError, match="no signature by the given key"):
        read(envelope, keys=[pem(key)], require=True)


def test_unsigned_envelope_with_require_signature_is_refused(key: Ed25519PrivateKey) -> None:
    with pytest.raises(ReadError, match="not signed: no signature by the given key"):
        read(dsse(statement_v02()), keys=[pem(key)], require=True)


def test_bare_statement_with_require_signature_is_refused(key: Ed25519PrivateKey) -> None:
    with pytest.raises(ReadError, match="a bare statement is not signed"):
        read(statement_v02(), keys=[pem(key)], require=True)
    assert read(statement_v02(), keys=[pem(key)]).summary.to_data()["signature_verified"] is False


def test_require_signature_without_a_key_is_refused(key: Ed25519PrivateKey) -> None:
    with pytest.raises(ReadError, match="no public key was given") as info:
        read(dsse(statement_v02(), key), require=True)
    assert "public key" in (info.value.hint() or "")


def test_ecdsa_p256_keys_verify() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    reading = read(dsse(statement_v02(), key), keys=[pem(key)], require=True)
    assert reading.summary.to_data()["signature_verified"] is True
    other = ec.generate_private_key(ec.SECP256R1())
    assert (
        read(dsse(statement_v02(), key), keys=[pem(other)]).summary.to_data()["signature_verified"]
        is False
    )


def test_a_signature_that_is_not_der_does_not_verify_with_ecdsa() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    envelope = dsse(statement_v02())
    envelope["signatures"] = [{"sig": b64(b"\x00" * 64)}]
    assert read(envelope, keys=[pem(key)]).summary.to_data()["signature_verified"] is False


@pytest.mark.parametrize(
    ("key_pem", "words"),
    [
        (b"not a key", "not a PEM public key"),
        (
            ec.generate_private_key(ec.SECP384R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "neither Ed25519 nor ECDSA P-256",
        ),
    ],
)
def test_unusable_public_keys_are_refused(key_pem: bytes, words: str) -> None:
    with pytest.raises(ReadError, match=f"public key #1 is {words}"):
        read(statement_v02(), keys=[key_pem])


# --- classic in-toto links -------------------------------------------------------------------


def test_link_fields(key: Ed25519PrivateKey) -> None:
    reading = read(link(key), source="test.abcd.link")
    s = reading.summary.to_data()
    assert reading.format == "in-toto-link"
    assert s["envelope"] == "in-toto-link"
    assert s["link_name"] == "test"
    assert s["return_value"] == 0
    assert s["statement_type"] is None
    assert s["subjects"] == [{"name": "report.xml", "digest": {"sha256": DIGEST}}]
    assert s["materials"] == 2
    assert s["key_ids"] == [ed25519_keyid(key)]
    assert reading.artifact_digests == (DIGEST,)
    envelope = plain(reading.detail.to_data())["envelopes"][0]
    assert envelope["container"] == "in-toto-link-v0.9"
    assert envelope["command"] == ["pytest", "-q"]
    assert envelope["stdout_last_line"] == "ok; 2 passed in 0.01s"


def test_link_signature_verifies_over_canonical_json(key: Ed25519PrivateKey) -> None:
    doc = link(key)
    reading = read(doc, keys=[pem(key)], require=True)
    assert reading.summary.to_data()["signature_verified"] is True
    assert reading.summary.to_data()["verified_key_ids"] == [ed25519_keyid(key)]
    # Whitespace and key order outside the canonical form do not matter.
    pretty = json.dumps({"signed": doc["signed"], "signatures": doc["signatures"]}, indent=3)
    assert read(pretty.encode(), keys=[pem(key)], require=True).summary.to_data()[
        "signature_verified"
    ]


def test_link_with_one_altered_digest_does_not_verify(key: Ed25519PrivateKey) -> None:
    doc = link(key)
    doc["signed"]["materials"]["src/app.py"]["sha256"] = "0" + "1" * 63
    assert read(doc, keys=[pem(key)]).summary.to_data()["signature_verified"] is False
    with pytest.raises(ReadError, match="no signature by the given key"):
        read(doc, keys=[pem(key)], require=True)


def test_link_canonical_form_is_securesystemslib_s(key: Ed25519PrivateKey) -> None:
    signed = link()["signed"]
    signed["byproducts"]["stdout"] = 'tab\there "quoted" back\\slash é\n'
    signed["environment"] = {"yes": True, "no": False, "none": None}
    text = (
        '{"_type":"link","byproducts":{"return-value":0,"stderr":"",'
        '"stdout":"tab\there \\"quoted\\" back\\\\slash é\n"},'
        '"command":["pytest","-q"],"environment":{"no":false,"none":null,"yes":true},'
        '"materials":{"README":{"sha256":"'
        + "2" * 64
        + '"},"src/app.py":{"sha256":"'
        + "1" * 64
        + '"}},'
        '"name":"test","products":{"report.xml":{"sha256":"' + DIGEST + '"}}}'
    )
    doc = {"signed": signed, "signatures": [{"keyid": "k", "sig": key.sign(text.encode()).hex()}]}
    assert read(doc, keys=[pem(key)], require=True).summary.to_data()["signature_verified"] is True


def test_link_with_a_float_cannot_verify(key: Ed25519PrivateKey) -> None:
    doc = link(key)
    doc["signed"]["environment"] = {"load": 0.5}
    assert read(doc, keys=[pem(key)]).summary.to_data()["signature_verified"] is False


def test_unsigned_link_with_require_signature_is_refused(key: Ed25519PrivateKey) -> None:
    with pytest.raises(ReadError, match="not signed: no signature by the given key"):
        read(link(), keys=[pem(key)], require=True)


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d["signed"].pop("name"), "name is missing"),
        (lambda d: d["signed"].__setitem__("products", []), "expected a JSON object"),
        (lambda d: d["signed"]["materials"].__setitem__("x", {"sha256": "no"}), "not a sha256"),
        (lambda d: d["signed"].__setitem__("command", ["ok", 3]), "not a string"),
        (lambda d: d["signatures"].append({"keyid": "k", "sig": "zz"}), "not a hex signature"),
        (lambda d: d.__setitem__("signed", "link"), "expected a JSON object"),
    ],
)
def test_malformed_links_are_refused(mutate: Any, words: str) -> None:
    doc = link()
    mutate(doc)
    with pytest.raises(ReadError, match=words):
        read(doc)


def test_a_link_inside_dsse_is_read_as_a_link(key: Ed25519PrivateKey) -> None:
    reading = read(dsse(link()["signed"], key), keys=[pem(key)], require=True)
    assert reading.summary.to_data()["envelope"] == "dsse"
    assert reading.summary.to_data()["link_name"] == "test"
    assert reading.summary.to_data()["signature_verified"] is True


def test_values_that_cannot_be_recorded_are_refused() -> None:
    doc = statement_v02()
    doc["subject"][0]["name"] = "\ud800"
    with pytest.raises(ReadError, match="cannot be recorded"):
        read(json.dumps(doc).encode())


# --- fuzz: only ever a Reading or a ReadError -------------------------------------------------

FUZZ_KEY = Ed25519PrivateKey.generate()
FUZZ_PEM = pem(FUZZ_KEY)
_SIGNED_DSSE = dsse(statement_v02(), FUZZ_KEY)
_SIGNED_LINK = link(FUZZ_KEY)
_BASES: list[object] = [
    statement_v02(),
    statement_v1(),
    _SIGNED_DSSE,
    {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "dsseEnvelope": _SIGNED_DSSE},
    _SIGNED_LINK,
]
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def _try(data: bytes, *, keys: Sequence[bytes] = (), require: bool = False) -> Reading | None:
    try:
        reading = read_provenance(data, "fuzz", public_keys=keys, require_signature=require)
    except ReadError:
        return None
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())
    return reading


@given(st.binary(max_size=512), st.booleans())
def test_fuzz_arbitrary_bytes(data: bytes, require: bool) -> None:
    _try(data, keys=[FUZZ_PEM], require=require)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([json.dumps(b).encode() for b in _BASES]),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_fuzz_mutated_bytes_never_forge_a_signature(
    base: bytes, edits: list[tuple[int, int]]
) -> None:
    original = read_provenance(base, "base")
    data = bytearray(base)
    for position, value in edits:
        data[position % len(data)] = value
    reading = _try(bytes(data), keys=[FUZZ_PEM], require=True)
    if reading is not None:  # it verified: what it says is what was signed
        assert reading.summary.to_data()["signature_verified"] is True
        assert reading.summary.to_data()["subjects"] == original.summary.to_data()["subjects"]
        assert reading.summary.to_data()["builder"] == original.summary.to_data()["builder"]
        assert reading.detail.to_data()["materials"] == original.detail.to_data()["materials"]


def _paths(value: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, item in value.items():
            found.extend(_paths(item, (*prefix, k)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_paths(item, (*prefix, i)))
    return found


@given(st.sampled_from([statement_v02(), statement_v1(), link()]), st.data(), st.booleans())
def test_fuzz_documents_with_one_value_replaced(base: Any, data: Any, wrap: bool) -> None:
    doc = copy.deepcopy(base)
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = data.draw(_json)
    payload = dsse(doc, FUZZ_KEY) if wrap and "signed" not in doc else doc
    _try(json.dumps(payload).encode(), keys=[FUZZ_PEM])
