"""Webhook deliveries: what a code host or another system told the server, and what came of it.

Every delivery whose signature holds is recorded twice over, in two entries:

hook.received   as soon as it is authenticated, before it is answered: which source
                (github, gitlab, standard), the delivery's id, its event name and the
                SHA-256 of its raw body. Its (source, delivery) is what a redelivery is
                recognised by.
hook.processed  once the server has done what the delivery asks: the outcome (`recorded`,
                `ignored`, `rejected`), the reason in plain words, and the entries it
                recorded (review evidence, a deployment's status).

A delivery whose signature does not hold is recorded nowhere: it is not a fact anyone
vouched for. Neither entry holds the payload or any secret; the payload's digest binds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Final

from pydantic import StrictInt

from changeproof.domain.payloads import EventPayload

__all__ = [
    "HOOK_EVENTS",
    "HOOK_PROCESSED",
    "HOOK_RECEIVED",
    "HookOutcome",
    "HookProcessed",
    "HookReceived",
    "HookSource",
]

HOOK_RECEIVED: Final = "hook.received"
HOOK_PROCESSED: Final = "hook.processed"
HOOK_EVENTS: Final = (HOOK_RECEIVED, HOOK_PROCESSED)


class HookSource(StrEnum):
    """Who sends the deliveries of one endpoint, and how they are signed."""

    GITHUB = "github"  # X-Hub-Signature-256
    GITLAB = "gitlab"  # X-Gitlab-Token, and Standard Webhooks signatures when present
    STANDARD = "standard"  # Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)


class HookOutcome(StrEnum):
    RECORDED = "recorded"  # it became evidence or a deployment's status
    IGNORED = "ignored"  # authentic, but about nothing this instance records (the reason says)
    REJECTED = "rejected"  # authentic, but its payload cannot be read (the reason says why)


@dataclass(frozen=True, slots=True)
class HookReceived(EventPayload):
    """An authenticated delivery, recorded before the server answers it."""

    TYPE: ClassVar[str] = HOOK_RECEIVED

    source: HookSource
    delivery: str  # the sender's id of the delivery (X-GitHub-Delivery, webhook-id, …)
    event: str  # X-GitHub-Event, X-Gitlab-Event, or the payload's `type`
    payload_sha256: str  # of the raw body, as signed


@dataclass(frozen=True, slots=True)
class HookProcessed(EventPayload):
    """What an authenticated delivery became."""

    TYPE: ClassVar[str] = HOOK_PROCESSED

    source: HookSource
    delivery: str
    received_seq: StrictInt  # its hook.received entry
    outcome: HookOutcome
    reason: str
    recorded: tuple[StrictInt, ...] = ()  # the entries it led to (evidence, a status)
