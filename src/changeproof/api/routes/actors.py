"""/actors: the directory of people and pipeline identities, their aliases and roles.

Who adds, grants or revokes is always the authenticated caller; the service holds the
rules (only an admin changes roles once there is one, nobody grants themselves anything,
an admin always remains).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field

from changeproof.api.documents import Document, document
from changeproof.api.pagination import Page, PageSize, PageToken, page
from changeproof.api.routing import Administrator, Reader, Services
from changeproof.services.actors import ROLES, actor_document, report_document

__all__ = ["router"]

router = APIRouter(prefix="/actors", tags=["actors"])

NAME = Annotated[str, Path(max_length=200, description="The actor's name")]
Email = Annotated[str, Field(max_length=320)]
_LOGIN = Field(default=None, max_length=100)
_GROUP = Field(default=None, max_length=100, description="A group name, e.g. dba.")


class ActorAddition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200)
    emails: list[Email] = Field(
        default_factory=list, max_length=50, description="Email addresses git knows them by."
    )
    github: str | None = Field(default=None, max_length=100, description="Their GitHub login.")
    gitlab: str | None = Field(default=None, max_length=100, description="Their GitLab login.")
    roles: list[Annotated[str, Field(max_length=32)]] = Field(
        default_factory=list, max_length=len(ROLES), description=f"Of: {', '.join(ROLES)}."
    )
    groups: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=100
    )
    pipeline: bool = Field(default=False, description="A pipeline identity, not a person.")


class AliasAddition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    emails: list[Email] = Field(
        default_factory=list, max_length=50, description="Email addresses git knows them by."
    )
    github: str | None = _LOGIN
    gitlab: str | None = _LOGIN


class GrantRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str | None = Field(default=None, max_length=32, description=f"Of: {', '.join(ROLES)}.")
    group: str | None = _GROUP


@router.get("", summary="Every actor with its aliases, roles and groups")
def list_(
    services: Services, _: Reader, page_size: PageSize = 100, page_token: PageToken = None
) -> Page:
    records = sorted(services.actors.list(), key=lambda r: r.seq)
    return page(records, lambda r: r.seq, actor_document, page_size, page_token)


@router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Add an actor with its aliases and grants"
)
def add(services: Services, principal: Administrator, body: ActorAddition) -> Document:
    report = services.actors.add(
        body.name,
        emails=body.emails,
        github=body.github,
        gitlab=body.gitlab,
        roles=body.roles,
        groups=body.groups,
        pipeline=body.pipeline,
        by=principal.actor,
    )
    return document(report_document(report))


@router.get("/{name}", summary="One actor with its aliases, roles, groups and grants")
def show(services: Services, _: Reader, name: NAME) -> Document:
    return document(actor_document(services.actors.show(name)))


@router.post(
    "/{name}/aliases",
    status_code=status.HTTP_201_CREATED,
    summary="Record more emails or logins of an actor (never removes one)",
)
def add_aliases(
    services: Services, principal: Administrator, name: NAME, body: AliasAddition
) -> Document:
    report = services.actors.add_aliases(
        name, emails=body.emails, github=body.github, gitlab=body.gitlab, by=principal.actor
    )
    return document(report_document(report))


@router.post(
    "/{name}/grants",
    status_code=status.HTTP_201_CREATED,
    summary="Grant an actor one role or one group (never to yourself)",
)
def grant(services: Services, principal: Administrator, name: NAME, body: GrantRequest) -> Document:
    report = services.actors.grant(name, role=body.role, group=body.group, by=principal.actor)
    return document(report_document(report))


@router.delete("/{name}/grants/{kind}/{value}", summary="Revoke one role or one group")
def revoke(
    services: Services,
    principal: Administrator,
    name: NAME,
    kind: Literal["role", "group"],
    value: Annotated[str, Path(max_length=100)],
) -> Document:
    role, group = (value, None) if kind == "role" else (None, value)
    report = services.actors.revoke(name, role=role, group=group, by=principal.actor)
    return document(report_document(report))
