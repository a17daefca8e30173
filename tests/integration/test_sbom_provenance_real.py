"""SBOM and provenance readers on real tool output: cyclonedx-py run on this very virtualenv,
and the shared corpus of files made by real builders (slsa-verifier test data, in-toto-run)."""

from __future__ import annotations

import base64
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from changeproof.domain.canonical import JsonValue, canonical_json
from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.ingest.errors import ReadError
from changeproof.ingest.provenance import read_provenance
from changeproof.ingest.sbom import read_sbom

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"the shared evidence corpus is not at {CORPUS}"
)


def plain(value: object) -> Any:
    """A reading's summary or detail as plain JSON data, to index freely."""
    return json.loads(json.dumps(value))


def ground_truth(folder: str) -> list[dict[str, Any]]:
    if not CORPUS.is_dir():
        return []
    entries: list[dict[str, Any]] = json.loads((CORPUS / folder / "GROUND_TRUTH.json").read_text())
    return entries


# --- cyclonedx-py on the test virtualenv -----------------------------------------------------


@pytest.fixture(scope="module")
def environment_sbom(tmp_path_factory: pytest.TempPathFactory) -> Reading:
    out = tmp_path_factory.mktemp("sbom") / "out.json"
    tool = Path(sys.executable).parent / "cyclonedx-py"
    subprocess.run(
        [str(tool), "environment", "--of", "JSON", "-o", str(out), sys.executable],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return read_sbom(out.read_bytes(), out.name)


@pytest.mark.slow
@pytest.mark.parametrize("distribution", ["pytest", "SQLAlchemy", "hypothesis", "cryptography"])
def test_cyclonedx_py_environment_lists_installed_distributions(
    environment_sbom: Reading, distribution: str
) -> None:
    by_name = {c["name"].lower(): c for c in plain(environment_sbom.detail.to_data())["components"]}
    component = by_name[distribution.lower()]
    version = importlib.metadata.version(distribution)
    assert component["version"] == version
    assert component["purl"] == f"pkg:pypi/{distribution.lower()}@{version}"
    assert component["type"] == "library"
    assert component["licenses"], f"{distribution} declares a license"


@pytest.mark.slow
def test_cyclonedx_py_environment_summary(environment_sbom: Reading) -> None:
    summary = plain(environment_sbom.summary.to_data())
    assert environment_sbom.kind is EvidenceKind.SBOM
    assert summary["format"] == "CycloneDX"
    assert summary["spec_version"] == "1.6"
    assert summary["components"] == len(plain(environment_sbom.detail.to_data())["components"])
    assert summary["components"] >= 20
    assert sum(summary["licenses"].values()) >= summary["components"] - summary["without_license"]


# --- the corpus: sbom/ -----------------------------------------------------------------------

CDX_FILE = "cyclonedx-py-7.5.0-venv2-env.cdx.json"


@needs_corpus
def test_corpus_cyclonedx_file() -> None:
    reading = read_sbom((CORPUS / "sbom" / CDX_FILE).read_bytes(), CDX_FILE)
    summary = plain(reading.summary.to_data())
    components = plain(reading.detail.to_data())["components"]
    assert summary["format"] == "CycloneDX"
    assert summary["spec_version"] == "1.6"
    assert summary["components"] == 58 == len(components)
    assert all(c["type"] == "library" for c in components)
    # No top-level component and no hashes: nothing names or binds the described software.
    assert summary["subject"] is None
    assert reading.artifact_digests == ()
    # Every component has licenses; itsdangerous (installed from a folder) has no purl and
    # only a classifier name for its license.
    assert summary["without_license"] == 0
    assert summary["without_purl"] == 1
    itsdangerous = next(c for c in components if c["name"] == "itsdangerous")
    assert itsdangerous["version"] == "2.2.0"
    assert itsdangerous["purl"] is None
    assert itsdangerous["licenses"] == ["License :: OSI Approved :: BSD License"]
    assert "License :: OSI Approved :: BSD License" in summary["license_names"]
    assert "MIT" not in summary["license_names"]
    # Pinned from the file: the most common license, and an expression kept whole.
    assert summary["licenses"]["MIT"] == 27
    assert summary["licenses"]["Apache-2.0 OR BSD-3-Clause"] == 1
    pyyaml = next(c for c in components if c["name"] == "PyYAML")
    assert pyyaml == {
        "name": "PyYAML",
        "version": "6.0.4",
        "purl": "pkg:pypi/pyyaml@6.0.4",
        "licenses": ["MIT"],
        "type": "library",
    }
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())


# --- the corpus: slsa/ -----------------------------------------------------------------------


def _repository(uri: str) -> str:
    return uri.removeprefix("git+").split("@", 1)[0]


def _expected_source(truth: dict[str, Any]) -> tuple[str | None, str | None]:
    """(repository, commit) as GROUND_TRUTH.json states them for one envelope."""
    if "source_uri" in truth:  # SLSA v0.2: invocation.configSource
        return _repository(truth["source_uri"]), truth["source_digest"]["sha1"]
    external = truth.get("externalParameters")
    if external is None:
        return None, None
    if "workflow" in external:  # SLSA v1, GitHub build types
        repository = external["workflow"]["repository"]
        commit = next(
            d["digest"]["gitCommit"]
            for d in truth["resolvedDependencies"]
            if d["uri"].startswith(f"git+{repository}@")
        )
        return repository, commit
    source = external["source"]  # SLSA v1, container-based builder
    return _repository(source["uri"]), source["digest"]["sha1"]


@needs_corpus
@pytest.mark.parametrize("entry", ground_truth("slsa"), ids=lambda e: e["file"])
def test_corpus_slsa_file_matches_ground_truth(entry: dict[str, Any]) -> None:
    reading = read_provenance((CORPUS / "slsa" / entry["file"]).read_bytes(), entry["file"])
    summary = plain(reading.summary.to_data())
    envelopes = plain(reading.detail.to_data())["envelopes"]
    truths = entry["envelopes"]
    assert reading.kind is EvidenceKind.PROVENANCE
    assert summary["statements"] == len(truths) == len(envelopes)

    for mine, truth in zip(envelopes, truths, strict=True):
        assert mine["container"] == truth["container"]
        assert mine["payload_type"] == truth["payloadType"]
        assert mine["signatures"] == truth["signatures"]
        assert mine["statement_type"] == truth["_type"]
        assert mine["predicate_type"] == truth["predicateType"]
        assert mine["subjects"] == truth["subjects"]
        assert mine["builder"] == truth.get("builder_id")
        assert mine["build_type"] == truth.get("buildType")
        repository, commit = _expected_source(truth)
        assert mine["source_repository"] == repository
        assert mine["source_commit"] == commit
        if "source_uri" in truth:
            assert mine["source_uri"] == truth["source_uri"]

    subjects: list[dict[str, Any]] = []
    for truth in truths:
        subjects.extend(s for s in truth["subjects"] if s not in subjects)
    assert summary["subjects"] == subjects
    assert reading.artifact_digests == tuple(
        s["digest"]["sha256"] for s in subjects if "sha256" in s["digest"]
    )
    slsa = [t for t in truths if t.get("builder_id")]
    assert summary["builder"] == slsa[0]["builder_id"]
    assert summary["predicate_type"] == slsa[0]["predicateType"]
    expected_repository, expected_commit = _expected_source(slsa[0])
    assert summary["source_repository"] == expected_repository
    assert summary["source_commit"] == expected_commit
    assert reading.commits == (expected_commit,)
    assert summary["signature_verified"] is None  # no key given
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())


def _leaf_keys(doc: JsonValue) -> list[bytes]:
    """The signing certificates' public keys, wherever the file carries them (no chain check)."""
    found: list[bytes] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("cert"), str):  # a DSSE signature's PEM certificate
                found.append(value["cert"].encode())
            certificate = value.get("certificate") or next(
                iter(value.get("x509CertificateChain", {}).get("certificates", [])), None
            )
            if isinstance(certificate, dict):  # bundle 0.3 certificate / 0.1-0.2 chain's leaf
                found.append(base64.b64decode(certificate["rawBytes"]))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(doc)
    keys = []
    for cert in found:
        loaded = (
            x509.load_pem_x509_certificate(cert)
            if cert.startswith(b"-----")
            else x509.load_der_x509_certificate(cert)
        )
        keys.append(
            loaded.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return keys


@needs_corpus
@pytest.mark.parametrize("entry", ground_truth("slsa"), ids=lambda e: e["file"])
def test_corpus_sigstore_signatures_verify_with_their_certificate_keys(
    entry: dict[str, Any],
) -> None:
    data = (CORPUS / "slsa" / entry["file"]).read_bytes()
    keys = _leaf_keys(json.loads(data))
    assert keys, "each file carries at least one signing certificate"
    envelopes = plain(read_provenance(data, entry["file"], public_keys=keys).detail.to_data())[
        "envelopes"
    ]
    # npm's first attestation is signed by the registry's key, which the file only hints at.
    expected = [
        not e["predicateType"].startswith("https://github.com/npm/") for e in entry["envelopes"]
    ]
    assert [e["signature_verified"] for e in envelopes] == expected

    # The same signature over a statement with one subject digest changed verifies no more.
    doc = json.loads(data)
    envelope = doc["attestations"][-1]["bundle"] if "attestations" in doc else doc
    envelope = envelope.get("dsseEnvelope", envelope)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    digest = statement["subject"][0]["digest"]
    algorithm = next(iter(digest))
    digest[algorithm] = ("0" if digest[algorithm][0] != "0" else "1") + digest[algorithm][1:]
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    with pytest.raises(ReadError, match="no signature by the given key"):
        read_provenance(
            json.dumps(doc).encode(), entry["file"], public_keys=keys, require_signature=True
        )


# --- the corpus: intoto/ ---------------------------------------------------------------------


@needs_corpus
@pytest.mark.parametrize("entry", ground_truth("intoto"), ids=lambda e: e["file"])
def test_corpus_link_matches_ground_truth(entry: dict[str, Any]) -> None:
    (truth,) = entry["envelopes"]
    reading = read_provenance((CORPUS / "intoto" / entry["file"]).read_bytes(), entry["file"])
    summary = plain(reading.summary.to_data())
    (envelope,) = plain(reading.detail.to_data())["envelopes"]
    assert reading.format == "in-toto-link"
    assert envelope["container"] == truth["container"]
    assert summary["envelope"] == "in-toto-link"
    assert summary["link_name"] == truth["name"]
    assert summary["materials"] == truth["materials"]
    assert len(summary["subjects"]) == truth["products"]
    assert summary["key_ids"] == truth["keyids"]
    assert summary["return_value"] == 0
    assert envelope["stdout_last_line"].startswith("297 passed")
    assert summary["subjects"] == [
        {
            "name": "report.xml",
            "digest": {
                "sha256": "713bc6f57d9a1eccda5b8242e33276af644b54d69d8a1170179753f199d31697"
            },
        }
    ]
    assert reading.artifact_digests == (summary["subjects"][0]["digest"]["sha256"],)


LINK = "test.f3287106.link"


@needs_corpus
def test_corpus_link_verifies_with_the_corpus_key() -> None:
    key = (CORPUS / "intoto" / "corpus-ed25519.pub.pem").read_bytes()
    data = (CORPUS / "intoto" / LINK).read_bytes()
    reading = read_provenance(data, LINK, public_keys=[key], require_signature=True)
    assert reading.summary.to_data()["signature_verified"] is True
    # The key id we compute for the PEM key is the one in-toto wrote into the link.
    assert plain(reading.summary.to_data())["verified_key_ids"] == [
        "f3287106b592de04152b6d40ff07e0902bdeab502e9d9e9b13f101d4824f58eb"
    ]


@needs_corpus
def test_corpus_link_with_any_one_byte_altered_does_not_verify() -> None:
    key = (CORPUS / "intoto" / "corpus-ed25519.pub.pem").read_bytes()
    data = (CORPUS / "intoto" / LINK).read_bytes()
    original = plain(read_provenance(data, LINK).summary.to_data())
    signed_from = data.index(b'"signed"')
    refused_in_signed = 0
    for position in range(len(data)):
        altered = bytearray(data)
        altered[position] ^= 0x01
        try:
            reading = read_provenance(
                bytes(altered), LINK, public_keys=[key], require_signature=True
            )
        except ReadError:
            refused_in_signed += position >= signed_from
            continue
        # Accepted only when the change is outside what was signed (e.g. the keyid's name).
        assert position < signed_from, f"byte {position} altered, yet the signature verified"
        summary = plain(reading.summary.to_data())
        assert summary["subjects"] == original["subjects"]
        assert summary["link_name"] == original["link_name"]
    assert refused_in_signed == len(data) - signed_from
