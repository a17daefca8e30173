"""The SBOM reader: CycloneDX JSON 1.4-1.6 and SPDX 2.3 JSON, one rule per test."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changeproof.domain.canonical import canonical_json
from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.ingest.errors import ReadError
from changeproof.ingest.sbom import read_sbom

SHA = "A" * 64


def _cdx(version: str = "1.6", **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": version,
        "version": 1,
        "metadata": {
            "component": {
                "type": "application",
                "name": "shop",
                "version": "2.0.0",
                "hashes": [
                    {"alg": "SHA-1", "content": "b" * 40},
                    {"alg": "SHA-256", "content": SHA},
                ],
            }
        },
        "components": [
            {
                "type": "library",
                "name": "requests",
                "version": "2.32.3",
                "purl": "pkg:pypi/requests@2.32.3",
                "licenses": [{"license": {"id": "Apache-2.0"}}],
                "components": [
                    {
                        "type": "library",
                        "name": "urllib3",
                        "version": "2.2.0",
                        "licenses": [{"license": {"name": "Some Custom License"}}],
                        "components": [{"type": "file", "name": "vendored.py"}],
                    }
                ],
            },
            {
                "type": "library",
                "name": "attrs",
                "version": "24.2.0",
                "purl": "pkg:pypi/attrs@24.2.0",
                "licenses": [{"expression": "MIT OR Apache-2.0"}],
            },
            {
                "type": "library",
                "name": "six",
                "version": "1.16.0",
                "purl": "pkg:pypi/six@1.16.0",
                "licenses": [{"license": {"id": "MIT", "name": "MIT License"}}],
            },
        ],
    }
    doc.update(extra)
    return doc


def _spdx(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "shop",
        "documentNamespace": "https://example.com/shop-2.0.0",
        "documentDescribes": ["SPDXRef-shop"],
        "packages": [
            {
                "SPDXID": "SPDXRef-shop",
                "name": "shop",
                "versionInfo": "2.0.0",
                "primaryPackagePurpose": "APPLICATION",
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": "Apache-2.0",
                "checksums": [
                    {"algorithm": "SHA1", "checksumValue": "c" * 40},
                    {"algorithm": "SHA256", "checksumValue": SHA},
                ],
            },
            {
                "SPDXID": "SPDXRef-requests",
                "name": "requests",
                "versionInfo": "2.32.3",
                "licenseConcluded": "Apache-2.0",
                "licenseDeclared": "MIT",
                "externalRefs": [
                    {
                        "referenceCategory": "SECURITY",
                        "referenceType": "cpe23Type",
                        "referenceLocator": "cpe:2.3:a:python:requests:2.32.3:*:*:*:*:*:*:*",
                    },
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": "pkg:pypi/requests@2.32.3",
                    },
                ],
            },
            {
                "SPDXID": "SPDXRef-mystery",
                "name": "mystery",
                "licenseConcluded": "NONE",
                "licenseDeclared": "NOASSERTION",
            },
            {
                "SPDXID": "SPDXRef-inhouse",
                "name": "inhouse",
                "versionInfo": "1",
                "licenseConcluded": "LicenseRef-Inhouse",
            },
        ],
    }
    doc.update(extra)
    return doc


def _read(doc: object) -> Reading:
    return read_sbom(json.dumps(doc).encode(), "sbom.json")


def _components(reading: Reading) -> list[dict[str, Any]]:
    components: list[dict[str, Any]] = json.loads(json.dumps(reading.detail.to_data()))[
        "components"
    ]
    return components


# --- CycloneDX -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.4", "1.5", "1.6"])
def test_cyclonedx_versions_are_read(version: str) -> None:
    reading = _read(_cdx(version))
    assert reading.kind is EvidenceKind.SBOM
    assert reading.format == "CycloneDX"
    assert reading.summary.to_data()["format"] == "CycloneDX"
    assert reading.summary.to_data()["spec_version"] == version
    assert reading.summary.to_data()["components"] == 5


def test_cyclonedx_nested_components_are_flattened_parents_first() -> None:
    names = [c["name"] for c in _components(_read(_cdx()))]
    assert names == ["requests", "urllib3", "vendored.py", "attrs", "six"]


def test_cyclonedx_component_fields() -> None:
    requests, urllib3, vendored, attrs, six = _components(_read(_cdx()))
    assert requests == {
        "name": "requests",
        "version": "2.32.3",
        "purl": "pkg:pypi/requests@2.32.3",
        "licenses": ["Apache-2.0"],
        "type": "library",
    }
    assert urllib3["licenses"] == ["Some Custom License"]  # a name when there is no id
    assert urllib3["purl"] is None
    assert vendored == {
        "name": "vendored.py",
        "version": None,
        "purl": None,
        "licenses": [],
        "type": "file",
    }
    assert attrs["licenses"] == ["MIT OR Apache-2.0"]  # an expression stays whole
    assert six["licenses"] == ["MIT"]  # the id wins over the name


def test_cyclonedx_license_summary_counts_by_license() -> None:
    summary = _read(_cdx()).summary.to_data()
    assert summary["licenses"] == {
        "Apache-2.0": 1,
        "MIT": 1,
        "MIT OR Apache-2.0": 1,
        "Some Custom License": 1,
    }
    assert summary["without_license"] == 1
    assert summary["without_purl"] == 2
    assert summary["without_version"] == 1
    assert summary["license_names"] == ["Some Custom License"]
    assert summary["license_name_only"] == 1


def test_cyclonedx_subject_and_its_sha256() -> None:
    reading = _read(_cdx())
    assert reading.summary.to_data()["subject"] == "shop"
    assert reading.artifact_digests == ("a" * 64,)  # lowercased; SHA-1 ignored


def test_cyclonedx_without_metadata_component_says_so() -> None:
    doc = _cdx()
    del doc["metadata"]
    reading = _read(doc)
    assert reading.summary.to_data()["subject"] is None
    assert reading.artifact_digests == ()
    assert "the SBOM does not name the software it describes" in reading.notes


def test_cyclonedx_with_no_components_is_empty_not_an_error() -> None:
    doc = _cdx()
    del doc["components"]
    reading = _read(doc)
    assert reading.summary.to_data()["components"] == 0
    assert reading.summary.to_data()["licenses"] == {}


@pytest.mark.parametrize("version", ["1.0", "1.2", "1.3", "1.7", "2.0"])
def test_cyclonedx_other_spec_versions_are_refused(version: str) -> None:
    with pytest.raises(ReadError, match=rf"CycloneDX {version} is not supported") as info:
        _read(_cdx(version))
    assert info.value.pointer == "/specVersion"


def test_cyclonedx_xml_is_refused_with_advice() -> None:
    xml = b'<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"/>'
    with pytest.raises(ReadError, match="CycloneDX XML is not supported") as info:
        read_sbom(xml, "bom.xml")
    assert "--of JSON" in (info.value.hint() or "")


def test_other_xml_is_refused() -> None:
    with pytest.raises(ReadError, match="XML document"):
        read_sbom(b"<testsuites/>", "x.xml")


def test_wrong_bom_format_is_refused() -> None:
    with pytest.raises(ReadError, match="bomFormat is 'SPDX'"):
        _read(_cdx(bomFormat="SPDX"))


def test_missing_spec_version_is_refused() -> None:
    doc = _cdx()
    del doc["specVersion"]
    with pytest.raises(ReadError, match="without a specVersion"):
        _read(doc)


def test_component_without_name_points_at_it() -> None:
    doc = _cdx()
    del doc["components"][0]["components"][0]["name"]
    with pytest.raises(ReadError, match="name is missing") as info:
        _read(doc)
    assert info.value.pointer == "/components/0/components/0/name"


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.__setitem__("components", {}), "/components"),
        (lambda d: d["components"].__setitem__(1, "attrs"), "/components/1"),
        (lambda d: d["components"][1].__setitem__("version", 24), "/components/1/version"),
        (lambda d: d["components"][1].__setitem__("licenses", "MIT"), "/components/1/licenses"),
        (
            lambda d: d["components"][2]["licenses"][0].__setitem__("license", "MIT"),
            "/components/2/licenses/0/license",
        ),
        (
            lambda d: d["metadata"]["component"]["hashes"][1].__setitem__("content", "xyz"),
            "/metadata/component/hashes/1/content",
        ),
        (lambda d: d.__setitem__("metadata", []), "/metadata"),
    ],
)
def test_cyclonedx_wrong_shapes_point_at_the_value(mutate: Any, where: str) -> None:
    doc = _cdx()
    mutate(doc)
    with pytest.raises(ReadError) as info:
        _read(doc)
    assert info.value.pointer == where


def test_deeply_nested_components_do_not_exhaust_the_stack() -> None:
    depth = 400
    text = (
        '{"bomFormat":"CycloneDX","specVersion":"1.6","components":['
        + '{"type":"library","name":"n","components":[' * depth
        + "]}" * depth
        + "]}"
    )
    assert read_sbom(text.encode(), "deep.json").summary.to_data()["components"] == depth


# --- SPDX ------------------------------------------------------------------------------------


def test_spdx_packages_become_components() -> None:
    reading = _read(_spdx())
    assert reading.format == "SPDX"
    assert reading.summary.to_data()["format"] == "SPDX"
    assert reading.summary.to_data()["spec_version"] == "2.3"
    assert reading.summary.to_data()["components"] == 4
    shop, requests, mystery, inhouse = _components(reading)
    assert shop == {
        "name": "shop",
        "version": "2.0.0",
        "purl": None,
        "licenses": ["Apache-2.0"],  # concluded NOASSERTION: the declared license
        "type": "application",
    }
    assert requests["purl"] == "pkg:pypi/requests@2.32.3"  # from the purl external ref
    assert requests["licenses"] == ["Apache-2.0"]  # concluded wins over declared
    assert mystery["licenses"] == []  # NONE and NOASSERTION say nothing
    assert mystery["version"] is None
    assert inhouse["licenses"] == ["LicenseRef-Inhouse"]


def test_spdx_license_summary() -> None:
    summary = _read(_spdx()).summary.to_data()
    assert summary["licenses"] == {"Apache-2.0": 2, "LicenseRef-Inhouse": 1}
    assert summary["without_license"] == 1
    assert summary["license_names"] == ["LicenseRef-Inhouse"]


def test_spdx_described_package_is_the_subject_with_its_sha256() -> None:
    reading = _read(_spdx())
    assert reading.summary.to_data()["subject"] == "shop"
    assert reading.artifact_digests == ("a" * 64,)


def test_spdx_describes_relationship_names_the_subject() -> None:
    doc = _spdx()
    del doc["documentDescribes"]
    doc["relationships"] = [
        {
            "spdxElementId": "SPDXRef-requests",
            "relationshipType": "DEPENDS_ON",
            "relatedSpdxElement": "SPDXRef-mystery",
        },
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": "SPDXRef-requests",
        },
    ]
    reading = _read(doc)
    assert reading.summary.to_data()["subject"] == "requests"
    assert reading.artifact_digests == ()  # requests carries no checksum


def test_spdx_subject_that_is_not_a_package_keeps_its_id() -> None:
    reading = _read(_spdx(documentDescribes=["SPDXRef-File-setup.py"]))
    assert reading.summary.to_data()["subject"] == "SPDXRef-File-setup.py"
    assert reading.artifact_digests == ()


@pytest.mark.parametrize("version", ["SPDX-2.2", "SPDX-2.1", "SPDX-3.0"])
def test_spdx_other_versions_are_refused(version: str) -> None:
    with pytest.raises(ReadError, match=rf"{version} is not supported"):
        _read(_spdx(spdxVersion=version))


def test_spdx_tag_value_is_refused() -> None:
    text = b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n"
    with pytest.raises(ReadError, match="SPDX tag-value is not supported"):
        read_sbom(text, "sbom.spdx")


def test_spdx_3_json_ld_is_refused() -> None:
    doc = {"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}
    with pytest.raises(ReadError, match="SPDX 3 JSON-LD is not supported"):
        _read(doc)


def test_spdx_package_without_name_points_at_it() -> None:
    doc = _spdx()
    del doc["packages"][1]["name"]
    with pytest.raises(ReadError) as info:
        _read(doc)
    assert info.value.pointer == "/packages/1/name"


def test_spdx_bad_checksum_of_the_subject_points_at_it() -> None:
    doc = _spdx()
    doc["packages"][0]["checksums"][1]["checksumValue"] = "not-hex"
    with pytest.raises(ReadError, match="SHA-256") as info:
        _read(doc)
    assert info.value.pointer == "/packages/0/checksums/1/checksumValue"


# --- what is not an SBOM ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"runs": []}', "not an SBOM"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"bomFormat": "CycloneDX", "bomFormat": "CycloneDX"}', "duplicate key"),
    ],
)
def test_what_is_not_an_sbom_is_refused_in_words(data: bytes, words: str) -> None:
    with pytest.raises(ReadError, match=words):
        read_sbom(data, "x.json")


def test_a_byte_order_mark_is_tolerated() -> None:
    reading = read_sbom(b"\xef\xbb\xbf" + json.dumps(_cdx()).encode(), "bom.json")
    assert reading.summary.to_data()["components"] == 5


def test_lone_surrogates_cannot_be_recorded() -> None:
    doc = _cdx()
    text = json.dumps(doc).replace('"attrs"', '"\\ud800"')
    with pytest.raises(ReadError, match="cannot be recorded"):
        read_sbom(text.encode(), "bom.json")


# --- fuzz: only ever a Reading or a ReadError -------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def _assert_recordable(reading: Reading) -> None:
    canonical_json(reading.summary.to_data())
    canonical_json(reading.detail.to_data())
    assert isinstance(reading.summary.to_data()["components"], int)


def _try(data: bytes) -> None:
    try:
        reading = read_sbom(data, "fuzz.json")
    except ReadError:
        return
    _assert_recordable(reading)


@given(st.binary(max_size=512))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    _try(data)


_VALID = [json.dumps(_cdx(v)).encode() for v in ("1.4", "1.6")] + [json.dumps(_spdx()).encode()]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(_VALID),
    st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=6),
)
def test_fuzz_mutated_bytes_of_valid_documents(base: bytes, edits: list[tuple[int, int]]) -> None:
    data = bytearray(base)
    for position, value in edits:
        data[position % len(data)] = value
    _try(bytes(data))


def _paths(value: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_paths(item, (*prefix, i)))
    return found


@given(st.sampled_from([_cdx("1.5"), _spdx()]), st.data())
def test_fuzz_valid_documents_with_one_value_replaced(base: dict[str, Any], data: Any) -> None:
    doc = json.loads(json.dumps(base))
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = data.draw(_json)
    _try(json.dumps(doc).encode())
