"""Events: the facts the ledger records, and their canonical encoding.

An entry's body is the RFC 8785 canonical JSON of
``{"actor", "data", "seq", "time", "type", "v"}``. The body carries its own position
(`seq`) so an entry read alone says where it belongs, and a swapped entry names itself.
Keys sort in that order, so everything but `seq` is encoded before the ledger's lock is
taken and the body is completed by splicing the decimal seq in (`EncodedEvent.body`).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, NewType, TypeVar

from changeproof.domain.canonical import JsonValue, canonical_json
from changeproof.domain.errors import InputError

if TYPE_CHECKING:  # payloads import pydantic; a process that only hashes bodies never needs it
    from changeproof.domain.payloads import EventPayload

P = TypeVar("P", bound="EventPayload")

__all__ = [
    "BODY_VERSION",
    "ActorId",
    "EncodedEvent",
    "Event",
    "RecordedEvent",
    "Seq",
    "decode_body",
    "format_time",
    "parse_time",
]

Seq = NewType("Seq", int)
ActorId = NewType("ActorId", str)

BODY_VERSION: Final = 1
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_time(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601 with microseconds, so text order is time order."""
    if moment.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    # isoformat is twice as fast as strftime and gives the same text for years 1000-9999.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def parse_time(text: str) -> datetime:
    """The inverse of `format_time`; ValueError for any other text."""
    # fromisoformat is some twenty times faster than strptime, and a gate reads the time of
    # every entry it holds its facts to; it also takes forms format_time never writes, so
    # those go to strptime, which refuses them.
    if (
        len(text) == 27
        and text[10] == "T"
        and text[19] == "."
        and text[26] == "Z"
        and text[20:26].isdigit()
    ):
        try:
            return datetime.fromisoformat(text[:26]).replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Event:
    """A fact about to be recorded: what happened, who did it, when (server clock)."""

    type: str
    actor: ActorId
    time: datetime
    data: Mapping[str, JsonValue]
    # The typed payload `data` was encoded from, when a service built it: the projections of
    # the same unit of work read it instead of decoding `data` again.
    payload: EventPayload | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, payload: EventPayload, actor: ActorId | str, time: datetime) -> Event:
        """The event recording `payload` under its type: the one way services build events."""
        return cls(payload.TYPE, ActorId(actor), time, payload.to_data(), payload)

    def encode(self) -> EncodedEvent:
        before = (
            b'{"actor":'
            + canonical_json(self.actor)
            + b',"data":'
            + canonical_json(self.data)
            + b',"seq":'
        )
        after = (
            b',"time":'
            + canonical_json(format_time(self.time))
            + b',"type":'
            + canonical_json(self.type)
            + b',"v":'
            + str(BODY_VERSION).encode()
            + b"}"
        )
        return EncodedEvent(event_type=self.type, before_seq=before, after_seq=after)


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """An event's canonical body, waiting only for the seq the ledger assigns."""

    event_type: str
    before_seq: bytes
    after_seq: bytes

    def body(self, seq: int) -> bytes:
        return self.before_seq + str(seq).encode() + self.after_seq


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as read back from a ledger entry."""

    seq: Seq
    type: str
    actor: ActorId
    time: datetime
    data: Mapping[str, JsonValue]
    # Set only for an entry this process just recorded from a typed payload (`Event.payload`);
    # an entry read back from the ledger is always decoded from its data.
    known: EventPayload | None = field(default=None, compare=False, repr=False)

    def payload(self) -> Any:
        """The typed payload of this entry's data (narrow it with isinstance or `as_`)."""
        if self.known is not None:
            return self.known
        from changeproof.domain.payloads import decode_payload

        return decode_payload(self.type, self.data, where=f"ledger entry {self.seq}")

    def as_(self, kind: builtins.type[P]) -> P:  # `type` here is the field
        """The data decoded as `kind`; InputError when the entry is of another type."""
        if self.type != kind.TYPE:
            raise InputError(f"ledger entry {self.seq} is {self.type}, not {kind.TYPE}")
        if isinstance(self.known, kind):
            return self.known
        return kind.from_data(self.data, where=f"ledger entry {self.seq}")


def decode_body(body: bytes, *, seq: int | None = None) -> RecordedEvent:
    """Parse an entry body; InputError naming the entry when it is not an event we wrote."""
    where = f"ledger entry {seq}" if seq is not None else "ledger entry"
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{where}: body is not JSON ({e})") from e
    if not isinstance(doc, dict):
        raise InputError(f"{where}: body is not a JSON object")
    expected = {"actor", "data", "seq", "time", "type", "v"}
    if set(doc) != expected:
        raise InputError(f"{where}: body has keys {sorted(doc)}, expected {sorted(expected)}")
    if doc["v"] != BODY_VERSION:
        raise InputError(f"{where}: body version {doc['v']!r} is not {BODY_VERSION}")
    actor, kind, when, data, body_seq = (
        doc["actor"],
        doc["type"],
        doc["time"],
        doc["data"],
        doc["seq"],
    )
    if not (isinstance(actor, str) and isinstance(kind, str) and isinstance(when, str)):
        raise InputError(f"{where}: actor, type and time must be strings")
    if not isinstance(data, dict):
        raise InputError(f"{where}: data must be an object")
    if not isinstance(body_seq, int) or isinstance(body_seq, bool):
        raise InputError(f"{where}: seq must be an integer")
    try:
        moment = parse_time(when)
    except ValueError as e:
        raise InputError(f"{where}: time {when!r} is not a changeproof timestamp") from e
    return RecordedEvent(seq=Seq(body_seq), type=kind, actor=ActorId(actor), time=moment, data=data)
