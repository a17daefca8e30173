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

Step 1 and the merged reading are here; steps 2 and 3 in `envelopes` (with `signatures` for
keys, PAE and securesystemslib's canonical JSON), steps 4 and 5 in `statements`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from changeproof.domain.canonical import canonical_json
from changeproof.domain.evidence import EvidenceKind, Material, Provenance, Reading, Subject
from changeproof.ingest.errors import ReadError
from changeproof.ingest.jsondoc import load_json
from changeproof.ingest.registry import Option, ReadOptions, Source, reader

# Envelopes and signatures load cryptography, the documents pydantic: imported where a file is
# read, so registering this reader (the CLI listing its commands) costs nothing.
if TYPE_CHECKING:
    from changeproof.domain.evidence_documents import (
        ProvenanceDetail,
        ProvenanceEnvelope,
        ProvenanceSummary,
    )
    from changeproof.ingest.envelopes import IN_TOTO_PAYLOAD_TYPE, Envelope
    from changeproof.ingest.signatures import VerifyingKey, pae
    from changeproof.ingest.statements import (
        SLSA_PROVENANCE_V02,
        SLSA_PROVENANCE_V1,
        STATEMENT_V01,
        STATEMENT_V1,
    )

__all__ = [
    "IN_TOTO_PAYLOAD_TYPE",
    "SLSA_PROVENANCE_V02",
    "SLSA_PROVENANCE_V1",
    "STATEMENT_V01",
    "STATEMENT_V1",
    "pae",
    "provenance_reader",
    "read_provenance",
]

_REEXPORTED = {
    "IN_TOTO_PAYLOAD_TYPE": "changeproof.ingest.envelopes",
    "pae": "changeproof.ingest.signatures",
    "SLSA_PROVENANCE_V02": "changeproof.ingest.statements",
    "SLSA_PROVENANCE_V1": "changeproof.ingest.statements",
    "STATEMENT_V01": "changeproof.ingest.statements",
    "STATEMENT_V1": "changeproof.ingest.statements",
}


def __getattr__(name: str) -> object:
    if name in _REEXPORTED:
        return getattr(importlib.import_module(_REEXPORTED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def read_provenance(
    data: bytes,
    source: str,
    *,
    public_keys: Sequence[bytes] = (),
    require_signature: bool = False,
) -> Reading:
    """Read build provenance (see the module docstring); `ReadError` for anything else."""
    from changeproof.ingest.attestation_json import Location
    from changeproof.ingest.envelopes import read_envelopes
    from changeproof.ingest.signatures import NO_KEY_HINT, load_keys

    keys = load_keys(public_keys, source)
    if require_signature and not keys:
        raise ReadError(
            source,
            "a signature is required, but no public key was given to check it with",
            hint=NO_KEY_HINT,
        )
    found: list[Envelope] = []
    for line, doc in _documents(data, source):
        at = Location(source, line=line, label=f"line {line}" if line is not None else "")
        found.extend(read_envelopes(doc, at, keys))
    if require_signature:
        for item in found:
            if not item.verified_by:
                raise _unverified(item, source)
    return _reading(found, keys, source)


@reader(
    "in-toto",
    command="provenance",
    kind=EvidenceKind.PROVENANCE,
    title="build provenance",
    summary="in-toto Statements (bare, DSSE, Sigstore bundle, JSON Lines), SLSA provenance "
    "v0.2 and v1, in-toto links",
    records=("in-toto", "in-toto-link"),
    options=frozenset({Option.PUBLIC_KEYS, Option.REQUIRE_SIGNATURE}),
)
def provenance_reader(sources: Sequence[Source], options: ReadOptions) -> Reading:
    (source,) = sources
    return read_provenance(
        source.data,
        source.name,
        public_keys=options.public_keys,
        require_signature=options.require_signature,
    )


def _unverified(item: Envelope, source: str) -> ReadError:
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


# --- the reading ------------------------------------------------------------------------------


def _reading(found: Sequence[Envelope], keys: Sequence[VerifyingKey], source: str) -> Reading:
    provs = [f.provenance for f in found]
    # The statement that names a builder (or a link step) speaks for the whole attestation.
    primary = found[
        next(
            (i for i, p in enumerate(provs) if p.builder is not None or p.link_name is not None), 0
        )
    ]
    merged = _merged(found, keys, primary.provenance)
    summary, detail = _summary_and_detail(found, primary, merged)
    try:
        canonical_json(summary.to_data())
        canonical_json(detail.to_data())
    except (TypeError, ValueError) as e:
        raise ReadError(source, f"holds a value that cannot be recorded: {e}") from e
    return Reading(
        kind=EvidenceKind.PROVENANCE,
        format="in-toto-link" if merged.link_name is not None else "in-toto",
        summary=summary,
        detail=detail,
        commits=tuple(dict.fromkeys(p.source_commit for p in provs if p.source_commit)),
        artifact_digests=tuple(
            dict.fromkeys(s.digest["sha256"] for s in merged.subjects if "sha256" in s.digest)
        ),
        notes=_notes(found, keys, merged),
    )


def _merged(
    found: Sequence[Envelope], keys: Sequence[VerifyingKey], main: Provenance
) -> Provenance:
    """Every statement's subjects, materials, signatures and key ids, under `main`'s builder."""
    provs = [f.provenance for f in found]
    subjects: dict[tuple[str, tuple[tuple[str, str], ...]], Subject] = {}
    materials: dict[tuple[str, tuple[tuple[str, str], ...]], Material] = {}
    for p in provs:
        for s in p.subjects:
            subjects.setdefault((s.name, tuple(sorted(s.digest.items()))), s)
        for m in p.materials:
            materials.setdefault((m.uri, tuple(sorted(m.digest.items()))), m)
    envelopes = list(dict.fromkeys(p.envelope for p in provs))
    return Provenance(
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
        signature_verified=all(f.verified_by for f in found) if keys else None,
        key_ids=tuple(dict.fromkeys(k for p in provs for k in p.key_ids)),
        link_name=main.link_name,
    )


def _summary_and_detail(
    found: Sequence[Envelope], primary: Envelope, merged: Provenance
) -> tuple[ProvenanceSummary, ProvenanceDetail]:
    from pydantic import MISSING

    from changeproof.domain.evidence_documents import (
        ProvenanceDetail,
        ProvenanceSummary,
        present,
    )

    returned = primary.extra.return_value
    summary = ProvenanceSummary(
        envelope=merged.envelope,
        statement_type=merged.statement_type,
        predicate_type=merged.predicate_type,
        predicate_types=tuple(
            dict.fromkeys(f.provenance.predicate_type for f in found if f.provenance.predicate_type)
        ),
        statements=len(found),
        subjects=merged.subjects,
        builder=merged.builder,
        build_type=merged.build_type,
        source_repository=merged.source_repository,
        source_uri=primary.source_uri,
        source_ref=primary.source_ref,
        source_commit=merged.source_commit,
        materials=len(merged.materials),
        signatures=merged.signatures,
        signature_verified=merged.signature_verified,
        key_ids=merged.key_ids,
        verified_key_ids=tuple(dict.fromkeys(k for f in found for k in f.verified_by)),
        link_name=present(merged.link_name),
        return_value=MISSING
        if merged.link_name is None
        else (None if returned is MISSING else returned),
    )
    detail = ProvenanceDetail(
        materials=merged.materials, envelopes=tuple(_envelope(f) for f in found)
    )
    return summary, detail


def _notes(
    found: Sequence[Envelope], keys: Sequence[VerifyingKey], merged: Provenance
) -> tuple[str, ...]:
    """What a person should know about the signatures and builders."""
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
    builders = list(dict.fromkeys(f.provenance.builder for f in found if f.provenance.builder))
    if len(builders) > 1:
        notes.append(f"the statements name different builders: {', '.join(builders)}")
    return tuple(notes)


def _envelope(found: Envelope) -> ProvenanceEnvelope:
    from changeproof.domain.evidence_documents import ProvenanceEnvelope, present

    p, fields = found.provenance, found.extra
    return ProvenanceEnvelope(
        where=found.label or None,
        container=found.container,
        payload_type=found.payload_type,
        statement_type=p.statement_type,
        predicate_type=p.predicate_type,
        subjects=p.subjects,
        builder=p.builder,
        build_type=p.build_type,
        source_repository=p.source_repository,
        source_uri=found.source_uri,
        source_ref=found.source_ref,
        source_commit=p.source_commit,
        materials=len(p.materials),
        signatures=p.signatures,
        key_ids=p.key_ids,
        signature_verified=p.signature_verified,
        verified_key_ids=found.verified_by,
        link_name=present(p.link_name),
        entry_point=fields.entry_point,
        invocation_id=fields.invocation_id,
        return_value=fields.return_value,
        command=fields.command,
        stdout_last_line=fields.stdout_last_line,
    )
