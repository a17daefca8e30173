"""Build provenance: in-toto Statements (bare, DSSE, Sigstore bundle, JSON Lines, npm's wrapper)
carrying SLSA provenance v0.2 or v1, and classic signed in-toto links (metadata v0.9).

Reading a file is a sequence of named steps, each with its own complaint:

1. **documents** — one JSON document, or one per line (`.intoto.jsonl`);
2. **envelopes** — unwrap npm's `{"attestations": [{"bundle": …}]}`, a Sigstore bundle
   (0.1, 0.2, 0.3; its `dsseEnvelope`), a DSSE envelope, a classic link
   (`{"signed": {"_type": "link", …}, "signatures": […]}`) or a bare statement;
3. **signatures** — with `public_keys` (PEM Ed25519, or ECDSA P-256), each DSSE signature is
   checked over PAE(payloadType, payload) and each link signature over the canonical JSON of
   `signed` (securesystemslib's form); an envelope counts as verified when one of its
   signatures verifies with one of the keys. `require_signature` turns an envelope without
   such a signature into a `ReadError`. The Sigstore certificate chain and transparency-log
   entries are *not* checked here: only signatures by keys the caller trusts;
4. **statement** — subjects (name, digest), predicate type;
5. **predicate** — SLSA v0.2 (`builder.id`, `buildType`, `materials`,
   `invocation.configSource`) or v1 (`runDetails.builder.id`, `buildDefinition.buildType`,
   `resolvedDependencies`, `externalParameters`): builder, build type, materials and the source
   repository and commit.

Several envelopes (JSON Lines, npm's two bundles) merge into one reading: subjects and
materials are united; builder, build type and source come from the first SLSA provenance
statement; `signature_verified` holds only when every envelope verified.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from changeproof.domain.canonical import JsonValue, canonical_json
from changeproof.domain.evidence import EvidenceKind, Material, Provenance, Reading, Subject
from changeproof.ingest.errors import ReadError
from changeproof.ingest.jsondoc import load_json, pointer

__all__ = [
    "IN_TOTO_PAYLOAD_TYPE",
    "SLSA_PROVENANCE_V02",
    "SLSA_PROVENANCE_V1",
    "STATEMENT_V01",
    "STATEMENT_V1",
    "pae",
    "read_provenance",
]

IN_TOTO_PAYLOAD_TYPE: Final = "application/vnd.in-toto+json"
STATEMENT_V01: Final = "https://in-toto.io/Statement/v0.1"
STATEMENT_V1: Final = "https://in-toto.io/Statement/v1"
SLSA_PROVENANCE_V02: Final = "https://slsa.dev/provenance/v0.2"
SLSA_PROVENANCE_V1: Final = "https://slsa.dev/provenance/v1"

_STATEMENT_TYPES: Final = (STATEMENT_V01, STATEMENT_V1)
_BUNDLE_MEDIA_TYPE: Final = re.compile(
    r"application/vnd\.dev\.sigstore\.bundle"
    r"(?:\+json;version=(?P<param>\d+\.\d+)|\.v(?P<infix>\d+\.\d+)\+json)"
)
_BUNDLE_VERSIONS: Final = ("0.1", "0.2", "0.3")
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
_NO_KEY_HINT: Final = "pass the builder's public key (PEM, Ed25519 or ECDSA P-256)"

_Part = str | int


# --- where a problem is -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _At:
    """A place in the file: line (JSON Lines), JSON path, and whether inside a decoded payload."""

    source: str
    line: int | None = None
    path: tuple[_Part, ...] = ()
    payload_at: tuple[_Part, ...] | None = None  # where the base64 payload sits, when inside it
    label: str = ""  # "line 2", "attestation 1": how notes and errors name one envelope

    def __truediv__(self, part: _Part) -> _At:
        return replace(self, path=(*self.path, part))

    def inside_payload(self) -> _At:
        return replace(self, payload_at=(*self.path, "payload"), path=())

    def error(self, problem: str, *, hint: str | None = None) -> ReadError:
        path = self.path
        if self.payload_at is not None:
            problem = f"{problem} (in the decoded payload, at {pointer(*path)})"
            path = self.payload_at
        if self.line is not None:
            where = f" (at {pointer(*path)})" if path else ""
            return ReadError(self.source, problem + where, line=self.line, hint=hint)
        return ReadError(self.source, problem, pointer=pointer(*path) if path else "", hint=hint)


def _object(value: object, at: _At) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise at.error("expected a JSON object")
    return value


def _string(obj: Mapping[str, object], key: str, at: _At) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise (at / key).error(f"{key} is missing" if value is None else f"{key} is not a string")
    return value


def _optional_string(obj: Mapping[str, object], key: str, at: _At) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise (at / key).error(f"{key} is not a string")


def _optional_object(obj: Mapping[str, object], key: str, at: _At) -> Mapping[str, object]:
    value = obj.get(key)
    return {} if value is None else _object(value, at / key)


def _optional_list(obj: Mapping[str, object], key: str, at: _At) -> list[object]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise (at / key).error(f"{key} is not a list")
    return value


def _digest(value: object, at: _At) -> dict[str, str]:
    """A digest set: algorithm -> value; hex values lowercased, known algorithms length-checked."""
    digest: dict[str, str] = {}
    for alg, raw in _object(value, at).items():
        if not isinstance(raw, str):
            raise (at / alg).error("a digest value is not a string")
        lengths = _HEX_LENGTHS.get(alg)
        if lengths is not None and not (_HEX.fullmatch(raw) and len(raw) in lengths):
            raise (at / alg).error(f"not a {alg} hex digest")
        digest[alg] = raw.lower() if _HEX.fullmatch(raw) else raw
    return digest


# --- keys and signatures ----------------------------------------------------------------------

_PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True, slots=True)
class _Key:
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


def _load_keys(public_keys: Sequence[bytes], source: str) -> tuple[_Key, ...]:
    keys: list[_Key] = []
    for n, pem in enumerate(public_keys, 1):
        try:
            public = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError, UnsupportedAlgorithm) as e:
            raise ReadError(
                source, f"public key #{n} is not a PEM public key", hint=_NO_KEY_HINT
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
                hint=_NO_KEY_HINT,
            )
        key_id = hashlib.sha256(_securesystemslib_json(described).encode("utf-8")).hexdigest()
        keys.append(_Key(public, key_id))
    return tuple(keys)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what a DSSE signature signs."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def _securesystemslib_json(value: object) -> str:
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
        return "[" + ",".join(_securesystemslib_json(item) for item in value) + "]"
    if isinstance(value, dict):
        items = sorted(value.items())
        return (
            "{"
            + ",".join(f"{_securesystemslib_json(k)}:{_securesystemslib_json(v)}" for k, v in items)
            + "}"
        )
    raise TypeError(f"{type(value).__name__} has no canonical form")


@dataclass(frozen=True, slots=True)
class _Signature:
    key_id: str | None
    sig: bytes


def _check(signatures: Sequence[_Signature], message: bytes, keys: Sequence[_Key]) -> list[str]:
    """Ids of the given keys that made one of `signatures` over `message`."""
    return list(
        dict.fromkeys(
            key.key_id for sig in signatures for key in keys if key.verifies(sig.sig, message)
        )
    )


def _base64(value: str, at: _At) -> bytes:
    """Standard or URL-safe base64, padded or not (DSSE accepts both)."""
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise at.error("not base64") from e


# --- what one envelope holds ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Found:
    """One envelope's statement (or link), its signatures and what checking them showed."""

    label: str
    line: int | None
    container: str  # bare | dsse | sigstore-bundle:<media type> | in-toto-link-v0.9
    provenance: Provenance
    source_uri: str | None = None
    source_ref: str | None = None
    payload_type: str | None = None
    extra: Mapping[str, JsonValue] = field(default_factory=dict)
    verified_by: tuple[str, ...] = ()


def read_provenance(
    data: bytes,
    source: str,
    *,
    public_keys: Sequence[bytes] = (),
    require_signature: bool = False,
) -> Reading:
    """Read build provenance (see the module docstring); `ReadError` for anything else."""
    keys = _load_keys(public_keys, source)
    if require_signature and not keys:
        raise ReadError(
            source,
            "a signature is required, but no public key was given to check it with",
            hint=_NO_KEY_HINT,
        )
    found: list[_Found] = []
    for line, doc in _documents(data, source):
        at = _At(source, line=line, label=f"line {line}" if line is not None else "")
        found.extend(_envelopes(doc, at, keys))
    if require_signature:
        for item in found:
            if not item.verified_by:
                raise _unverified(item, source)
    return _reading(found, keys, source)


def _unverified(item: _Found, source: str) -> ReadError:
    on = f" on {item.label}" if item.label else ""
    if item.provenance.signatures == 0:
        what = "a bare statement" if item.container == "bare" else "the envelope"
        problem = f"{what} is not signed: no signature by the given key{on}"
    else:
        problem = f"no signature by the given key{on}: none of its signatures verifies"
    return ReadError(
        source,
        problem,
        line=item.line,
        hint="check that the provenance came from the expected builder and that the key is its",
    )


def _documents(data: bytes, source: str) -> list[tuple[int | None, object]]:
    """Step 1: the whole file as one JSON document, else one document per line."""
    try:
        return [(None, load_json(data, source))]
    except ReadError as whole:
        numbered = [(n, line) for n, line in enumerate(data.split(b"\n"), 1) if line.strip()]
        if len(numbered) < 2:
            raise
        try:
            load_json(numbered[0][1], source)
        except ReadError:
            raise whole from None
        docs: list[tuple[int | None, object]] = []
        for n, line in numbered:
            try:
                docs.append((n, load_json(line, source)))
            except ReadError as e:
                raise ReadError(
                    source,
                    e.problem,
                    line=n,
                    hint="a .jsonl file holds one JSON document on each line",
                ) from e
        return docs


def _envelopes(doc: object, at: _At, keys: Sequence[_Key]) -> list[_Found]:
    """Step 2: recognise what wraps the statement."""
    obj = _object(doc, at)
    if "attestations" in obj:  # npm's (and GitHub's attestation API's) list of bundles
        found: list[_Found] = []
        items = _optional_list(obj, "attestations", at)
        if not items:
            raise (at / "attestations").error("no attestations in the list")
        for i, item in enumerate(items):
            item_at = replace(
                at / "attestations" / i,
                label=" ".join(filter(None, (at.label, f"attestation {i + 1}"))),
            )
            bundle = _object(item, item_at).get("bundle")
            found.append(_bundle(_object(bundle, item_at / "bundle"), item_at / "bundle", keys))
        return found
    if "mediaType" in obj:
        return [_bundle(obj, at, keys)]
    if "payloadType" in obj or "payload" in obj:
        return [_dsse(obj, at, "dsse", keys)]
    if "signed" in obj:
        return [_classic_link(obj, at, keys)]
    kind = obj.get("_type")
    if kind in _STATEMENT_TYPES:
        statement, extra = _statement(obj, at, envelope="bare", signatures=())
        if keys:
            statement = replace(statement, signature_verified=False)
        return [
            _Found(
                at.label,
                at.line,
                "bare",
                statement,
                extra.source_uri,
                extra.source_ref,
                extra=extra.fields,
            )
        ]
    if kind == "layout" or kind == "link":
        raise (at / "_type").error(
            f"an in-toto {kind} without its signed envelope; this reader takes signed links "
            "and attestations"
        )
    raise at.error(
        "not provenance: expected an in-toto statement, a DSSE envelope, a Sigstore bundle "
        "or a signed in-toto link",
        hint="give the .intoto.jsonl, .sigstore(.json) or .link file the build produced",
    )


def _bundle(obj: Mapping[str, object], at: _At, keys: Sequence[_Key]) -> _Found:
    media_type = _string(obj, "mediaType", at)
    match = _BUNDLE_MEDIA_TYPE.fullmatch(media_type)
    if match is None:
        raise (at / "mediaType").error(f"{media_type!r} is not a Sigstore bundle media type")
    version = match.group("param") or match.group("infix")
    if version not in _BUNDLE_VERSIONS:
        raise (at / "mediaType").error(
            f"Sigstore bundle {version} is not supported (this reader reads "
            f"{', '.join(_BUNDLE_VERSIONS)})"
        )
    envelope = obj.get("dsseEnvelope")
    if envelope is None:
        problem = "the Sigstore bundle holds no dsseEnvelope"
        if "messageSignature" in obj:
            problem += ": it signs a file directly (messageSignature) and carries no attestation"
        raise at.error(problem)
    return _dsse(
        _object(envelope, at / "dsseEnvelope"),
        at / "dsseEnvelope",
        f"sigstore-bundle:{media_type}",
        keys,
    )


def _dsse(obj: Mapping[str, object], at: _At, container: str, keys: Sequence[_Key]) -> _Found:
    payload_type = _string(obj, "payloadType", at)
    payload = _base64(_string(obj, "payload", at), at / "payload")
    signatures: list[_Signature] = []
    for i, item in enumerate(_optional_list(obj, "signatures", at)):
        sig_at = at / "signatures" / i
        sig = _object(item, sig_at)
        signatures.append(
            _Signature(
                _optional_string(sig, "keyid", sig_at) or None,
                _base64(_string(sig, "sig", sig_at), sig_at / "sig"),
            )
        )
    if payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise (at / "payloadType").error(
            f"payloadType {payload_type!r} is not {IN_TOTO_PAYLOAD_TYPE!r}: not an in-toto "
            "attestation"
        )
    try:
        doc = load_json(payload, at.source)
    except ReadError as e:
        raise (at / "payload").error(f"the decoded payload is not JSON: {e.problem}") from e
    verified_by = tuple(_check(signatures, pae(payload_type, payload), keys))
    inner = at.inside_payload()
    envelope = "dsse" if container == "dsse" else "sigstore-bundle"
    body = _object(doc, inner)
    if body.get("_type") == "link":
        provenance, extra = _link(body, inner, envelope, signatures)
    else:
        provenance, extra = _statement(body, inner, envelope=envelope, signatures=signatures)
    if keys:
        provenance = replace(provenance, signature_verified=bool(verified_by))
    return _Found(
        at.label,
        at.line,
        container,
        provenance,
        extra.source_uri,
        extra.source_ref,
        payload_type,
        extra.fields,
        verified_by,
    )


def _classic_link(obj: Mapping[str, object], at: _At, keys: Sequence[_Key]) -> _Found:
    signed = _object(obj.get("signed"), at / "signed")
    if signed.get("_type") != "link":
        kind = signed.get("_type")
        raise (at / "signed" / "_type").error(
            f"signed metadata of type {kind!r}, not an in-toto link"
        )
    signatures: list[_Signature] = []
    for i, item in enumerate(_optional_list(obj, "signatures", at)):
        sig_at = at / "signatures" / i
        sig = _object(item, sig_at)
        text = _string(sig, "sig", sig_at)
        try:
            raw = bytes.fromhex(text)
        except ValueError as e:
            raise (sig_at / "sig").error("not a hex signature") from e
        signatures.append(_Signature(_optional_string(sig, "keyid", sig_at) or None, raw))
    verified_by: tuple[str, ...] = ()
    if keys and signatures:
        try:
            message = _securesystemslib_json(signed).encode("utf-8")
        except (TypeError, RecursionError, UnicodeEncodeError):
            message = None  # no canonical form (a float, a lone surrogate): nothing can verify
        if message is not None:
            verified_by = tuple(_check(signatures, message, keys))
    provenance, extra = _link(signed, at / "signed", "in-toto-link", signatures)
    if keys:
        provenance = replace(provenance, signature_verified=bool(verified_by))
    return _Found(
        at.label,
        at.line,
        "in-toto-link-v0.9",
        provenance,
        extra=extra.fields,
        verified_by=verified_by,
    )


# --- statements, predicates, links ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Extra:
    source_uri: str | None = None
    source_ref: str | None = None
    fields: Mapping[str, JsonValue] = field(default_factory=dict)


def _key_ids(signatures: Sequence[_Signature]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.key_id for s in signatures if s.key_id))


def _statement(
    obj: Mapping[str, object], at: _At, *, envelope: str, signatures: Sequence[_Signature]
) -> tuple[Provenance, _Extra]:
    """Step 4: an in-toto Statement v0.1 or v1."""
    kind = _string(obj, "_type", at)
    if kind not in _STATEMENT_TYPES:
        raise (at / "_type").error(f"_type {kind!r} is not an in-toto Statement (v0.1 or v1)")
    items = _optional_list(obj, "subject", at)
    if not items:
        raise (at / "subject").error("a statement names no subject")
    subjects: list[Subject] = []
    for i, item in enumerate(items):
        sub_at = at / "subject" / i
        sub = _object(item, sub_at)
        name = _optional_string(sub, "name", sub_at) or _optional_string(sub, "uri", sub_at)
        if "digest" not in sub:
            raise (sub_at / "digest").error("a subject without a digest")
        subjects.append(Subject(name or "", _digest(sub["digest"], sub_at / "digest")))
    predicate_type = _string(obj, "predicateType", at)
    predicate = _optional_object(obj, "predicate", at)
    provenance = Provenance(
        envelope=envelope,
        statement_type=kind,
        predicate_type=predicate_type,
        subjects=tuple(subjects),
        builder=None,
        build_type=None,
        materials=(),
        signatures=len(signatures),
        key_ids=_key_ids(signatures),
    )
    if predicate_type == SLSA_PROVENANCE_V02:
        return _slsa_v02(predicate, at / "predicate", provenance)
    if predicate_type == SLSA_PROVENANCE_V1:
        return _slsa_v1(predicate, at / "predicate", provenance)
    return provenance, _Extra()


def _materials(items: Sequence[object], at: _At, uri_key: str = "uri") -> tuple[Material, ...]:
    materials: list[Material] = []
    for i, item in enumerate(items):
        mat_at = at / i
        mat = _object(item, mat_at)
        uri = _optional_string(mat, uri_key, mat_at) or _optional_string(mat, "name", mat_at)
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
    predicate: Mapping[str, object], at: _At, provenance: Provenance
) -> tuple[Provenance, _Extra]:
    """Step 5, SLSA provenance v0.2: the source is invocation.configSource."""
    builder = _optional_object(predicate, "builder", at)
    invocation = _optional_object(predicate, "invocation", at)
    config = _optional_object(invocation, "configSource", at / "invocation")
    config_at = at / "invocation" / "configSource"
    uri = _optional_string(config, "uri", config_at)
    digest = _digest(config["digest"], config_at / "digest") if "digest" in config else {}
    repository, ref = _repository(uri)
    metadata = _optional_object(predicate, "metadata", at)
    fields: dict[str, JsonValue] = {
        "entry_point": _optional_string(config, "entryPoint", config_at),
        "invocation_id": _optional_string(metadata, "buildInvocationID", at / "metadata"),
    }
    provenance = replace(
        provenance,
        builder=_optional_string(builder, "id", at / "builder"),
        build_type=_optional_string(predicate, "buildType", at),
        materials=_materials(_optional_list(predicate, "materials", at), at / "materials"),
        source_repository=repository,
        source_commit=_commit(digest),
    )
    return provenance, _Extra(uri, ref, fields)


def _slsa_v1(
    predicate: Mapping[str, object], at: _At, provenance: Provenance
) -> tuple[Provenance, _Extra]:
    """Step 5, SLSA provenance v1: the source is the workflow's repository (GitHub build types)
    or `externalParameters.source`, and its commit the resolved dependency fetched from it."""
    definition = _optional_object(predicate, "buildDefinition", at)
    def_at = at / "buildDefinition"
    run = _optional_object(predicate, "runDetails", at)
    builder = _optional_object(run, "builder", at / "runDetails")
    run_metadata = _optional_object(run, "metadata", at / "runDetails")
    external = _optional_object(definition, "externalParameters", def_at)
    ext_at = def_at / "externalParameters"
    materials = _materials(
        _optional_list(definition, "resolvedDependencies", def_at),
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
        repository, _ = _repository(_optional_string(workflow, "repository", wf_at))
        ref = _optional_string(workflow, "ref", wf_at)
        for material in materials:
            if _repository(material.uri)[0] == repository and _commit(material.digest):
                uri, commit = material.uri, _commit(material.digest)
                break
    elif isinstance(source, dict):  # container-based and other generators
        src_at = ext_at / "source"
        uri = _optional_string(source, "uri", src_at)
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
    fields: dict[str, JsonValue] = {
        "invocation_id": _optional_string(run_metadata, "invocationId", at / "runDetails"),
    }
    provenance = replace(
        provenance,
        builder=_optional_string(builder, "id", at / "runDetails" / "builder"),
        build_type=_optional_string(definition, "buildType", def_at),
        materials=materials,
        source_repository=repository,
        source_commit=commit,
    )
    return provenance, _Extra(uri, ref, fields)


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


def _link(
    signed: Mapping[str, object], at: _At, envelope: str, signatures: Sequence[_Signature]
) -> tuple[Provenance, _Extra]:
    """A link (in-toto metadata v0.9): what one step consumed, produced and returned."""
    name = _string(signed, "name", at)

    def artifacts(key: str) -> list[tuple[str, dict[str, str]]]:
        listed = _optional_object(signed, key, at)
        return [(path, _digest(digest, at / key / path)) for path, digest in listed.items()]

    products = artifacts("products")
    materials = artifacts("materials")
    byproducts = _optional_object(signed, "byproducts", at)
    returned = byproducts.get("return-value")
    command: list[JsonValue] = []
    for i, part in enumerate(_optional_list(signed, "command", at)):
        if not isinstance(part, str):
            raise (at / "command" / i).error("not a string")
        command.append(part)
    stdout = byproducts.get("stdout")
    last_line = stdout.rstrip("\n").rpartition("\n")[2] if isinstance(stdout, str) else None
    fields: dict[str, JsonValue] = {
        "return_value": returned if type(returned) is int else None,  # not a bool
        "command": command,
        "stdout_last_line": last_line,
    }
    provenance = Provenance(
        envelope=envelope,
        statement_type=None,
        predicate_type=None,
        subjects=tuple(Subject(path, digest) for path, digest in products),
        builder=None,
        build_type=None,
        materials=tuple(Material(path, digest) for path, digest in materials),
        signatures=len(signatures),
        key_ids=_key_ids(signatures),
        link_name=name,
    )
    return provenance, _Extra(fields=fields)


# --- the reading ------------------------------------------------------------------------------


def _subject_json(subject: Subject) -> dict[str, JsonValue]:
    return {"name": subject.name, "digest": dict(subject.digest)}


def _material_json(material: Material) -> dict[str, JsonValue]:
    return {"uri": material.uri, "digest": dict(material.digest)}


def _reading(found: Sequence[_Found], keys: Sequence[_Key], source: str) -> Reading:
    provs = [f.provenance for f in found]
    primary_index = next(
        (i for i, p in enumerate(provs) if p.builder is not None or p.link_name is not None), 0
    )
    primary = found[primary_index]
    main = primary.provenance

    subjects: dict[tuple[str, tuple[tuple[str, str], ...]], Subject] = {}
    for p in provs:
        for s in p.subjects:
            subjects.setdefault((s.name, tuple(sorted(s.digest.items()))), s)
    materials: dict[tuple[str, tuple[tuple[str, str], ...]], Material] = {}
    for p in provs:
        for m in p.materials:
            materials.setdefault((m.uri, tuple(sorted(m.digest.items()))), m)
    envelopes = list(dict.fromkeys(p.envelope for p in provs))
    key_ids = tuple(dict.fromkeys(k for p in provs for k in p.key_ids))
    verified_by = list(dict.fromkeys(k for f in found for k in f.verified_by))
    verified = all(f.verified_by for f in found) if keys else None
    builders = list(dict.fromkeys(p.builder for p in provs if p.builder is not None))
    commits = list(dict.fromkeys(p.source_commit for p in provs if p.source_commit))

    merged = Provenance(
        envelope=envelopes[0] if len(envelopes) == 1 else "mixed",
        statement_type=main.statement_type,
        predicate_type=main.predicate_type,
        subjects=tuple(subjects.values()),
        builder=main.builder,
        build_type=main.build_type,
        materials=tuple(materials.values()),
        source_repository=main.source_repository,
        source_commit=main.source_commit,
        signatures=sum(p.signatures for p in provs),
        signature_verified=verified,
        key_ids=key_ids,
        link_name=main.link_name,
    )
    summary: dict[str, JsonValue] = {
        "envelope": merged.envelope,
        "statement_type": merged.statement_type,
        "predicate_type": merged.predicate_type,
        "predicate_types": list(dict.fromkeys(p.predicate_type for p in provs if p.predicate_type)),
        "statements": len(found),
        "subjects": [_subject_json(s) for s in merged.subjects],
        "builder": merged.builder,
        "build_type": merged.build_type,
        "source_repository": merged.source_repository,
        "source_uri": primary.source_uri,
        "source_ref": primary.source_ref,
        "source_commit": merged.source_commit,
        "materials": len(merged.materials),
        "signatures": merged.signatures,
        "signature_verified": merged.signature_verified,
        "key_ids": list(merged.key_ids),
        "verified_key_ids": list(verified_by),
    }
    if merged.link_name is not None:
        summary["link_name"] = merged.link_name
        summary["return_value"] = primary.extra.get("return_value")
    detail: dict[str, JsonValue] = {
        "materials": [_material_json(m) for m in merged.materials],
        "envelopes": [_envelope_json(f) for f in found],
    }
    try:
        canonical_json(summary)
        canonical_json(detail)
    except (TypeError, ValueError) as e:
        raise ReadError(source, f"holds a value that cannot be recorded: {e}") from e

    notes: list[str] = []
    if merged.signatures == 0:
        notes.append("not signed: nothing binds this provenance to a builder")
    elif not keys:
        notes.append("signatures not checked: no public key was given")
    else:
        notes.extend(
            f"no signature by the given key on {f.label or 'the envelope'}"
            for f in found
            if not f.verified_by
        )
    if any(f.container.startswith("sigstore-bundle") for f in found):
        notes.append(
            "the Sigstore certificate and transparency-log entries were not checked by this reader"
        )
    if len(builders) > 1:
        notes.append(f"the statements name different builders: {', '.join(builders)}")
    return Reading(
        kind=EvidenceKind.PROVENANCE,
        format="in-toto-link" if merged.link_name is not None else "in-toto",
        summary=summary,
        detail=detail,
        commits=tuple(commits),
        artifact_digests=tuple(
            dict.fromkeys(s.digest["sha256"] for s in merged.subjects if "sha256" in s.digest)
        ),
        notes=tuple(notes),
    )


def _envelope_json(found: _Found) -> dict[str, JsonValue]:
    p = found.provenance
    out: dict[str, JsonValue] = {
        "where": found.label or None,
        "container": found.container,
        "payload_type": found.payload_type,
        "statement_type": p.statement_type,
        "predicate_type": p.predicate_type,
        "subjects": [_subject_json(s) for s in p.subjects],
        "builder": p.builder,
        "build_type": p.build_type,
        "source_repository": p.source_repository,
        "source_uri": found.source_uri,
        "source_ref": found.source_ref,
        "source_commit": p.source_commit,
        "materials": len(p.materials),
        "signatures": p.signatures,
        "key_ids": list(p.key_ids),
        "signature_verified": p.signature_verified,
        "verified_key_ids": list(found.verified_by),
    }
    if p.link_name is not None:
        out["link_name"] = p.link_name
    out.update(found.extra)
    return out
