"""/deployments: what was deployed where, by whom, its status updates and checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from changeproof.api.documents import Document, document
from changeproof.api.pagination import Page, PageSize, PageToken, page
from changeproof.api.routing import Reader, Recorder, Services
from changeproof.domain.canonical import JsonValue
from changeproof.domain.releases import ReleaseRef
from changeproof.services.deployments import DeploymentView, RecordRequest
from changeproof.services.policies import parse_since

__all__ = ["router"]

router = APIRouter(prefix="/deployments", tags=["deployments"])

DEPLOYMENT = Annotated[str, Path(max_length=32, description="DEP-<n> or its entry number")]
_MAX_DETAILS = 1024 * 1024
_MOMENT = "A date (2026-11-01, midnight UTC) or an ISO 8601 time (UTC when it names no zone)"


class DeploymentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    release: str = Field(max_length=201, description="SERVICE/NAME")
    environment: str = Field(max_length=100)
    artifact: str = Field(max_length=71, description="sha256 hex, optionally sha256:…")
    status: str = Field(max_length=32)
    pipeline_run: str | None = Field(default=None, max_length=2000)
    deployment: str | None = Field(
        default=None, max_length=32, description="A later status of this deployment (DEP-<n>)"
    )


class CheckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    status: str = Field(max_length=16, description="pass or fail")
    details: str | None = Field(default=None, max_length=_MAX_DETAILS)


def _document(view: DeploymentView) -> Mapping[str, JsonValue]:
    return view.document()


@router.post(
    "",
    status_code=201,
    summary="Record a deployment; `authorized` false when no allowing decision explains it",
)
def record(services: Services, principal: Recorder, body: DeploymentBody) -> Document:
    request = RecordRequest(
        ReleaseRef.parse(body.release),
        body.environment,
        body.artifact,
        body.status,
        body.pipeline_run,
        body.deployment,
    )
    return document(services.deployments.record(request, by=principal.actor).document())


@router.get("", summary="Deployments, oldest first")
def list_(
    services: Services,
    _: Reader,
    environment: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[str | None, Query(max_length=40, description=_MOMENT)] = None,
    until: Annotated[str | None, Query(max_length=40, description=_MOMENT)] = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Page:
    # The CLI's reading of a moment, so both take the same words and refuse the same ones.
    start = None if since is None else parse_since(since)
    end = None if until is None else parse_since(until, "until")
    views = services.deployments.list(environment=environment, since=start, until=end)
    return page(views, lambda v: v.row.seq, _document, page_size, page_token)


@router.get("/{deployment}", summary="One deployment with its history and checks")
def show(services: Services, _: Reader, deployment: DEPLOYMENT) -> Document:
    return document(services.deployments.show(deployment).document())


@router.post("/{deployment}/checks", status_code=201, summary="Record a post-deployment check")
def check(
    services: Services, principal: Recorder, deployment: DEPLOYMENT, body: CheckBody
) -> Document:
    details = None if body.details is None else body.details.encode("utf-8")
    view = services.deployments.check(
        deployment, name=body.name, status=body.status, details=details, by=principal.actor
    )
    return document(view.document())
