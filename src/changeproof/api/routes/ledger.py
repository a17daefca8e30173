"""/ledger: status, the newest checkpoint, inclusion and consistency proofs, entries."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from changeproof.api.params import EntrySeq, RangeEnd, RangeStart
from changeproof.api.routing import Reader, Services

__all__ = ["router"]

router = APIRouter(prefix="/ledger", tags=["ledger"])

_NDJSON = "application/x-ndjson"
_NOTE_LIMIT = 16 * 1024


class LedgerStatus(BaseModel):
    origin: str
    tree_size: int
    root_hash: str
    checkpoint_size: int | None
    checkpoints: int
    verifier_key: str


class InclusionProof(BaseModel):
    seq: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]
    body: str
    checkpoint: str


class ConsistencyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old: str = Field(max_length=_NOTE_LIMIT, description="An older checkpoint's text.")
    new: str | None = Field(
        default=None, max_length=_NOTE_LIMIT, description="A newer one (default: newest)."
    )


class ProveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checkpoint: str = Field(max_length=_NOTE_LIMIT, description="The checkpoint's text.")


class ConsistencyProof(BaseModel):
    consistent: bool
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    proof: list[str]
    checkpoint: str


@router.get("", summary="Size, root hash and newest checkpoint")
def status(services: Services, _: Reader) -> LedgerStatus:
    s = services.ledger.status()
    # The database URL is the server's business, never a client's.
    return LedgerStatus(
        origin=s.origin,
        tree_size=s.tree_size,
        root_hash=s.root_hash.hex(),
        checkpoint_size=s.checkpoint_size,
        checkpoints=s.checkpoints,
        verifier_key=s.verifier_key,
    )


@router.get(
    "/checkpoint",
    summary="The newest signed checkpoint (C2SP signed note)",
    response_class=PlainTextResponse,
)
def checkpoint(services: Services, _: Reader) -> PlainTextResponse:
    return PlainTextResponse(services.ledger.checkpoint())


def _inclusion(services: Services, seq: int, note: str | None) -> InclusionProof:
    p = services.ledger.prove(seq, note)
    return InclusionProof(
        seq=p.seq,
        tree_size=p.tree_size,
        leaf_hash=p.leaf_hash.hex(),
        root_hash=p.root_hash.hex(),
        proof=[h.hex() for h in p.proof],
        body=p.body.decode("utf-8"),
        checkpoint=p.checkpoint,
    )


@router.get("/entries/{seq}/proof", summary="Entry SEQ's inclusion proof (newest checkpoint)")
def prove(services: Services, _: Reader, seq: EntrySeq) -> InclusionProof:
    return _inclusion(services, seq, None)


@router.post(
    "/entries/{seq}/proof", summary="Entry SEQ's inclusion proof against a given checkpoint"
)
def prove_against(
    services: Services, _: Reader, seq: EntrySeq, request: ProveRequest
) -> InclusionProof:
    return _inclusion(services, seq, request.checkpoint)


@router.post("/consistency", summary="Proof the ledger only grew since an older checkpoint")
def consistency(services: Services, _: Reader, request: ConsistencyRequest) -> ConsistencyProof:
    p = services.ledger.consistency(request.old, request.new)
    return ConsistencyProof(
        consistent=True,
        old_size=p.old_size,
        new_size=p.new_size,
        old_root=p.old_root.hex(),
        new_root=p.new_root.hex(),
        proof=[h.hex() for h in p.proof],
        checkpoint=p.new_checkpoint,
    )


@router.get(
    "/entries",
    summary="Entries START..END-1 as JSON lines, streamed (the export's entry lines)",
    response_class=StreamingResponse,
    responses={200: {"content": {_NDJSON: {}}}},
)
def entries(
    services: Services,
    _: Reader,
    start: RangeStart = 0,
    end: RangeEnd = None,
) -> StreamingResponse:
    lines = services.ledger.entries(start, end)
    first = next(lines, None)  # a bad range is refused before the response starts

    def stream() -> Iterator[bytes]:
        if first is not None:
            yield first
            yield from lines

    return StreamingResponse(stream(), media_type=_NDJSON)
