"""/gate: evaluate the active policy for a release and environment, and record it."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from changeproof.api.documents import Document, document
from changeproof.api.routing import Recorder, Services
from changeproof.domain.decisions import Classification
from changeproof.domain.releases import ReleaseRef
from changeproof.services.gate import GateRequest

__all__ = ["router"]

router = APIRouter(prefix="/gate", tags=["gate"])


class GateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    release: str = Field(max_length=201, description="SERVICE/NAME")
    environment: str = Field(max_length=100)
    deployer: str | None = Field(default=None, max_length=320)
    artifact: str | None = Field(default=None, max_length=71, description="sha256 hex")
    urgent: bool = False
    reason: str | None = Field(default=None, max_length=2000)
    declare: Classification | None = None


@router.post(
    "",
    summary="Decide under the active policy and record the decision",
    description="Always 200 with the decision: `allowed` false is a decision, not an error "
    "(the CLI's exit 1). A server has no policy file to dry-run: it decides under the "
    "instance's active policy only.",
)
def decide(services: Services, principal: Recorder, body: GateBody) -> Document:
    digest = None if body.artifact is None else body.artifact.removeprefix("sha256:").lower()
    request = GateRequest(
        release=ReleaseRef.parse(body.release),
        environment=body.environment,
        policy_file=None,
        deployer=body.deployer,
        artifact=digest,
        urgent=body.urgent,
        reason=body.reason,
        declared=body.declare,
    )
    result = services.gate.decide(request, actor=principal.actor)
    return document(result.document(request.deployer))
