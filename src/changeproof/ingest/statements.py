"""What an attestation says: an in-toto Statement (v0.1 or v1) with its subjects and, for SLSA
provenance v0.2 or v1, the builder, build type, materials and source repository and commit; or
a classic in-toto link (metadata v0.9): what one step consumed, produced and returned.

Steps 4 and 5 of reading build provenance (see `changeproof.ingest.provenance`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from pydantic import MISSING

from changeproof.domain.evidence import Material, Provenance, Subject
from changeproof.ingest.attestation_json import (
    Location,
    json_object,
    optional_list,
    optional_object,
    optional_string,
    string,
)
from changeproof.ingest.signatures import Signature, key_ids

__all__ = [
    "SLSA_PROVENANCE_V02",
    "SLSA_PROVENANCE_V1",
    "STATEMENT_TYPES",
    "STATEMENT_V01",
    "STATEMENT_V1",
    "StatementExtras",
    "StatementFields",
    "read_link",
    "read_statement",
]

STATEMENT_V01: Final = "https://in-toto.io/Statement/v0.1"
STATEMENT_V1: Final = "https://in-toto.io/Statement/v1"
SLSA_PROVENANCE_V02: Final = "https://slsa.dev/provenance/v0.2"
SLSA_PROVENANCE_V1: Final = "https://slsa.dev/provenance/v1"
STATEMENT_TYPES: Final = (STATEMENT_V01, STATEMENT_V1)

_HEX_LENGTHS: Final = {
    "md5": (32,),
    "sha1": (40,),
    "sha224": (56,),
    "sha256": (64,),
    "sha384": (96,),
    "sha512": (128,),
    "gitCommit": (40, 64),
    "gitTree": (40, 64),
}
_HEX: Final = re.compile(r"[0-9a-fA-F]+")
_COMMIT: Final = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class StatementFields:
    """What a statement's kind adds to its envelope's detail (`ProvenanceEnvelope`): MISSING
    where the kind has no such field, None where it has one without a value."""

    entry_point: str | MISSING | None = MISSING  # SLSA v0.2
    invocation_id: str | MISSING | None = MISSING  # SLSA v0.2 and v1
    return_value: int | MISSING | None = MISSING  # links
    command: tuple[str, ...] | MISSING = MISSING  # links
    stdout_last_line: str | MISSING | None = MISSING  # links


@dataclass(frozen=True, slots=True)
class StatementExtras:
    """What a statement or link says besides its `Provenance`: where its source came from, and
    fields for the envelope's detail."""

    source_uri: str | None = None
    source_ref: str | None = None
    fields: StatementFields = field(default_factory=StatementFields)


def _digest(value: object, at: Location) -> dict[str, str]:
    """A digest set: algorithm -> value; hex values lowercased, known algorithms length-checked."""
    digest: dict[str, str] = {}
    for alg, raw in json_object(value, at).items():
        if not isinstance(raw, str):
            raise (at / alg).error("a digest value is not a string")
        lengths = _HEX_LENGTHS.get(alg)
        if lengths is not None and not (_HEX.fullmatch(raw) and len(raw) in lengths):
            raise (at / alg).error(f"not a {alg} hex digest")
        digest[alg] = raw.lower() if _HEX.fullmatch(raw) else raw
    return digest


def read_statement(
    obj: Mapping[str, object], at: Location, *, envelope: str, signatures: Sequence[Signature]
) -> tuple[Provenance, StatementExtras]:
    """Step 4: an in-toto Statement v0.1 or v1."""
    kind = string(obj, "_type", at)
    if kind not in STATEMENT_TYPES:
        raise (at / "_type").error(f"_type {kind!r} is not an in-toto Statement (v0.1 or v1)")
    items = optional_list(obj, "subject", at)
    if not items:
        raise (at / "subject").error("a statement names no subject")
    subjects: list[Subject] = []
    for i, item in enumerate(items):
        sub_at = at / "subject" / i
        sub = json_object(item, sub_at)
        name = optional_string(sub, "name", sub_at) or optional_string(sub, "uri", sub_at)
        if "digest" not in sub:
            raise (sub_at / "digest").error("a subject without a digest")
        subjects.append(Subject(name or "", _digest(sub["digest"], sub_at / "digest")))
    predicate_type = string(obj, "predicateType", at)
    predicate = optional_object(obj, "predicate", at)
    provenance = Provenance(
        envelope=envelope,
        statement_type=kind,
        predicate_type=predicate_type,
        subjects=tuple(subjects),
        builder=None,
        build_type=None,
        materials=(),
        signatures=len(signatures),
        key_ids=key_ids(signatures),
    )
    if predicate_type == SLSA_PROVENANCE_V02:
        return _slsa_v02(predicate, at / "predicate", provenance)
    if predicate_type == SLSA_PROVENANCE_V1:
        return _slsa_v1(predicate, at / "predicate", provenance)
    return provenance, StatementExtras()


def _materials(items: Sequence[object], at: Location, uri_key: str = "uri") -> tuple[Material, ...]:
    materials: list[Material] = []
    for i, item in enumerate(items):
        mat_at = at / i
        mat = json_object(item, mat_at)
        uri = optional_string(mat, uri_key, mat_at) or optional_string(mat, "name", mat_at)
        digest = _digest(mat["digest"], mat_at / "digest") if "digest" in mat else {}
        materials.append(Material(uri or "", digest))
    return tuple(materials)


def _commit(digest: Mapping[str, str]) -> str | None:
    for alg in ("gitCommit", "sha1"):
        value = digest.get(alg)
        if value is not None and _COMMIT.fullmatch(value):
            return value
    return None


def _slsa_v02(
    predicate: Mapping[str, object], at: Location, provenance: Provenance
) -> tuple[Provenance, StatementExtras]:
    """Step 5, SLSA provenance v0.2: the source is invocation.configSource."""
    builder = optional_object(predicate, "builder", at)
    invocation = optional_object(predicate, "invocation", at)
    config = optional_object(invocation, "configSource", at / "invocation")
    config_at = at / "invocation" / "configSource"
    uri = optional_string(config, "uri", config_at)
    digest = _digest(config["digest"], config_at / "digest") if "digest" in config else {}
    repository, ref = _repository(uri)
    metadata = optional_object(predicate, "metadata", at)
    fields = StatementFields(
        entry_point=optional_string(config, "entryPoint", config_at),
        invocation_id=optional_string(metadata, "buildInvocationID", at / "metadata"),
    )
    provenance = replace(
        provenance,
        builder=optional_string(builder, "id", at / "builder"),
        build_type=optional_string(predicate, "buildType", at),
        materials=_materials(optional_list(predicate, "materials", at), at / "materials"),
        source_repository=repository,
        source_commit=_commit(digest),
    )
    return provenance, StatementExtras(uri, ref, fields)


def _slsa_v1(
    predicate: Mapping[str, object], at: Location, provenance: Provenance
) -> tuple[Provenance, StatementExtras]:
    """Step 5, SLSA provenance v1: the source is the workflow's repository (GitHub build types)
    or `externalParameters.source`, and its commit the resolved dependency fetched from it."""
    definition = optional_object(predicate, "buildDefinition", at)
    def_at = at / "buildDefinition"
    run = optional_object(predicate, "runDetails", at)
    builder = optional_object(run, "builder", at / "runDetails")
    run_metadata = optional_object(run, "metadata", at / "runDetails")
    external = optional_object(definition, "externalParameters", def_at)
    ext_at = def_at / "externalParameters"
    materials = _materials(
        optional_list(definition, "resolvedDependencies", def_at),
        def_at / "resolvedDependencies",
    )

    uri: str | None = None
    ref: str | None = None
    repository: str | None = None
    commit: str | None = None
    workflow = external.get("workflow")
    source = external.get("source")
    if isinstance(workflow, dict):  # GitHub Actions build types
        wf_at = ext_at / "workflow"
        repository, _ = _repository(optional_string(workflow, "repository", wf_at))
        ref = optional_string(workflow, "ref", wf_at)
        for material in materials:
            if _repository(material.uri)[0] == repository and _commit(material.digest):
                uri, commit = material.uri, _commit(material.digest)
                break
    elif isinstance(source, dict):  # container-based and other generators
        src_at = ext_at / "source"
        uri = optional_string(source, "uri", src_at)
        repository, ref = _repository(uri)
        if "digest" in source:
            commit = _commit(_digest(source["digest"], src_at / "digest"))
    if repository is None:
        for material in materials:
            if material.uri.startswith("git+") and _commit(material.digest):
                uri, commit = material.uri, _commit(material.digest)
                repository, ref = _repository(uri)
                break
    if uri is not None and ref is None:
        ref = _repository(uri)[1]
    fields = StatementFields(
        invocation_id=optional_string(run_metadata, "invocationId", at / "runDetails"),
    )
    provenance = replace(
        provenance,
        builder=optional_string(builder, "id", at / "runDetails" / "builder"),
        build_type=optional_string(definition, "buildType", def_at),
        materials=materials,
        source_repository=repository,
        source_commit=commit,
    )
    return provenance, StatementExtras(uri, ref, fields)


def _repository(uri: str | None) -> tuple[str | None, str | None]:
    """`git+https://host/owner/repo@refs/heads/main` -> (`https://host/owner/repo`, the ref)."""
    if not uri:
        return None, None
    text = uri.removeprefix("git+")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    authority, slash, path = rest.partition("/")
    ref: str | None = None
    if "@" in path:
        path, _, ref = path.partition("@")
    path = path.rstrip("/").removesuffix(".git")
    repo = f"{scheme}://{authority}" if sep else authority
    if slash:
        repo += f"/{path}"
    return repo, ref or None


def read_link(
    signed: Mapping[str, object], at: Location, envelope: str, signatures: Sequence[Signature]
) -> tuple[Provenance, StatementExtras]:
    """A link (in-toto metadata v0.9): what one step consumed, produced and returned."""
    name = string(signed, "name", at)

    def artifacts(key: str) -> list[tuple[str, dict[str, str]]]:
        listed = optional_object(signed, key, at)
        return [(path, _digest(digest, at / key / path)) for path, digest in listed.items()]

    products = artifacts("products")
    materials = artifacts("materials")
    byproducts = optional_object(signed, "byproducts", at)
    returned = byproducts.get("return-value")
    command: list[str] = []
    for i, part in enumerate(optional_list(signed, "command", at)):
        if not isinstance(part, str):
            raise (at / "command" / i).error("not a string")
        command.append(part)
    stdout = byproducts.get("stdout")
    last_line = stdout.rstrip("\n").rpartition("\n")[2] if isinstance(stdout, str) else None
    fields = StatementFields(
        return_value=returned if type(returned) is int else None,  # not a bool
        command=tuple(command),
        stdout_last_line=last_line,
    )
    provenance = Provenance(
        envelope=envelope,
        statement_type=None,
        predicate_type=None,
        subjects=tuple(Subject(path, digest) for path, digest in products),
        builder=None,
        build_type=None,
        materials=tuple(Material(path, digest) for path, digest in materials),
        signatures=len(signatures),
        key_ids=key_ids(signatures),
        link_name=name,
    )
    return provenance, StatementExtras(fields=fields)
