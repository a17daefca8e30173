"""Key paths in a policy document, the lines they sit on, and pydantic errors put back on them.

A key path is the tuple of keys and list indices from the top of the document, shown as
`environments.production.controls[1]`. The YAML reader records the line of each; an error
about a path that is not in the file (a missing key, a short form expanded by the model)
is put on the line of its nearest parent that is.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Annotated, TypeAlias, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from changeproof.policy.errors import PolicyProblem, excerpt
from changeproof.policy.model import ControlRef

__all__ = ["KeyPath", "Lines", "key_text", "locate", "model_at", "pydantic_problem"]

KeyPath: TypeAlias = tuple[str | int, ...]
Lines: TypeAlias = Mapping[KeyPath, int]


def key_text(path: KeyPath) -> str | None:
    """`("environments", "prod", "controls", 1)` → `environments.prod.controls[1]`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:  # a key comes from the file, which may be anything: shown as an excerpt
            text += f".{excerpt(part)}" if text else excerpt(part)
    return text or None


def locate(lines: Lines, path: KeyPath) -> int | None:
    """The line of `path`, else of its nearest parent in the file; None without lines."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def _unwrap(annotation: object) -> object:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            present = [a for a in get_args(annotation) if a is not type(None)]
            if len(present) != 1:
                return annotation
            annotation = present[0]
        else:
            return annotation


def model_at(root: type[BaseModel], path: KeyPath) -> type[BaseModel] | None:
    """The pydantic model describing the mapping at `path`, when there is one."""
    annotation: object = root
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            annotation = field.annotation
            continue
        origin, args = get_origin(annotation), get_args(annotation)
        if origin is tuple and args:
            annotation = args[0]
        elif origin is dict and len(args) == 2:
            annotation = args[1]
        else:
            return None
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _walk(data: object, loc: tuple[str | int, ...]) -> tuple[KeyPath, KeyPath]:
    """Split a pydantic loc into the part present in `data` and the rest."""
    current = data
    for number, part in enumerate(loc):
        inside = _child(current, part)
        if inside is _ABSENT:
            return loc[:number], loc[number:]
        current = inside
    return loc, ()


_ABSENT = object()


def _child(value: object, part: str | int) -> object:
    if isinstance(value, Mapping) and isinstance(part, str):
        return value.get(part, _ABSENT)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return _ABSENT


def _shown(value: object) -> str | None:
    if isinstance(value, str):
        return repr(excerpt(value))
    if isinstance(value, int | float) or value is None:
        return excerpt(repr(value))
    return None


def pydantic_problem(
    model: type[BaseModel],
    data: object,
    lines: Lines,
    source: str,
    base: KeyPath,
    error: ErrorDetails,
) -> PolicyProblem:
    """One pydantic error about `data` (found at `base` in the file) as a PolicyProblem."""
    present, rest = _walk(data, tuple(error["loc"]))
    fields = model_at(model, present)
    # What follows the present part is a missing key, or pydantic's own labels
    # (`[key]`, `function-after[...]`, union branches): keep only a real field name.
    named = rest[:1] if rest and fields is not None and rest[0] in fields.model_fields else ()
    path = (*base, *present, *named)
    kind = error["type"]
    message = error["msg"].removeprefix("Value error, ")
    if kind == "missing":
        message = "required, but missing"
    elif kind == "extra_forbidden":
        parent = model_at(model, present[:-1])
        allowed = ", ".join(parent.model_fields) if parent is not None else ""
        message = f"unknown key (allowed here: {allowed})" if allowed else "unknown key"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = "expected a mapping of keys"
        if model_at(model, present) is ControlRef:
            message = (
                "a control is written as its id (`- tests-passed`), as its id with parameters "
                "(`- tests-passed: {min_tests: 10}`), or as `{id: ..., params: {...}}`"
            )
        if (shown := _shown(error.get("input"))) is not None:
            message = f"{message} (got {shown})"
    elif rest[:1] == ("[key]",):
        message = f"invalid name: {message}"
    elif (shown := _shown(error.get("input"))) is not None:
        message = f"{message} (got {shown})"
    return PolicyProblem(source, locate(lines, path), key_text(path), message)
