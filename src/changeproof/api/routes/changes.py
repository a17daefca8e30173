"""/changes: change requests (RFCs), their approvals, rejections and urgent reviews."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from changeproof.api.documents import Document, document
from changeproof.api.pagination import Page, PageSize, PageToken, page
from changeproof.api.routing import Approver, Reader, Recorder, Services
from changeproof.domain.canonical import JsonValue
from changeproof.domain.releases import ReleaseRef
from changeproof.reports.rfc import html_document, markdown
from changeproof.services.change_documents import PlanTexts
from changeproof.services.changes import ChangeView, OpenRequest

__all__ = ["router"]

router = APIRouter(prefix="/changes", tags=["changes"])

CHANGE = Annotated[str, Path(max_length=32, description="CHG-<n> or its entry number")]
_TEXT = 100_000


class Format(StrEnum):
    json = "json"
    md = "md"
    html = "html"


class OpenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    release: str = Field(max_length=201, description="SERVICE/NAME")
    environment: str = Field(max_length=100)
    plan: str | None = Field(default=None, max_length=_TEXT)
    rollback: str | None = Field(default=None, max_length=_TEXT)
    dry_run_output: str | None = Field(default=None, max_length=_TEXT)
    window_start: str | None = Field(default=None, max_length=64)
    window_end: str | None = Field(default=None, max_length=64)
    urgent: bool = False
    reason: str | None = Field(default=None, max_length=2000)


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digest: str = Field(
        max_length=64,
        description="The RFC digest the approver read: a changed RFC is not approved.",
    )
    comment: str | None = Field(default=None, max_length=2000)


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=2000)


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(max_length=32)
    notes: str = Field(max_length=_TEXT)


def _document(view: ChangeView) -> Mapping[str, JsonValue]:
    return view.document()


@router.post("", status_code=201, summary="Open a change for a release and environment")
def open_(services: Services, principal: Recorder, body: OpenBody) -> Document:
    texts = PlanTexts(
        plan=body.plan,
        rollback=body.rollback,
        dry_run_output=body.dry_run_output,
        window_start=body.window_start,
        window_end=body.window_end,
    )
    request = OpenRequest(
        ReleaseRef.parse(body.release), body.environment, texts, body.urgent, body.reason
    )
    return document(services.changes.open(request, by=principal.actor).document())


@router.get("", summary="Changes, oldest first")
def list_(
    services: Services,
    _: Reader,
    environment: Annotated[str | None, Query(max_length=100)] = None,
    overdue: bool = False,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Page:
    views = services.changes.list(environment=environment, overdue=overdue)
    return page(views, lambda v: v.row.seq, _document, page_size, page_token)


@router.get(
    "/{change}",
    summary="The change's RFC with its approvals: JSON (the published schema), md or html",
    responses={200: {"content": {"text/markdown": {}, "text/html": {}}}},
)
def show(services: Services, _: Reader, change: CHANGE, format: Format = Format.json) -> Response:
    rfc = services.changes.show(change).rfc_document()
    if format is Format.md:
        return PlainTextResponse(markdown(rfc) + "\n", media_type="text/markdown")
    if format is Format.html:
        return HTMLResponse(html_document(rfc) + "\n")
    return JSONResponse(rfc.to_data())


@router.post("/{change}/refresh", summary="Rebuild the RFC from what is recorded now")
def refresh(services: Services, principal: Recorder, change: CHANGE) -> Document:
    return document(services.changes.refresh(change, by=principal.actor).document())


@router.post("/{change}/approve", summary="Approve the RFC whose digest the approver read")
def approve(services: Services, principal: Approver, change: CHANGE, body: ApproveBody) -> Document:
    view = services.changes.approve(
        change, by=principal.actor, comment=body.comment, digest=body.digest
    )
    return document(view.document())


@router.post("/{change}/reject", summary="Reject the change for good")
def reject(services: Services, principal: Approver, change: CHANGE, body: RejectBody) -> Document:
    return document(
        services.changes.reject(change, by=principal.actor, reason=body.reason).document()
    )


@router.post("/{change}/review", summary="Close an urgent change's after-the-fact review")
def review(services: Services, principal: Approver, change: CHANGE, body: ReviewBody) -> Document:
    view = services.changes.review(
        change, by=principal.actor, outcome=body.outcome, notes=body.notes
    )
    return document(view.document())
