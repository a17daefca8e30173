"""The type of a JSON document a route returns, as pydantic (and so OpenAPI) reads it.

Services build their documents as `domain.canonical.JsonValue` mappings (read-only
`Mapping`/`Sequence`); pydantic describes JSON with its own `JsonValue`. They describe
the same values, so `document` only retypes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias, cast

from pydantic import JsonValue as Json

from changeproof.domain.canonical import JsonValue

__all__ = ["Document", "document"]

Document: TypeAlias = dict[str, Json]


def document(value: Mapping[str, JsonValue]) -> Document:
    return cast(Document, value)
