"""Actors: who someone is, whichever tool spoke (git knows an email, GitHub a login)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from typing import ClassVar, Final, Literal, Self, TypeAlias

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
from changeproof.domain.payloads import EventPayload

__all__ = [
    "ACTOR_ADDED",
    "ACTOR_ALIAS_ADDED",
    "ACTOR_GROUP_GRANTED",
    "ACTOR_GROUP_REVOKED",
    "ACTOR_ROLE_GRANTED",
    "ACTOR_ROLE_REVOKED",
    "GRANT_EVENTS",
    "GRANT_PAYLOADS",
    "Actor",
    "ActorAdded",
    "ActorAliasAdded",
    "ActorKind",
    "Aliases",
    "Directory",
    "Grant",
    "GrantChange",
    "GrantKind",
    "GroupGranted",
    "GroupRevoked",
    "Origin",
    "Role",
    "RoleGranted",
    "RoleRevoked",
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

    def words(self) -> str:
        """`email a@x, github a-gh`: how reasons and reports list them."""
        parts = [f"email {e}" for e in sorted(self.emails)]
        logins = (("github", self.github), ("gitlab", self.gitlab))
        parts += [f"{kind} {login}" for kind, login in logins if login]
        return ", ".join(parts)

    def __bool__(self) -> bool:
        return bool(self.emails or self.github or self.gitlab)


@dataclass(frozen=True, slots=True)
class Grant:
    """A role or group of one actor: the payload of `actor.{role,group}.{granted,revoked}`."""

    name: str
    kind: GrantKind
    value: str

    def event_type(self, *, granted: bool) -> str:
        return next(t for t, meaning in GRANT_EVENTS.items() if meaning == (self.kind, granted))

    def payload(self, *, granted: bool) -> GrantChange:
        """The entry granting or revoking it."""
        return GRANT_PAYLOADS[self.event_type(granted=granted)].of(self)


@dataclass(frozen=True, slots=True)
class ActorAdded(EventPayload):
    """An actor and the aliases it came with; its roles and groups are entries of their own
    (each grant's seq is its key and what a revoke names), so those lists are empty."""

    TYPE: ClassVar[str] = ACTOR_ADDED
    # Written only for a pipeline identity: a person's entry reads as every entry did
    # before kinds existed (and those decode as persons).
    OMIT_WHEN_NONE: ClassVar[frozenset[str]] = frozenset({"kind"})

    name: str
    emails: tuple[str, ...]  # sorted, so the same actor encodes the same
    github: str | None
    gitlab: str | None
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    kind: ActorKind | None = None

    @classmethod
    def of(cls, actor: Actor) -> Self:
        return cls(
            actor.name,
            tuple(sorted(actor.emails)),
            actor.github,
            actor.gitlab,
            tuple(sorted(actor.roles)),
            tuple(sorted(actor.groups)),
            None if actor.kind is ActorKind.PERSON else actor.kind,
        )

    def actor(self) -> Actor:
        return Actor(
            self.name,
            frozenset(self.emails),
            self.github,
            self.gitlab,
            frozenset(self.roles),
            frozenset(self.groups),
            self.kind or ActorKind.PERSON,
        )


@dataclass(frozen=True, slots=True)
class ActorAliasAdded(EventPayload):
    """Emails and logins of a known actor, recorded after it was added."""

    TYPE: ClassVar[str] = ACTOR_ALIAS_ADDED

    name: str
    emails: tuple[str, ...]  # sorted
    github: str | None
    gitlab: str | None

    @classmethod
    def of(cls, aliases: Aliases) -> Self:
        return cls(aliases.name, tuple(sorted(aliases.emails)), aliases.github, aliases.gitlab)

    def aliases(self) -> Aliases:
        return Aliases(self.name, frozenset(self.emails), self.github, self.gitlab)


@dataclass(frozen=True, slots=True)
class _RoleChange(EventPayload):
    name: str
    role: str

    @classmethod
    def of(cls, grant: Grant) -> Self:
        return cls(grant.name, grant.value)

    def grant(self) -> Grant:
        return Grant(self.name, "role", self.role)


@dataclass(frozen=True, slots=True)
class _GroupChange(EventPayload):
    name: str
    group: str

    @classmethod
    def of(cls, grant: Grant) -> Self:
        return cls(grant.name, grant.value)

    def grant(self) -> Grant:
        return Grant(self.name, "group", self.group)


@dataclass(frozen=True, slots=True)
class RoleGranted(_RoleChange):
    """An actor was granted a role."""

    TYPE: ClassVar[str] = ACTOR_ROLE_GRANTED


@dataclass(frozen=True, slots=True)
class RoleRevoked(_RoleChange):
    """An actor's role was revoked (its open grant of that role ends here)."""

    TYPE: ClassVar[str] = ACTOR_ROLE_REVOKED


@dataclass(frozen=True, slots=True)
class GroupGranted(_GroupChange):
    """An actor joined a group (experts of a high-risk area, say)."""

    TYPE: ClassVar[str] = ACTOR_GROUP_GRANTED


@dataclass(frozen=True, slots=True)
class GroupRevoked(_GroupChange):
    """An actor left a group (its open grant of that group ends here)."""

    TYPE: ClassVar[str] = ACTOR_GROUP_REVOKED


# The data of the four grant event types: an actor's name and the role or group.
GrantChange: TypeAlias = _RoleChange | _GroupChange

# Each grant event type's payload (GRANT_EVENTS says what each means).
GRANT_PAYLOADS: Final[Mapping[str, type[_RoleChange] | type[_GroupChange]]] = {
    ACTOR_ROLE_GRANTED: RoleGranted,
    ACTOR_ROLE_REVOKED: RoleRevoked,
    ACTOR_GROUP_GRANTED: GroupGranted,
    ACTOR_GROUP_REVOKED: GroupRevoked,
}


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
