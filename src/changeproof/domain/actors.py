"""Actors: who someone is, whichever tool spoke (git knows an email, GitHub a login)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import Final, Literal

from changeproof.domain.canonical import JsonValue
from changeproof.domain.identity import (
    DEFAULT_RULES,
    Alias,
    IdentityRules,
    Who,
    actor_aliases,
    email_aliases,
    email_who,
    fold,
    login_aliases,
    login_who,
    who_of_actor,
)

__all__ = [
    "ACTOR_ADDED",
    "ACTOR_ALIAS_ADDED",
    "ACTOR_GROUP_GRANTED",
    "ACTOR_GROUP_REVOKED",
    "ACTOR_ROLE_GRANTED",
    "ACTOR_ROLE_REVOKED",
    "GRANT_EVENTS",
    "Actor",
    "ActorKind",
    "Aliases",
    "Directory",
    "Grant",
    "GrantKind",
    "Origin",
    "Role",
    "actor_from_data",
    "aliases_from_data",
    "grant_from_data",
]

ACTOR_ADDED: Final = "actor.added"
ACTOR_ALIAS_ADDED: Final = "actor.alias.added"
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


class ActorKind(StrEnum):
    """A person, or a pipeline identity (a CI job's, whose tokens an admin may mint)."""

    PERSON = "person"
    PIPELINE = "pipeline"


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    emails: frozenset[str] = frozenset()  # lower-cased
    github: str | None = None  # lower-cased login
    gitlab: str | None = None
    roles: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    kind: ActorKind = ActorKind.PERSON

    def to_data(self) -> dict[str, JsonValue]:
        """The `actor.added` payload; lists sorted so the same actor encodes the same.

        `kind` is written only for a pipeline identity, so a person's entry encodes as
        every entry did before kinds existed (and those decode as persons).
        """
        data: dict[str, JsonValue] = {
            "name": self.name,
            "emails": sorted(self.emails),
            "github": self.github,
            "gitlab": self.gitlab,
            "roles": sorted(self.roles),
            "groups": sorted(self.groups),
        }
        if self.kind is not ActorKind.PERSON:
            data["kind"] = self.kind.value
        return data

    def with_aliases(self, aliases: Aliases) -> Actor:
        return replace(
            self,
            emails=self.emails | aliases.emails,
            github=aliases.github or self.github,
            gitlab=aliases.gitlab or self.gitlab,
        )


@dataclass(frozen=True, slots=True)
class Aliases:
    """Emails and logins added to an actor after it was added: `actor.alias.added`."""

    name: str
    emails: frozenset[str] = frozenset()
    github: str | None = None
    gitlab: str | None = None

    def to_data(self) -> dict[str, JsonValue]:
        return {
            "name": self.name,
            "emails": sorted(self.emails),
            "github": self.github,
            "gitlab": self.gitlab,
        }

    def words(self) -> str:
        """`email a@x, github a-gh`: how reasons and reports list them."""
        parts = [f"email {e}" for e in sorted(self.emails)]
        logins = (("github", self.github), ("gitlab", self.gitlab))
        parts += [f"{kind} {login}" for kind, login in logins if login]
        return ", ".join(parts)

    def __bool__(self) -> bool:
        return bool(self.emails or self.github or self.gitlab)


def actor_from_data(data: Mapping[str, JsonValue]) -> Actor:
    name, github, gitlab = (data.get(key) for key in ("name", "github", "gitlab"))
    if not isinstance(name, str):
        raise ValueError("actor data needs a string name")
    if not (github is None or isinstance(github, str)):
        raise ValueError("actor github must be a string or null")
    if not (gitlab is None or isinstance(gitlab, str)):
        raise ValueError("actor gitlab must be a string or null")
    emails, roles, groups = (_strings(data, key) for key in ("emails", "roles", "groups"))
    kind = data.get("kind", ActorKind.PERSON.value)  # entries before kinds: persons
    if kind not in tuple(ActorKind):
        raise ValueError(f"actor kind must be one of {', '.join(ActorKind)}")
    return Actor(name, emails, github, gitlab, roles, groups, ActorKind(str(kind)))


def aliases_from_data(data: Mapping[str, JsonValue]) -> Aliases:
    """The payload of `actor.alias.added`."""
    name, github, gitlab = (data.get(key) for key in ("name", "github", "gitlab"))
    if not isinstance(name, str):
        raise ValueError("actor.alias.added data needs a string name")
    if not (github is None or isinstance(github, str)):
        raise ValueError("actor.alias.added github must be a string or null")
    if not (gitlab is None or isinstance(gitlab, str)):
        raise ValueError("actor.alias.added gitlab must be a string or null")
    return Aliases(name, _strings(data, "emails"), github, gitlab)


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
class Origin:
    """Who made an actor what it is: who added it, and who granted each grant it holds."""

    added_by: str
    granted_by: Mapping[tuple[GrantKind, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class Directory:
    """Every known actor, and the lookups controls use to tell people apart.

    Lookups go through the identity engine (`domain.identity`): an actor's name matches
    whatever its case or surrounding spaces (names differing only in case are refused when
    added), an email or login matches the actor holding an alias with the same key
    (plus-addressing, no-reply addresses, confusables). A key two actors hold resolves to
    neither: the caller then compares aliases, and they match both.
    """

    actors: Mapping[str, Actor] = field(default_factory=dict)
    rules: IdentityRules = DEFAULT_RULES
    origins: Mapping[str, Origin] = field(default_factory=dict)  # by actor name, when known

    @classmethod
    def of(
        cls,
        actors: Iterable[Actor],
        rules: IdentityRules = DEFAULT_RULES,
        origins: Mapping[str, Origin] | None = None,
    ) -> Directory:
        return cls({a.name: a for a in actors}, rules, dict(origins or {}))

    def makers(self, actor: Actor, role: str | None) -> list[tuple[str, str]]:
        """(what they did, who) for whoever added `actor` and granted it `role`."""
        origin = self.origins.get(actor.name)
        if origin is None:
            return []
        found = [("made them an actor", origin.added_by)]
        granter = None if role is None else origin.granted_by.get(("role", role))
        if granter is not None:
            found.append((f"granted them role {role}", granter))
        return found

    @cached_property
    def _by_name(self) -> dict[str, Actor]:
        return {fold(a.name): a for a in self.actors.values()}

    @cached_property
    def _by_alias(self) -> dict[Alias, frozenset[str]]:
        found: dict[Alias, set[str]] = {}
        for actor in self.actors.values():
            for alias in actor_aliases(actor, self.rules):
                found.setdefault(alias, set()).add(actor.name)
        return {alias: frozenset(names) for alias, names in found.items()}

    def aliases_of(self, actor: Actor) -> frozenset[Alias]:
        return actor_aliases(actor, self.rules)

    def _one(self, aliases: Iterable[Alias]) -> Actor | None:
        names = {n for alias in aliases for n in self._by_alias.get(alias, ())}
        return self.actors[names.pop()] if len(names) == 1 else None

    def by_email(self, email: str) -> Actor | None:
        return self._one(email_aliases(email, self.rules))

    def by_login(self, login: str, platform: str | None = None) -> Actor | None:
        return self._one(login_aliases(login, platform))

    def by_name(self, name: str) -> Actor | None:
        """The actor of that name, whatever its case and surrounding spaces."""
        return self.actors.get(name) or self._by_name.get(fold(name))

    def resolve(self, identity: str, platform: str | None = None) -> Actor | None:
        """An actor's own name (case and surrounding spaces aside), an email, or a login."""
        found = self.by_name(identity)
        if found is not None:
            return found
        if "@" in identity:
            return self.by_email(identity)
        return self.by_login(identity, platform)

    def identify(self, identity: str) -> Actor | None:
        """The actor someone who says they are `identity` is: `resolve`, on any platform."""
        return self.resolve(identity)

    def who(self, identity: str, platform: str | None = None) -> Who:
        """`identity` (a name, email or login) as the identity engine compares it."""
        actor = self.resolve(identity, platform)
        if actor is not None:
            return self.who_of(actor)
        if "@" in identity or not identity.strip():
            return email_who(identity, self.rules)
        return login_who(identity, platform)

    def who_acting(self, identity: str) -> Who:
        """Who acted (opened a change, added an actor, granted a role), as recorded: a known
        actor, or a name, email or login nobody holds, compared by its aliases alone. Unlike
        a git email, what someone typed as themselves is not "cannot tell" for lack of an
        alias of its kind: a name nobody holds is nobody else's, unless its key is an alias
        of theirs (`ALAN` is alan; `Alan-GH` is alan when alan's GitHub login is alan-gh).
        An empty one is never told apart."""
        who = self.who(identity)
        if who.actor is not None or not who.aliases:
            return who
        return replace(who, needs=frozenset())

    def who_email(self, email: str) -> Who:
        """A git email as the engine compares it; one that is empty or not `local@domain`
        has no alias, so it is never told apart from anyone."""
        actor = self.by_email(email)
        return self.who_of(actor) if actor is not None else email_who(email, self.rules)

    def who_of(self, actor: Actor) -> Who:
        return who_of_actor(actor, self.rules)

    def holders(self, role: str) -> tuple[str, ...]:
        """The names of the actors holding `role`, sorted."""
        return tuple(sorted(a.name for a in self.actors.values() if role in a.roles))
