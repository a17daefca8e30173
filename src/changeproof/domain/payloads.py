"""Typed payloads: one frozen dataclass per event type and per recorded document, one codec.

An entry's `data` is the canonical JSON of a payload. Services build payloads, never dicts;
projectors, controls, reports and replay decode them (`from_data`) and read attributes,
never `.get("…")` on raw data.

Why frozen dataclasses with a pydantic codec, rather than pydantic models: domain values are
plain frozen dataclasses everywhere else in the house (hashable, slotted, no validation cost
when a service builds one from values it already checked), while decoding an entry body is a
boundary where the shape must be checked and unknown keys refused. A `pydantic.TypeAdapter`
per type gives exactly that boundary from the dataclass itself: validation in pydantic-core,
the JSON Schema published in docs/schemas/events, and one `dump` that turns enums and tuples
into JSON, with no second description of the shape to keep in step. Adapters are built on
first use, so a process that never decodes a payload never pays for building them.

Integers and booleans are `StrictInt`/`StrictBool`: the ledger wrote them as JSON numbers and
booleans, and a body that says `"3"` is not one we wrote. Lists decode into tuples.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Self, TypeAlias, TypeVar

from pydantic import (
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from changeproof.domain.canonical import JsonValue
from changeproof.domain.errors import InputError
from changeproof.domain.events import format_time, parse_time

__all__ = [
    "Document",
    "EventPayload",
    "JsonObject",
    "Timestamp",
    "decode_payload",
    "event_schema",
    "event_types",
    "json_schema",
    "payload_type",
]

T = TypeVar("T", bound="Document")


class Document:
    """A frozen dataclass with one codec to and from canonical-JSON data.

    Subclasses are `@dataclass(frozen=True, slots=True)`; nested values may be other
    documents, tuples, mappings, StrEnums, str, StrictInt, StrictBool and None.
    """

    __slots__ = ()
    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")
    # Keys left out of the data when their value is None: bodies written before the type
    # existed omitted them, and a new body must read the same as an old one.
    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset()

    def to_data(self) -> dict[str, JsonValue]:
        data: dict[str, JsonValue] = _adapter(type(self)).dump_python(self, mode="json")
        for key in self.OMIT_WHEN_NONE:
            if data.get(key, 0) is None:
                del data[key]
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, JsonValue], *, where: str = "") -> Self:
        """Decode; InputError naming `where` and the offending field when the shape is wrong."""
        try:
            value: Self = _adapter(cls).validate_python(data)
        except ValidationError as e:
            raise InputError(_explain(cls, e, where)) from e
        return value


class EventPayload(Document):
    """The data of one event type; `TYPE` is the dotted event type it is recorded under."""

    __slots__ = ()
    TYPE: ClassVar[str]
    _registry: ClassVar[dict[str, type[EventPayload]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("TYPE")
        if kind is None:
            return  # an abstract family base
        known = EventPayload._registry.get(kind)
        # slots=True makes dataclass build a second class; it replaces the first.
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"event type {kind} has two payload types")
        EventPayload._registry[kind] = cls


def payload_type(event_type: str) -> type[EventPayload]:
    """The payload type of an event type; InputError for a type no code records."""
    _load_all()
    try:
        return EventPayload._registry[event_type]
    except KeyError:
        raise InputError(f"no payload type for event type {event_type!r}") from None


def decode_payload(event_type: str, data: Mapping[str, JsonValue], *, where: str = "") -> Any:
    """The typed payload of an entry's data, whatever its type (callers narrow with isinstance)."""
    return payload_type(event_type).from_data(data, where=where)


def event_types() -> dict[str, type[EventPayload]]:
    """Every event type and its payload type, sorted by event type."""
    _load_all()
    return dict(sorted(EventPayload._registry.items()))


def json_schema(kind: type[Document]) -> dict[str, JsonValue]:
    schema: dict[str, JsonValue] = _adapter(kind).json_schema(mode="validation")
    return schema


SCHEMA_BASE = "https://changeproof.dev/schemas/events/"


def event_schema(event_type: str) -> dict[str, JsonValue]:
    """The published JSON Schema (2020-12) of an event type's `data`, as docs/schemas/events
    holds it: generated from the payload type, so the two cannot drift apart."""
    kind = payload_type(event_type)
    described = json_schema(kind)
    # A dataclass without a docstring gets its signature as one: no description for people.
    written = kind.__doc__ if kind.__doc__ and not kind.__doc__.startswith(kind.__name__) else None
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}{event_type}.schema.json",
        "title": event_type,
        "description": " ".join((written or f"The data of a {event_type} entry.").split()),
        **{key: value for key, value in described.items() if key not in ("title", "description")},
    }


_ADAPTERS: dict[type[Document], TypeAdapter[Any]] = {}


def _adapter(kind: type[Document]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter


def _load_all() -> None:
    # The payload types live beside their domain words; importing them fills the registry.
    from changeproof.domain import event_payloads  # noqa: F401


def _explain(kind: type[Document], error: ValidationError, where: str) -> str:
    first = error.errors()[0]
    field = "/".join(str(part) for part in first["loc"]) or "(top level)"
    prefix = f"{where}: " if where else ""
    return f"{prefix}{kind.__name__} field {field!r}: {first['msg']}" + (
        f" ({error.error_count() - 1} more)" if error.error_count() > 1 else ""
    )


def _timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("a timestamp is a string")
    try:
        return parse_time(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a changeproof timestamp") from None


# A moment as the ledger writes one (`format_time`: UTC, microseconds, `Z`), and nothing else.
Timestamp: TypeAlias = Annotated[
    datetime,
    PlainValidator(_timestamp),
    PlainSerializer(format_time, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$",
        }
    ),
]


def _json_object(value: object) -> object:
    if not isinstance(value, dict):
        raise ValueError("a JSON object is expected")
    _check_json(value)
    return value


def _check_json(value: object) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"object key {key!r} is not a string")
            _check_json(item)
    elif isinstance(value, list):
        for item in value:
            _check_json(item)
    elif not (value is None or isinstance(value, str | int)):  # bool is an int
        raise ValueError(f"{type(value).__name__} is not a JSON value the ledger writes")


if TYPE_CHECKING:
    JsonObject: TypeAlias = Mapping[str, JsonValue]
else:
    # A document another model owns (a policy, as its own schema describes it), carried
    # as the very JSON object it is, so its bytes and digest never move.
    JsonObject = Annotated[
        dict[str, Any],
        PlainValidator(_json_object),
        PlainSerializer(lambda value: value),
        WithJsonSchema({"type": "object"}),
    ]
