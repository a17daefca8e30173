"""Actors: who someone is, whichever tool spoke (git knows an email, GitHub a login)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

__all__ = [
    "ACTOR_ADDED",
    "ACTOR_GROUP_GRANTED",
    "ACTOR_GROUP_REVOKED",
    "ACTOR_ROLE_GRANTED",
    "ACTOR_ROLE_REVOKED",
    "Actor",
    "Directory",
    "Role",
]

ACTOR_ADDED: Final = "actor.added"
ACTOR_ROLE_GRANTED: Final = "actor.role.granted"
ACTOR_ROLE_REVOKED: Final = "actor.role.revoked"
ACTOR_GROUP_GRANTED: Final = "actor.group.granted"
ACTOR_GROUP_REVOKED: Final = "actor.group.revoked"


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
