"""Cursor pagination: `page_size`, `page_token` in; `items`, `next_page_token` out.

A page token is opaque to clients: the base64url of the last item's position (its
ledger seq, which only grows), so a page never repeats or skips an item however much is
recorded between two requests. A token that does not decode is `invalid-request`
pointing at /page_token.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Final, TypeVar

from fastapi import Query
from pydantic import BaseModel

from changeproof.api.documents import Document, document
from changeproof.api.problems import ProblemError
from changeproof.domain.canonical import JsonValue

__all__ = ["MAX_PAGE_SIZE", "Page", "PageSize", "PageToken", "page"]

T = TypeVar("T")

DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 1000
_PREFIX: Final = "after:"

PageSize = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page (at most 1000).")
]
PageToken = Annotated[
    str | None,
    Query(max_length=64, description="The next_page_token of the previous page."),
]


class Page(BaseModel):
    items: list[Document]
    next_page_token: str | None


def _after(token: str | None) -> int | None:
    if token is None:
        return None
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii") + b"==").decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if not text.startswith(_PREFIX) or not text[len(_PREFIX) :].isdigit():
        raise ProblemError(
            "invalid-request",
            "page_token is not a token this server gave",
            hint="pass next_page_token from the previous page unchanged, or leave it out",
            errors=(("/page_token", "not a page token"),),
        )
    return int(text[len(_PREFIX) :])


def _token(position: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{position}".encode()).decode().rstrip("=")


def page(
    items: Sequence[T],
    position: Callable[[T], int],
    render: Callable[[T], Mapping[str, JsonValue]],
    page_size: int,
    page_token: str | None,
) -> Page:
    """One page of `items` (in ascending `position` order) after the token's position."""
    after = _after(page_token)
    rest = [i for i in items if after is None or position(i) > after]
    chosen = rest[:page_size]
    more = len(rest) > page_size
    return Page(
        items=[document(render(i)) for i in chosen],
        next_page_token=_token(position(chosen[-1])) if more else None,
    )
