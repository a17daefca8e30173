"""/releases: a service's commit range with its tickets, evidence and artifacts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from changeproof.api.documents import Document, document
from changeproof.api.pagination import Page, PageSize, PageToken, page
from changeproof.api.routing import Reader, Recorder, Services
from changeproof.domain.releases import ReleaseRef
from changeproof.services.release_documents import release_document, release_summary

__all__ = ["NAME", "SERVICE", "router"]

router = APIRouter(prefix="/releases", tags=["releases"])

SERVICE = Annotated[str, Path(max_length=100, description="The service.")]
NAME = Annotated[str, Path(max_length=100, description="The release's name, e.g. a version.")]


class CreateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str = Field(max_length=100)
    name: str = Field(max_length=100, description="The release's name, e.g. a version.")
    repository: str = Field(
        max_length=100, description="One of the instance's [repositories], by name."
    )
    to: str = Field(max_length=256, description="The candidate: a ref or SHA.")
    # `from` is a keyword in Python, not in the body.
    from_: str | None = Field(default=None, max_length=256, alias="from")
    from_root: bool = False
    tickets: str | None = Field(default=None, max_length=1000)


@router.post(
    "",
    status_code=201,
    summary="Record a release from one of the instance's repositories",
    description="Every commit of FROM..TO with its authors, tickets and changed paths, read "
    "by the server from its own clone (config.toml `[repositories]`). Asking again for the "
    "same range answers the recorded release (201 too, `created` false).",
)
def create(services: Services, principal: Recorder, body: CreateBody) -> Document:
    view = services.releases.create_in(
        ReleaseRef.of(body.service, body.name),
        repository=body.repository,
        to_ref=body.to,
        from_ref=body.from_,
        actor=principal.actor,
        tickets=body.tickets,
        from_root=body.from_root,
    )
    return document(release_document(view))


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
