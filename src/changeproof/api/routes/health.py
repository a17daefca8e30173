"""Probes for a process manager and a load balancer; no token needed, nothing revealed."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from changeproof.api.routing import Services

__all__ = ["router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", summary="The database answers and its schema is current")
def readyz(services: Services) -> Health:
    services.ready()  # UnavailableError → 503, an old schema → 409 not-configured
    return Health(status="ready")
