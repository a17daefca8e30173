"""/hooks: webhook deliveries from GitHub, GitLab and any Standard Webhooks sender.

Each route authenticates its delivery by signature (never by bearer token), records its
receipt before answering, and does the work it asks after the answer: 202 for a new
delivery, 200 with the first outcome for a redelivery (which records nothing).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from changeproof.api.hooks import signed
from changeproof.bootstrap import Instance
from changeproof.domain.hooks import HookSource
from changeproof.services.hooks import Delivery

__all__ = ["router"]

router = APIRouter(prefix="/hooks", tags=["hooks"])


class DeliveryReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    delivery: str
    event: str
    seq: int  # the hook.received entry
    payload_sha256: str
    duplicate: bool
    outcome: str  # received (still being processed), recorded, ignored or rejected
    reason: str | None
    recorded: list[int]


_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": DeliveryReceipt, "description": "A redelivery: its first outcome"},
    401: {"description": "The signature is missing or does not hold"},
    409: {"description": "The instance accepts no deliveries from this source"},
    413: {"description": "The delivery is over 25 MB"},
}


async def _receive(request: Request, delivery: Delivery) -> JSONResponse:
    instance: Instance = request.app.state.instance
    receipt = await run_in_threadpool(instance.hooks.receive, delivery)
    if receipt.duplicate:
        return JSONResponse(receipt.document(), status_code=200)
    # The sender has its answer before the work is done: GitHub gives a delivery 10 s.
    work = BackgroundTask(instance.hooks.process, receipt.record, delivery)
    return JSONResponse(receipt.document(), status_code=202, background=work)


@router.post(
    "/github",
    status_code=202,
    response_model=DeliveryReceipt,
    responses=_RESPONSES,
    summary="A GitHub webhook delivery (X-Hub-Signature-256)",
)
async def github(
    request: Request, delivery: Annotated[Delivery, Depends(signed(HookSource.GITHUB))]
) -> JSONResponse:
    return await _receive(request, delivery)


@router.post(
    "/gitlab",
    status_code=202,
    response_model=DeliveryReceipt,
    responses=_RESPONSES,
    summary="A GitLab webhook delivery (X-Gitlab-Token; Standard Webhooks signatures)",
)
async def gitlab(
    request: Request, delivery: Annotated[Delivery, Depends(signed(HookSource.GITLAB))]
) -> JSONResponse:
    return await _receive(request, delivery)


@router.post(
    "/standard",
    status_code=202,
    response_model=DeliveryReceipt,
    responses=_RESPONSES,
    summary="A Standard Webhooks delivery (webhook-id, webhook-timestamp, webhook-signature)",
)
async def standard(
    request: Request, delivery: Annotated[Delivery, Depends(signed(HookSource.STANDARD))]
) -> JSONResponse:
    return await _receive(request, delivery)
