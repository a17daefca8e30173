"""SBOMs: CycloneDX JSON 1.4 to 1.6 and SPDX 2.3 JSON, reduced to components, licenses and subject.

The reader recognises the format from the content, never from the file name, and refuses
what it cannot read faithfully (CycloneDX XML or before 1.4, SPDX tag-value or another
SPDX version) with words saying what to produce instead.

What a control decides on is in `Reading.summary`: format, spec version, how many
components, licenses counted by SPDX id (or expression, or name when that is all a
component gives), and how many components lack a license, purl or version. The component
list itself is the detail. The described software's sha256 (CycloneDX
`metadata.component.hashes`, SPDX described packages' `checksums`) binds the reading to an
artifact through `Reading.artifact_digests`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Final

from changeproof.domain.canonical import canonical_json
from changeproof.domain.evidence import Component, EvidenceKind, Reading, Sbom
from changeproof.ingest.errors import ReadError
from changeproof.ingest.jsondoc import load_json, pointer
from changeproof.ingest.registry import ReadOptions, Source, reader

__all__ = ["CYCLONEDX_VERSIONS", "SPDX_VERSIONS", "read_sbom", "sbom_reader"]

CYCLONEDX_VERSIONS: Final = ("1.4", "1.5", "1.6")
SPDX_VERSIONS: Final = ("SPDX-2.3",)

_SHA256: Final = re.compile(r"[0-9a-fA-F]{64}")
_NO_LICENSE: Final = frozenset({"NOASSERTION", "NONE"})
_Path = tuple[str | int, ...]


def read_sbom(data: bytes, source: str) -> Reading:
    """Read a CycloneDX (1.4 to 1.6) or SPDX 2.3 JSON SBOM; `ReadError` for anything else."""
    _reject_non_json(data, source)
    doc = load_json(data, source)
    if not isinstance(doc, dict):
        raise ReadError(source, "not an SBOM: the document is not a JSON object", pointer="")
    if "bomFormat" in doc or "specVersion" in doc:
        sbom, license_names = _cyclonedx(doc, source)
    elif "spdxVersion" in doc:
        sbom, license_names = _spdx(doc, source)
    elif "@context" in doc and "spdx" in str(doc.get("@context")).lower():
        raise ReadError(
            source,
            "SPDX 3 JSON-LD is not supported",
            hint="produce SPDX 2.3 JSON or CycloneDX JSON 1.4 to 1.6",
        )
    else:
        raise ReadError(
            source,
            "not an SBOM: no bomFormat (CycloneDX) or spdxVersion (SPDX) at the top level",
            pointer="",
            hint="give a CycloneDX JSON (1.4 to 1.6) or SPDX 2.3 JSON document",
        )
    return _reading(sbom, license_names, source)


@reader(
    "sbom",
    command="sbom",
    kind=EvidenceKind.SBOM,
    title="SBOM JSON",
    summary="CycloneDX JSON 1.4 to 1.6, SPDX 2.3 JSON",
    records=("CycloneDX", "SPDX"),
)
def sbom_reader(sources: Sequence[Source], options: ReadOptions) -> Reading:
    (source,) = sources
    return read_sbom(source.data, source.name)


# --- format detection for what is not JSON ---------------------------------------------------


def _reject_non_json(data: bytes, source: str) -> None:
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()[:4096]
    if head.startswith(b"<"):
        if b"cyclonedx" in head.lower():
            raise ReadError(
                source,
                "CycloneDX XML is not supported; this reader reads CycloneDX JSON",
                hint="produce JSON, e.g. `cyclonedx-py environment --of JSON`",
            )
        raise ReadError(source, "an XML document, not a JSON SBOM")
    if head.startswith((b"SPDXVersion:", b"##")) or b"\nSPDXVersion:" in head:
        raise ReadError(
            source,
            "SPDX tag-value is not supported; this reader reads SPDX 2.3 JSON",
            hint="produce SPDX JSON (e.g. `syft -o spdx-json`) or CycloneDX JSON",
        )


# --- CycloneDX --------------------------------------------------------------------------------


def _cyclonedx(doc: Mapping[str, object], source: str) -> tuple[Sbom, frozenset[str]]:
    fmt = doc.get("bomFormat")
    if fmt != "CycloneDX":
        raise ReadError(
            source, f"bomFormat is {fmt!r}, not 'CycloneDX'", pointer=pointer("bomFormat")
        )
    version = doc.get("specVersion")
    if not isinstance(version, str):
        raise ReadError(source, "CycloneDX without a specVersion string", pointer="/specVersion")
    if version not in CYCLONEDX_VERSIONS:
        raise ReadError(
            source,
            f"CycloneDX {version} is not supported (this reader reads "
            f"{', '.join(CYCLONEDX_VERSIONS)})",
            pointer="/specVersion",
            hint="regenerate the SBOM with a current CycloneDX tool, which writes 1.5 or 1.6",
        )
    components: list[Component] = []
    names: set[str] = set()
    top = _optional_list(doc, "components", (), source)
    # Depth-first, parents before children, without recursion (nesting is attacker-controlled).
    stack: list[tuple[object, _Path]] = [
        (item, ("components", i)) for i, item in reversed(list(enumerate(top)))
    ]
    while stack:
        item, path = stack.pop()
        obj = _object(item, path, source)
        components.append(_cdx_component(obj, path, source, names))
        nested = _optional_list(obj, "components", path, source)
        stack.extend(
            (child, (*path, "components", i)) for i, child in reversed(list(enumerate(nested)))
        )

    subject: str | None = None
    digests: list[str] = []
    metadata = doc.get("metadata")
    if metadata is not None:
        meta = _object(metadata, ("metadata",), source)
        main = meta.get("component")
        if main is not None:
            path = ("metadata", "component")
            main_obj = _object(main, path, source)
            subject = _cdx_component(main_obj, path, source, set()).name
            for i, entry in enumerate(_optional_list(main_obj, "hashes", path, source)):
                hpath = (*path, "hashes", i)
                hash_obj = _object(entry, hpath, source)
                if _string(hash_obj, "alg", hpath, source) == "SHA-256":
                    digests.append(_sha256(hash_obj, "content", hpath, source))
    sbom = Sbom(
        format="CycloneDX",
        spec_version=version,
        components=tuple(components),
        subject=subject,
        artifact_digests=tuple(dict.fromkeys(digests)),
    )
    return sbom, frozenset(names)


def _cdx_component(
    obj: Mapping[str, object], path: _Path, source: str, names: set[str]
) -> Component:
    """One component; license names that are not SPDX ids or expressions go into `names`."""
    name = _string(obj, "name", path, source)
    licenses: list[str] = []
    for i, entry in enumerate(_optional_list(obj, "licenses", path, source)):
        lpath = (*path, "licenses", i)
        choice = _object(entry, lpath, source)
        expression = _optional_string(choice, "expression", lpath, source)
        if expression is not None:
            licenses.append(expression)
            continue
        license_ = choice.get("license")
        if license_ is None:
            continue
        lic = _object(license_, (*lpath, "license"), source)
        spdx_id = _optional_string(lic, "id", (*lpath, "license"), source)
        name_only = _optional_string(lic, "name", (*lpath, "license"), source)
        if spdx_id:
            licenses.append(spdx_id)
        elif name_only:
            licenses.append(name_only)
            names.add(name_only)
    return Component(
        name=name,
        version=_optional_string(obj, "version", path, source),
        purl=_optional_string(obj, "purl", path, source),
        licenses=tuple(dict.fromkeys(licenses)),
        type=_optional_string(obj, "type", path, source),
    )


# --- SPDX -------------------------------------------------------------------------------------


def _spdx(doc: Mapping[str, object], source: str) -> tuple[Sbom, frozenset[str]]:
    version = doc.get("spdxVersion")
    if not isinstance(version, str):
        raise ReadError(source, "spdxVersion is not a string", pointer="/spdxVersion")
    if version not in SPDX_VERSIONS:
        raise ReadError(
            source,
            f"{version} is not supported (this reader reads SPDX-2.3 JSON)",
            pointer="/spdxVersion",
            hint="produce SPDX 2.3 JSON or CycloneDX JSON 1.4 to 1.6",
        )
    packages = _optional_list(doc, "packages", (), source)
    by_id: dict[str, tuple[Mapping[str, object], _Path]] = {}
    components: list[Component] = []
    for i, item in enumerate(packages):
        path: _Path = ("packages", i)
        pkg = _object(item, path, source)
        spdx_id = _optional_string(pkg, "SPDXID", path, source)
        if spdx_id is not None:
            by_id[spdx_id] = (pkg, path)
        components.append(_spdx_component(pkg, path, source))

    described: list[str] = []
    for i, item in enumerate(_optional_list(doc, "documentDescribes", (), source)):
        if not isinstance(item, str):
            raise ReadError(source, "not a string", pointer=pointer("documentDescribes", i))
        described.append(item)
    document_id = doc.get("SPDXID", "SPDXRef-DOCUMENT")
    for i, item in enumerate(_optional_list(doc, "relationships", (), source)):
        rpath: _Path = ("relationships", i)
        rel = _object(item, rpath, source)
        kind = rel.get("relationshipType")
        if kind == "DESCRIBES" and rel.get("spdxElementId") == document_id:
            described.append(_string(rel, "relatedSpdxElement", rpath, source))
        elif kind == "DESCRIBED_BY" and rel.get("relatedSpdxElement") == document_id:
            described.append(_string(rel, "spdxElementId", rpath, source))
    described = list(dict.fromkeys(described))

    subject: str | None = None
    digests: list[str] = []
    for spdx_id in described:
        found = by_id.get(spdx_id)
        if found is None:
            subject = subject or spdx_id  # a file or an external document: its id is all we have
            continue
        pkg, path = found
        subject = subject or _string(pkg, "name", path, source)
        for i, entry in enumerate(_optional_list(pkg, "checksums", path, source)):
            cpath = (*path, "checksums", i)
            checksum = _object(entry, cpath, source)
            if _string(checksum, "algorithm", cpath, source) == "SHA256":
                digests.append(_sha256(checksum, "checksumValue", cpath, source))
    sbom = Sbom(
        format="SPDX",
        spec_version=version.removeprefix("SPDX-"),
        components=tuple(components),
        subject=subject,
        artifact_digests=tuple(dict.fromkeys(digests)),
    )
    # LicenseRef-… are the document's own license texts, not SPDX list ids.
    refs = {lic for c in components for lic in c.licenses if "LicenseRef-" in lic}
    return sbom, frozenset(refs)


def _spdx_component(pkg: Mapping[str, object], path: _Path, source: str) -> Component:
    purl: str | None = None
    for i, entry in enumerate(_optional_list(pkg, "externalRefs", path, source)):
        epath = (*path, "externalRefs", i)
        ref = _object(entry, epath, source)
        if ref.get("referenceType") == "purl":
            purl = _string(ref, "referenceLocator", epath, source)
            break
    licenses: tuple[str, ...] = ()
    for key in ("licenseConcluded", "licenseDeclared"):
        value = _optional_string(pkg, key, path, source)
        if value is not None and value.strip() and value.strip() not in _NO_LICENSE:
            licenses = (value.strip(),)
            break
    purpose = _optional_string(pkg, "primaryPackagePurpose", path, source)
    return Component(
        name=_string(pkg, "name", path, source),
        version=_optional_string(pkg, "versionInfo", path, source),
        purl=purl,
        licenses=licenses,
        type=purpose.lower().replace("_", "-") if purpose else None,
    )


# --- the reading ------------------------------------------------------------------------------


def _reading(sbom: Sbom, license_names: frozenset[str], source: str) -> Reading:
    # The documents load pydantic: imported here, so registering this reader loads no parser.
    from changeproof.domain.evidence_documents import SbomDetail, SbomSummary

    licenses: Counter[str] = Counter()
    for component in sbom.components:
        licenses.update(component.licenses)
    name_only = sum(
        1 for c in sbom.components if c.licenses and all(x in license_names for x in c.licenses)
    )
    without_license = sum(1 for c in sbom.components if not c.licenses)
    without_purl = sum(1 for c in sbom.components if c.purl is None)
    without_version = sum(1 for c in sbom.components if c.version is None)
    summary = SbomSummary(
        format=sbom.format,
        spec_version=sbom.spec_version,
        subject=sbom.subject,
        components=len(sbom.components),
        licenses=dict(sorted(licenses.items())),
        without_license=without_license,
        without_purl=without_purl,
        without_version=without_version,
        # Licenses given as free text (CycloneDX license.name, SPDX LicenseRef-…), not SPDX ids.
        license_names=tuple(sorted(license_names)),
        license_name_only=name_only,
    )
    detail = SbomDetail(components=sbom.components)
    try:
        canonical_json(summary.to_data())
        canonical_json(detail.to_data())
    except (TypeError, ValueError) as e:
        raise ReadError(source, f"holds text that cannot be recorded: {e}") from e
    notes: list[str] = []
    if without_license:
        notes.append(f"{without_license} component(s) declare no license")
    if name_only:
        notes.append(f"{name_only} component(s) name their license without an SPDX id")
    if without_purl:
        notes.append(f"{without_purl} component(s) have no purl")
    if sbom.subject is None:
        notes.append("the SBOM does not name the software it describes")
    return Reading(
        kind=EvidenceKind.SBOM,
        format=sbom.format,
        summary=summary,
        detail=detail,
        artifact_digests=sbom.artifact_digests,
        notes=tuple(notes),
    )


# --- typed access with a pointer in every complaint -------------------------------------------


def _object(value: object, path: _Path, source: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise ReadError(source, "expected a JSON object", pointer=pointer(*path))
    return value


def _optional_list(obj: Mapping[str, object], key: str, path: _Path, source: str) -> list[object]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ReadError(source, f"{key} is not a list", pointer=pointer(*path, key))
    return value


def _optional_string(obj: Mapping[str, object], key: str, path: _Path, source: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ReadError(source, f"{key} is not a string", pointer=pointer(*path, key))


def _string(obj: Mapping[str, object], key: str, path: _Path, source: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        problem = "missing" if value is None else "not a string"
        raise ReadError(source, f"{key} is {problem}", pointer=pointer(*path, key))
    return value


def _sha256(obj: Mapping[str, object], key: str, path: _Path, source: str) -> str:
    value = _string(obj, key, path, source)
    if not _SHA256.fullmatch(value):
        raise ReadError(source, "not a SHA-256 hex digest", pointer=pointer(*path, key))
    return value.lower()
