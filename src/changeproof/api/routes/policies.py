"""/policies: the instance's active policy, its history, proposing one, a second person
approving it, and what a policy would have decided differently.

A policy arrives as its text (YAML, or JSON), never as a path on the server. A malformed
one is `invalid-input` (422) with one error per problem the loader found: the pointer is
the problem's key in the policy (`/policy/environments/prod/controls/1`), the detail the
words the CLI prints (`changeproof.yaml:12: environments.prod.controls[1]: …`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Final

import yaml
from fastapi import APIRouter, Path, status
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from changeproof.api.documents import Document, document
from changeproof.api.pagination import Page, PageSize, PageToken, page
from changeproof.api.problems import ProblemError, pointer
from changeproof.api.routing import Governor, Reader, Services
from changeproof.domain.errors import PLAIN, render
from changeproof.policy.errors import PolicyError
from changeproof.policy.loader import MAX_POLICY_BYTES
from changeproof.services.policies import parse_since
from changeproof.services.policy_documents import (
    activated_document,
    active_document,
    approved_document,
    governance_document,
    history_document,
    proposal_document,
    simulation_document,
    status_document,
)

__all__ = ["router"]

router = APIRouter(prefix="/policies", tags=["policies"])

PROPOSAL = Annotated[str, Path(max_length=32, description="POL-<n> or its entry number")]

_POLICY = Field(
    max_length=MAX_POLICY_BYTES,
    description="The policy itself: a policy file's text, YAML or JSON (at most 1 MiB).",
)
_SOURCE = Field(
    min_length=1,
    max_length=200,
    pattern=r"^[^\x00-\x1f\x7f]+$",  # shown in errors and recorded: no control character
    description="The policy file's name (changeproof.yaml): its errors and its ledger entry "
    "name it so.",
)
_SINCE = Field(
    default=None, max_length=64, description="2026-11-01, or an ISO 8601 time (UTC unless zoned)"
)


class PolicyProposal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: str = _POLICY
    source: str = _SOURCE
    simulate: bool = Field(
        default=False,
        description="Attach the recorded decisions this policy would change, for the approver.",
    )
    since: str | None = _SINCE


class PolicyApproval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    digest: str | None = Field(
        default=None,
        max_length=71,
        description="The policy digest the approver read; refused when the proposal holds another.",
    )


class PolicyRejection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=2000)


class GovernanceSetting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    one_person: bool | None = Field(
        default=None,
        description="Whether the single admin of an instance may activate a policy alone "
        "(never once it has two admins); unchanged when left out.",
    )
    approver_role: str | None = Field(
        default=None, max_length=32, description="The role the second person must hold."
    )


class PolicySimulation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: str = _POLICY
    source: str = _SOURCE
    since: str | None = _SINCE
    environment: str | None = Field(default=None, max_length=100)


@router.get("", summary="Every activation and proposal of a policy, oldest first")
def history(
    services: Services, _: Reader, page_size: PageSize = 100, page_token: PageToken = None
) -> Page:
    items = services.policies.history()
    return page(items, lambda item: item.seq, history_document, page_size, page_token)


class PolicyFormat(StrEnum):
    json = "json"
    yaml = "yaml"


@router.get(
    "/active",
    summary="The active policy: its activation and the policy as recorded (yaml: the policy "
    "alone, as a policy file)",
    response_model=Document,
    responses={200: {"content": {"application/yaml": {}}}},
)
def active(services: Services, _: Reader, format: PolicyFormat = PolicyFormat.json) -> Response:
    shown = active_document(services.policies.active())
    if format is PolicyFormat.yaml:
        # The recorded policy written out as a file: given back, it has the same digest.
        text = yaml.safe_dump(shown["policy"], sort_keys=False, allow_unicode=True)
        return PlainTextResponse(text, media_type="application/yaml")
    return JSONResponse(shown)


@router.get(
    "/status",
    summary="The active policy, how a policy becomes active, and the pending proposals",
)
def status_(services: Services, _: Reader) -> Document:
    return document(status_document(services.policies.status()))


@router.post("/governance", summary="Set who may make a policy active (an admin only)")
def governance(services: Services, principal: Governor, body: GovernanceSetting) -> Document:
    rules = services.policies.set_governance(
        one_person=body.one_person,
        approver_role=body.approver_role,
        by=principal.actor,
    )
    return document(governance_document(rules))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Propose a policy; `active` says whether it is active or awaits a second person",
)
def propose(services: Services, principal: Governor, body: PolicyProposal) -> Document:
    since = None if body.since is None else parse_since(body.since)
    with _policy_input():
        done = services.policies.activate_text(
            body.policy,
            source=body.source,
            actor=principal.actor,
            simulate=body.simulate,
            since=since,
        )
    return document(activated_document(done))


@router.get("/proposals/{proposal}", summary="A proposal and what became of it")
def proposal(services: Services, _: Reader, proposal: PROPOSAL) -> Document:
    return document(proposal_document(services.policies.proposal(proposal)))


@router.post(
    "/proposals/{proposal}/approve",
    summary="Approve a proposal as the second person: it becomes the active policy",
)
def approve(
    services: Services,
    principal: Governor,
    proposal: PROPOSAL,
    body: PolicyApproval | None = None,
) -> Document:
    digest = None if body is None else body.digest
    done = services.policies.approve(proposal, by=principal.actor, digest=digest)
    return document(approved_document(done))


@router.post(
    "/proposals/{proposal}/reject",
    summary="Turn a proposal down (an approver) or withdraw it (its proposer)",
)
def reject(
    services: Services, principal: Governor, proposal: PROPOSAL, body: PolicyRejection
) -> Document:
    row = services.policies.reject(proposal, by=principal.actor, reason=body.reason)
    return document(proposal_document(row))


@router.post(
    "/simulate",
    summary="The recorded gate decisions a policy would have decided differently",
)
def simulate(services: Services, _: Reader, body: PolicySimulation) -> Document:
    since = None if body.since is None else parse_since(body.since)
    with _policy_input():
        result = services.policies.simulate_text(
            body.policy, source=body.source, since=since, environment=body.environment
        )
    return document(simulation_document(result))


# `environments.prod.controls[1]`: a key, or an index in brackets.
_KEY_PART: Final = re.compile(r"\[(\d+)\]|([^.\[]+)")


def _policy_pointer(key: str | None) -> str:
    """The JSON pointer of a problem's key inside the policy given as /policy."""
    if key is None:
        return "/policy"
    parts = [index or name for index, name in _KEY_PART.findall(key)]
    return "/policy" + "".join(pointer(part) for part in parts)


@contextmanager
def _policy_input() -> Iterator[None]:
    """A malformed policy as `invalid-input`, each problem with its pointer and line."""
    try:
        yield
    except PolicyError as e:
        raise ProblemError(
            "invalid-input",
            f"the policy is not valid: {len(e.problems)} "
            f"problem{'' if len(e.problems) == 1 else 's'}",
            hint=e.hint(),
            errors=tuple((_policy_pointer(p.key), render(str(p), PLAIN)) for p in e.problems),
        ) from e
