"""The event that opens every ledger: which log this is and which key signs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final

from changeproof.domain.payloads import EventPayload

__all__ = ["INSTANCE_INITIALIZED", "InstanceInitialized"]

INSTANCE_INITIALIZED: Final = "instance.initialized"


@dataclass(frozen=True, slots=True)
class InstanceInitialized(EventPayload):
    """The ledger's first entry: the log's origin and the key its checkpoints are signed with."""

    TYPE: ClassVar[str] = INSTANCE_INITIALIZED

    origin: str  # the log's name in its checkpoints
    verifier_key: str  # the signed-note verifier key of the instance's signing key
