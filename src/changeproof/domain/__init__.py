"""Domain values, events and their canonical encoding. Pure: no I/O, no clock."""

from changeproof.domain.canonical import JsonValue, canonical_json
from changeproof.domain.errors import (
    ChangeproofError,
    ConfigError,
    ConflictError,
    InputError,
    IntegrityError,
    NotFoundError,
    UnavailableError,
    UsageError,
)
from changeproof.domain.events import (
    ActorId,
    EncodedEvent,
    Event,
    RecordedEvent,
    Seq,
    decode_body,
    format_time,
    parse_time,
)

__all__ = [
    "ActorId",
    "ChangeproofError",
    "ConfigError",
    "ConflictError",
    "EncodedEvent",
    "Event",
    "InputError",
    "IntegrityError",
    "JsonValue",
    "NotFoundError",
    "RecordedEvent",
    "Seq",
    "UnavailableError",
    "UsageError",
    "canonical_json",
    "decode_body",
    "format_time",
    "parse_time",
]
