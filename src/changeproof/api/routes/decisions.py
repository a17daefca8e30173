"""/decisions: recorded gate decisions, and their replay."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from changeproof.api.documents import Document, document
from changeproof.api.pagination import Page, PageSize, PageToken, page
from changeproof.api.params import EntrySeq
from changeproof.api.routing import Reader, Services
from changeproof.domain.releases import ReleaseRef
from changeproof.services.decisions import decision_document

__all__ = ["router"]

router = APIRouter(prefix="/decisions", tags=["decisions"])


@router.get("", summary="Recorded gate decisions, oldest first")
def list_(
    services: Services,
    _: Reader,
    release: Annotated[str | None, Query(max_length=201, description="SERVICE/NAME")] = None,
    environment: Annotated[str | None, Query(max_length=100)] = None,
    allowed: bool | None = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Page:
    ref = None if release is None else ReleaseRef.parse(release)
    rows = services.decisions.list(release=ref, environment=environment, allowed=allowed)
    return page(rows, lambda d: d.seq, decision_document, page_size, page_token)


@router.get("/{seq}/replay", summary="Re-evaluate a decision; `same` says whether it holds")
def replay(services: Services, _: Reader, seq: EntrySeq) -> Document:
    result = services.gate.replay(seq)
    return document(
        {
            "seq": seq,
            "same": result.same,
            "recorded": result.recorded.verdict(),
            "replayed": result.again().verdict(),
        }
    )
