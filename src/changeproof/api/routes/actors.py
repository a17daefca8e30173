"""/actors: the directory of people and pipeline identities, their aliases and roles."""

from __future__ import annotations

from fastapi import APIRouter

from changeproof.api.pagination import Page, PageSize, PageToken, page
from changeproof.api.routing import Reader, Services
from changeproof.services.actors import actor_document

__all__ = ["router"]

router = APIRouter(prefix="/actors", tags=["actors"])


@router.get("", summary="Every actor with its aliases, roles and groups")
def list_(
    services: Services, _: Reader, page_size: PageSize = 100, page_token: PageToken = None
) -> Page:
    records = sorted(services.actors.list(), key=lambda r: r.seq)
    return page(records, lambda r: r.seq, actor_document, page_size, page_token)
