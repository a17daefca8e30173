"""/releases: a service's commit range with its tickets, evidence and artifacts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from changeproof.api.documents import Document, document
from changeproof.api.pagination import Page, PageSize, PageToken, page
from changeproof.api.routing import Reader, Services
from changeproof.domain.releases import ReleaseRef
from changeproof.services.release_documents import release_document, release_summary

__all__ = ["NAME", "SERVICE", "router"]

router = APIRouter(prefix="/releases", tags=["releases"])

SERVICE = Annotated[str, Path(max_length=100, description="The service.")]
NAME = Annotated[str, Path(max_length=100, description="The release's name, e.g. a version.")]


@router.get("", summary="Every release, oldest first")
def list_(
    services: Services,
    _: Reader,
    service: Annotated[str | None, Query(max_length=100)] = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Page:
    rows = services.releases.list(service=service)
    return page(rows, lambda r: r.seq, release_summary, page_size, page_token)


@router.get("/{service}/{name}", summary="A release: commits, tickets, evidence, artifacts")
def show(services: Services, _: Reader, service: SERVICE, name: NAME) -> Document:
    return document(release_document(services.releases.show(ReleaseRef.of(service, name))))
