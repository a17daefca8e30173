"""The people file: actors declared in a reviewed YAML file, for `changeproof actor sync`.

    actors:
      - name: alice
        emails: [alice@example.com]
        github: alice-gh
        gitlab: null
        roles: [developer, reviewer]
        groups: [dba]
        kind: person        # or pipeline (a CI job's identity); default person

This reader checks the file's shape (keys and types) and says where each entry is; what
the values may be (role names, group names, aliases) is the actor service's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from changeproof.ingest.errors import ReadError
from changeproof.ingest.yamldoc import load_yaml

__all__ = ["DeclaredActor", "read_people"]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: str
    emails: list[str] = Field(default_factory=list)
    github: str | None = None
    gitlab: str | None = None
    roles: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    kind: Literal["person", "pipeline"] = "person"


class _PeopleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    actors: list[_Entry]


@dataclass(frozen=True, slots=True)
class DeclaredActor:
    """One entry of the file, as written (not yet normalised), and where it is."""

    index: int
    line: int | None
    name: str
    emails: tuple[str, ...]
    github: str | None
    gitlab: str | None
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    kind: str = "person"  # person | pipeline

    @property
    def entry(self) -> str:
        """How errors name the entry: `actors[2] (alice)`."""
        return f"actors[{self.index}] ({self.name})"


def read_people(data: bytes, source: str) -> tuple[DeclaredActor, ...]:
    document = load_yaml(data, source)
    if document.value is None:
        raise ReadError(source, "the file is empty; it needs an `actors:` list")
    try:
        parsed = _PeopleFile.model_validate(document.value)
    except ValidationError as e:
        first = e.errors()[0]
        location = tuple(first["loc"])
        more = e.error_count() - 1
        problem = _describe(first["type"], location, first["msg"], document.value)
        if more:
            problem += f" (and {more} more {'problem' if more == 1 else 'problems'})"
        raise ReadError(source, problem, line=document.line(location)) from e
    return tuple(
        DeclaredActor(
            index=n,
            line=document.line(("actors", n)),
            name=entry.name,
            emails=tuple(entry.emails),
            github=entry.github,
            gitlab=entry.gitlab,
            roles=tuple(entry.roles),
            groups=tuple(entry.groups),
            kind=entry.kind,
        )
        for n, entry in enumerate(parsed.actors)
    )


def _describe(kind: str, location: tuple[str | int, ...], message: str, value: object) -> str:
    """A pydantic error in the file's words: `actors[1] (bob).roles[0]: …`."""
    where = _where(location, value)
    key = location[-1] if location else None
    if kind == "extra_forbidden":
        known = ", ".join(_Entry.model_fields if len(location) > 1 else _PeopleFile.model_fields)
        return (
            f"{_where(location[:-1], value) or 'top level'}: unknown key {key!r} (known: {known})"
        )
    if kind == "missing":
        return f"{_where(location[:-1], value) or 'top level'}: missing key {key!r}"
    if kind == "model_type" and not location:
        return "the file must be a mapping with an `actors:` list"
    return f"{where or 'top level'}: {message[0].lower()}{message[1:]}"


def _where(location: tuple[str | int, ...], value: object) -> str:
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    if len(location) >= 2 and location[0] == "actors" and isinstance(location[1], int):
        name = _entry_name(value, location[1])
        if name is not None:
            text = text.replace(f"actors[{location[1]}]", f"actors[{location[1]}] ({name})", 1)
    return text


def _entry_name(value: object, index: int) -> str | None:
    entries = value.get("actors") if isinstance(value, dict) else None
    if isinstance(entries, list) and index < len(entries) and isinstance(entries[index], dict):
        name = entries[index].get("name")
        return name if isinstance(name, str) else None
    return None
