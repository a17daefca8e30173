"""Evidence: files uploaded for a release (read, recorded and kept in the vault), and the
kept files downloaded by their digest."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from changeproof.api.problems import ProblemError, pointer
from changeproof.api.routes.releases import NAME, SERVICE
from changeproof.api.routing import Reader, Recorder, Services
from changeproof.api.uploads import FileField, ReceivedForm, receive_form
from changeproof.domain.releases import ReleaseRef
from changeproof.services.evidence import Attested, Upload

__all__ = ["router"]

router = APIRouter(tags=["evidence"])

KIND = Annotated[
    str, Path(max_length=40, description="The `attest` command: test-results, scan, sbom, …")
]
DIGEST = Annotated[str, Path(max_length=71, description="The file's SHA-256 (64 hex digits)")]
_TRUE: Final = frozenset({"true", "1", "on", "yes"})
_FALSE: Final = frozenset({"false", "0", "off", "no", ""})
_SAFE_NAME: Final = re.compile(r"[^A-Za-z0-9._-]")

_BINARIES: Final = {"type": "array", "items": {"type": "string", "format": "binary"}}
_UPLOAD_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {**_BINARIES, "description": "The evidence files (repeat)."},
                        "public_keys": {
                            **_BINARIES,
                            "description": "PEM public keys an envelope must be signed by.",
                        },
                        "format": {"type": "string", "maxLength": 100},
                        "require_signature": {"type": "boolean"},
                    },
                }
            }
        },
    }
}
_ATTESTED: Final[dict[int | str, dict[str, Any]]] = {
    201: {
        "description": "One document per record, as `attest KIND -o json` prints them",
        "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}},
    }
}


@router.post(
    "/releases/{service}/{name}/evidence/{kind}",
    status_code=201,
    summary="Upload evidence files, record what they say and keep them in the vault",
    description="multipart/form-data: `files` (repeated), `public_keys` (repeated), `format`, "
    "`require_signature`. A file over its kind's size limit is refused with 413 as soon as it "
    "passes it; a bad file records and keeps nothing.",
    openapi_extra=_UPLOAD_BODY,
    responses=_ATTESTED,
    response_class=JSONResponse,
)
async def upload(
    request: Request,
    services: Services,
    principal: Recorder,
    service: SERVICE,
    name: NAME,
    kind: KIND,
) -> JSONResponse:
    evidence = services.evidence
    limit = await run_in_threadpool(evidence.limit, kind)
    fields = {
        "files": FileField(limit, "evidence file", evidence.limit_setting(kind)),
        "public_keys": FileField(
            evidence.key_limit(), "public key file", evidence.key_limit_setting()
        ),
    }
    form = await receive_form(
        request, fields, frozenset({"format", "require_signature"}), evidence.staging
    )
    with form:
        results = await run_in_threadpool(
            _attest, services, form, service, name, kind, principal.actor
        )
    return JSONResponse([r.document() for r in results], status_code=201)


def _attest(
    services: Services, form: ReceivedForm, service: str, name: str, kind: str, actor: str
) -> list[Attested]:
    require = form.texts.get("require_signature", "false").strip().lower()
    if require not in _TRUE | _FALSE:
        detail = "require_signature must be true or false"
        raise ProblemError(
            "invalid-request", detail, errors=((pointer("require_signature"), detail),)
        )
    return services.evidence.attest_uploads(
        kind,
        [Upload(f.name, f.handle, "files") for f in form.of("files")],
        ReleaseRef.of(service, name),
        actor=actor,
        format=form.texts.get("format") or None,
        public_keys=[Upload(f.name, f.handle, "public_keys") for f in form.of("public_keys")],
        require_signature=require in _TRUE,
    )


@router.get(
    "/evidence/{digest}",
    summary="An evidence file the ledger cites, by its SHA-256",
    description="Streamed as application/octet-stream. Checked as it streams: when the vault's "
    "copy does not hash to the digest the connection is cut before the last chunk, so a "
    "complete download is always the cited file.",
    responses={200: {"content": {"application/octet-stream": {}}}},
    response_class=StreamingResponse,
)
def download(services: Services, principal: Reader, digest: DIGEST) -> StreamingResponse:
    found = services.evidence.download(digest, reader=principal.actor)
    filename = _SAFE_NAME.sub("_", found.names[0] if found.names else "")[:100].strip(".")
    return StreamingResponse(
        found.chunks(),
        media_type="application/octet-stream",
        headers={
            "Content-Length": str(found.size),
            "Content-Disposition": f'attachment; filename="{filename or found.digest}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
        background=BackgroundTask(found.close),
    )
