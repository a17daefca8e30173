"""Envelopes around an attestation, and the signatures on them: npm's
`{"attestations": [{"bundle": …}]}`, a Sigstore bundle (0.1, 0.2, 0.3; its `dsseEnvelope`), a
DSSE envelope, a classic signed in-toto link, or a bare statement.

Steps 2 and 3 of reading build provenance (see `changeproof.ingest.provenance`): recognise the
envelope, decode its payload, and check each signature with the keys the caller trusts.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from changeproof.domain.evidence import Provenance
from changeproof.ingest.attestation_json import (
    Location,
    json_object,
    optional_list,
    optional_string,
    string,
)
from changeproof.ingest.errors import ReadError
from changeproof.ingest.jsondoc import load_json
from changeproof.ingest.signatures import (
    Signature,
    VerifyingKey,
    pae,
    securesystemslib_json,
    verified_key_ids,
)
from changeproof.ingest.statements import (
    STATEMENT_TYPES,
    StatementFields,
    read_link,
    read_statement,
)

__all__ = ["IN_TOTO_PAYLOAD_TYPE", "Envelope", "read_envelopes"]

IN_TOTO_PAYLOAD_TYPE: Final = "application/vnd.in-toto+json"

_BUNDLE_MEDIA_TYPE: Final = re.compile(
    r"application/vnd\.dev\.sigstore\.bundle"
    r"(?:\+json;version=(?P<param>\d+\.\d+)|\.v(?P<infix>\d+\.\d+)\+json)"
)
_BUNDLE_VERSIONS: Final = ("0.1", "0.2", "0.3")


@dataclass(frozen=True, slots=True)
class Envelope:
    """One envelope's statement (or link), its signatures and what checking them showed."""

    label: str
    line: int | None
    container: str  # bare | dsse | sigstore-bundle:<media type> | in-toto-link-v0.9
    provenance: Provenance
    source_uri: str | None = None
    source_ref: str | None = None
    payload_type: str | None = None
    extra: StatementFields = field(default_factory=StatementFields)
    verified_by: tuple[str, ...] = ()


def read_envelopes(doc: object, at: Location, keys: Sequence[VerifyingKey]) -> list[Envelope]:
    """Step 2: recognise what wraps the statement."""
    obj = json_object(doc, at)
    if "attestations" in obj:  # npm's (and GitHub's attestation API's) list of bundles
        found: list[Envelope] = []
        items = optional_list(obj, "attestations", at)
        if not items:
            raise (at / "attestations").error("no attestations in the list")
        for i, item in enumerate(items):
            item_at = replace(
                at / "attestations" / i,
                label=" ".join(filter(None, (at.label, f"attestation {i + 1}"))),
            )
            bundle = json_object(item, item_at).get("bundle")
            found.append(_bundle(json_object(bundle, item_at / "bundle"), item_at / "bundle", keys))
        return found
    if "mediaType" in obj:
        return [_bundle(obj, at, keys)]
    if "payloadType" in obj or "payload" in obj:
        return [_dsse(obj, at, "dsse", keys)]
    if "signed" in obj:
        return [_classic_link(obj, at, keys)]
    kind = obj.get("_type")
    if kind in STATEMENT_TYPES:
        statement, extra = read_statement(obj, at, envelope="bare", signatures=())
        if keys:
            statement = replace(statement, signature_verified=False)
        return [
            Envelope(
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


def _bundle(obj: Mapping[str, object], at: Location, keys: Sequence[VerifyingKey]) -> Envelope:
    media_type = string(obj, "mediaType", at)
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
        json_object(envelope, at / "dsseEnvelope"),
        at / "dsseEnvelope",
        f"sigstore-bundle:{media_type}",
        keys,
    )


def _dsse(
    obj: Mapping[str, object], at: Location, container: str, keys: Sequence[VerifyingKey]
) -> Envelope:
    payload_type = string(obj, "payloadType", at)
    payload = _base64(string(obj, "payload", at), at / "payload")
    signatures: list[Signature] = []
    for i, item in enumerate(optional_list(obj, "signatures", at)):
        sig_at = at / "signatures" / i
        sig = json_object(item, sig_at)
        signatures.append(
            Signature(
                optional_string(sig, "keyid", sig_at) or None,
                _base64(string(sig, "sig", sig_at), sig_at / "sig"),
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
    verified_by = tuple(verified_key_ids(signatures, pae(payload_type, payload), keys))
    inner = at.inside_payload()
    envelope = "dsse" if container == "dsse" else "sigstore-bundle"
    body = json_object(doc, inner)
    if body.get("_type") == "link":
        provenance, extra = read_link(body, inner, envelope, signatures)
    else:
        provenance, extra = read_statement(body, inner, envelope=envelope, signatures=signatures)
    if keys:
        provenance = replace(provenance, signature_verified=bool(verified_by))
    return Envelope(
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


def _classic_link(
    obj: Mapping[str, object], at: Location, keys: Sequence[VerifyingKey]
) -> Envelope:
    signed = json_object(obj.get("signed"), at / "signed")
    if signed.get("_type") != "link":
        kind = signed.get("_type")
        raise (at / "signed" / "_type").error(
            f"signed metadata of type {kind!r}, not an in-toto link"
        )
    signatures: list[Signature] = []
    for i, item in enumerate(optional_list(obj, "signatures", at)):
        sig_at = at / "signatures" / i
        sig = json_object(item, sig_at)
        text = string(sig, "sig", sig_at)
        try:
            raw = bytes.fromhex(text)
        except ValueError as e:
            raise (sig_at / "sig").error("not a hex signature") from e
        signatures.append(Signature(optional_string(sig, "keyid", sig_at) or None, raw))
    verified_by: tuple[str, ...] = ()
    if keys and signatures:
        try:
            message = securesystemslib_json(signed).encode("utf-8")
        except (TypeError, RecursionError, UnicodeEncodeError):
            message = None  # no canonical form (a float, a lone surrogate): nothing can verify
        if message is not None:
            verified_by = tuple(verified_key_ids(signatures, message, keys))
    provenance, extra = read_link(signed, at / "signed", "in-toto-link", signatures)
    if keys:
        provenance = replace(provenance, signature_verified=bool(verified_by))
    return Envelope(
        at.label,
        at.line,
        "in-toto-link-v0.9",
        provenance,
        extra=extra.fields,
        verified_by=verified_by,
    )


def _base64(value: str, at: Location) -> bytes:
    """Standard or URL-safe base64, padded or not (DSSE accepts both)."""
    text = value.strip().replace("-", "+").replace("_", "/")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise at.error("not base64") from e
