"""/tokens: create, list, revoke. A token's text is in the create response only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from changeproof.api.documents import Document, document
from changeproof.api.pagination import Page, PageSize, PageToken, page
from changeproof.api.routing import Administrator, Reader, Services
from changeproof.domain.canonical import JsonValue
from changeproof.domain.tokens import Principal, Scope
from changeproof.services.tokens import TokenState, TokenView, token_document

__all__ = ["router"]

router = APIRouter(prefix="/tokens", tags=["tokens"])


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor: str = Field(max_length=200, description="The actor the token is for, by name.")
    expires: str | None = Field(default=None, max_length=64, description="90d, 2027-01-31 …")
    label: str | None = Field(default=None, max_length=200)
    scopes: list[Scope] | None = Field(default=None, max_length=len(Scope))


def _rendered(view: TokenView) -> Mapping[str, JsonValue]:
    return token_document(view.record, view.state, view.scopes)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a token (shown once)")
def create(
    services: Services, principal: Administrator, request: TokenRequest, response: Response
) -> Document:
    """A person creates their own tokens and an admin a pipeline identity's (the service's
    rule); either way this needs the admin scope, so a pipeline token cannot mint more."""
    # The secret is shown once: no cache keeps it, nor the idempotency keys (a retry is
    # told which entry created the token, never the secret again).
    response.headers["Cache-Control"] = "no-store"
    created = services.tokens.create(
        request.actor,
        expires=request.expires,
        label=request.label,
        scopes=None if request.scopes is None else [s.value for s in request.scopes],
        by=principal.actor,
    )
    return document({**token_document(created.record, TokenState.ACTIVE), "token": created.text})


@router.get("", summary="Every token (or one actor's), never a secret")
def list_(
    services: Services,
    _: Reader,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    page_size: PageSize = 100,
    page_token: PageToken = None,
) -> Page:
    views = services.tokens.list(actor)
    return page(views, lambda v: v.record.seq, _rendered, page_size, page_token)


@router.get("/me", summary="The token this request presents: its actor and scopes")
def me(principal: Reader) -> Document:
    return _principal(principal)


@router.delete("/{token_id}", summary="Revoke a token")
def revoke(
    services: Services,
    principal: Administrator,
    token_id: Annotated[str, Path(max_length=16)],
) -> Document:
    record = services.tokens.revoke(token_id, by=principal.actor)
    return document(token_document(record, TokenState.REVOKED))


def _principal(principal: Principal) -> Document:
    return document(
        {
            "actor": principal.actor,
            "token": principal.token,
            "scopes": sorted(s.value for s in principal.scopes),
        }
    )
