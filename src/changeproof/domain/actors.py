"""Actors: who someone is, whichever tool spoke (git knows an email, GitHub a login)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Literal

from changeproof.domain.canonical import JsonValue

__all__ = [
    "ACTOR_ADDED",
    "ACTOR_GROUP_GRANTED",
    "ACTOR_GROUP_REVOKED",
    "ACTOR_ROLE_GRANTED",
    "ACTOR_ROLE_REVOKED",
    "GRANT_EVENTS",
    "Actor",
    "Directory",
    "Grant",
    "GrantKind",
    "Role",
    "actor_from_data",
    "grant_from_data",
]

ACTOR_ADDED: Final = "actor.added"
ACTOR_ROLE_GRANTED: Final = "actor.role.granted"
ACTOR_ROLE_REVOKED: Final = "actor.role.revoked"
ACTOR_GROUP_GRANTED: Final = "actor.group.granted"
ACTOR_GROUP_REVOKED: Final = "actor.group.revoked"

GrantKind = Literal["role", "group"]

# Each grant event type: what kind of grant it is about, and whether it grants or revokes.
GRANT_EVENTS: Final[Mapping[str, tuple[GrantKind, bool]]] = {
    ACTOR_ROLE_GRANTED: ("role", True),
    ACTOR_ROLE_REVOKED: ("role", False),
    ACTOR_GROUP_GRANTED: ("group", True),
    ACTOR_GROUP_REVOKED: ("group", False),
}


class Role(StrEnum):
    DEVELOPER = "developer"
    REVIEWER = "reviewer"
    APPROVER = "approver"
    EMERGENCY_APPROVER = "emergency-approver"
    QA_PUSHER = "qa-pusher"
    PRODUCTION_PUSHER = "production-pusher"
    AUDITOR = "auditor"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    emails: frozenset[str] = frozenset()  # lower-cased
    github: str | None = None  # lower-cased login
    gitlab: str | None = None
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()

    def to_data(self) -> dict[str, JsonValue]:
        """The `actor.added` payload; lists sorted so the same actor encodes the same."""
        return {
            "name": self.name,
            "emails": sorted(self.emails),
            "github": self.github,
            "gitlab": self.gitlab,
            "roles": sorted(self.roles),
            "groups": sorted(self.groups),
        }


def actor_from_data(data: Mapping[str, JsonValue]) -> Actor:
    name, github, gitlab = (data.get(key) for key in ("name", "github", "gitlab"))
    if not isinstance(name, str):
        raise ValueError("actor data needs a string name")
    if not (github is None or isinstance(github, str)):
        raise ValueError("actor github must be a string or null")
    if not (gitlab is None or isinstance(gitlab, str)):
        raise ValueError("actor gitlab must be a string or null")
    emails, roles, groups = (_strings(data, key) for key in ("emails", "roles", "groups"))
    return Actor(name, emails, github, gitlab, roles, groups)


def _strings(data: Mapping[str, JsonValue], key: str) -> frozenset[str]:
    values = data.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"actor {key} must be a list of strings")
    return frozenset(str(v) for v in values)


@dataclass(frozen=True, slots=True)
class Grant:
    """A role or group of one actor: the payload of `actor.{role,group}.{granted,revoked}`."""

    name: str
    kind: GrantKind
    value: str

    def to_data(self) -> dict[str, JsonValue]:
        return {"name": self.name, self.kind: self.value}

    def event_type(self, *, granted: bool) -> str:
        return next(t for t, meaning in GRANT_EVENTS.items() if meaning == (self.kind, granted))


def grant_from_data(event_type: str, data: Mapping[str, JsonValue]) -> Grant:
    if event_type not in GRANT_EVENTS:
        raise ValueError(f"{event_type} is not a grant event")
    kind = GRANT_EVENTS[event_type][0]
    name, value = data.get("name"), data.get(kind)
    if not (isinstance(name, str) and isinstance(value, str)):
        raise ValueError(f"{event_type} data needs string name and {kind}")
    return Grant(name, kind, value)


@dataclass(frozen=True, slots=True)
class Directory:
    """Every known actor, and the lookups controls use to tell people apart."""

    actors: Mapping[str, Actor] = field(default_factory=dict)

    @classmethod
    def of(cls, actors: Iterable[Actor]) -> Directory:
        return cls({a.name: a for a in actors})

    def by_email(self, email: str) -> Actor | None:
        wanted = email.strip().lower()
        return next((a for a in self.actors.values() if wanted in a.emails), None)

    def by_login(self, login: str, platform: str | None = None) -> Actor | None:
        wanted = login.strip().lower()
        for actor in self.actors.values():
            if platform in (None, "github") and actor.github == wanted:
                return actor
            if platform in (None, "gitlab") and actor.gitlab == wanted:
                return actor
        return None

    def resolve(self, identity: str, platform: str | None = None) -> Actor | None:
        """An email, a login, or an actor's own name."""
        if identity in self.actors:
            return self.actors[identity]
        if "@" in identity:
            return self.by_email(identity)
        return self.by_login(identity, platform)

    def identify(self, identity: str) -> Actor | None:
        """The actor someone who says they are `identity` is: as `resolve`, but surrounding
        spaces and the case of a name do not matter (names differing only in case are
        refused when added, so at most one actor matches)."""
        who = identity.strip()
        found = self.resolve(who)
        if found is not None:
            return found
        wanted = who.casefold()
        return next((a for a in self.actors.values() if a.name.casefold() == wanted), None)

    def holders(self, role: str) -> tuple[str, ...]:
        """The names of the actors holding `role`, sorted."""
        return tuple(sorted(a.name for a in self.actors.values() if role in a.roles))
