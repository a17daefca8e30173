"""Telling people apart: authors, committers, co-authors, reviewers and deployers.

git names people by email, GitHub and GitLab by login; the directory maps both to actors.
Two identities are the same person when they map to the same actor, or share an alias.
An identity that maps to no actor is compared by its raw email or login (case-insensitive),
and only with aliases of the same kind: an unknown GitHub login and an unknown git email
cannot be told apart, so the answer is `UNKNOWN` and the control fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

from changeproof.domain.actors import Actor, Directory
from changeproof.domain.releases import Commit
from changeproof.policy.facts import Facts

__all__ = ["People", "Sameness", "Who", "Writer", "people_of", "unknown_because", "writers"]

_PLATFORMS: Final = ("github", "gitlab")


class Sameness(Enum):
    SAME = "same"
    DIFFERENT = "different"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Who:
    """One identity as resolved: the actor it maps to, or its raw aliases."""

    label: str  # the actor's name, or the raw identity: how reasons name them
    actor: Actor | None
    aliases: frozenset[tuple[str, str]]  # (kind, lower-cased value); kind: email|github|gitlab
    needs: frozenset[str]  # for a raw identity: alias kinds the other side must have

    @property
    def key(self) -> tuple[str, ...]:
        """Equal for the same actor, or the same raw identity."""
        if self.actor is not None:
            return ("actor", self.actor.name)
        return ("raw", *sorted(f"{kind}:{value}" for kind, value in self.aliases))

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(kind for kind, _ in self.aliases)

    def same_as(self, other: Who) -> Sameness:
        if self.actor is not None and other.actor is not None:
            return Sameness.SAME if self.actor.name == other.actor.name else Sameness.DIFFERENT
        if self.aliases & other.aliases:
            return Sameness.SAME
        for one, two in ((self, other), (other, self)):
            if one.actor is None and not one.needs <= two.kinds:
                return Sameness.UNKNOWN
        return Sameness.DIFFERENT


def _of_actor(actor: Actor) -> Who:
    aliases = {("email", e.lower()) for e in actor.emails}
    if actor.github:
        aliases.add(("github", actor.github.lower()))
    if actor.gitlab:
        aliases.add(("gitlab", actor.gitlab.lower()))
    return Who(actor.name, actor, frozenset(aliases), frozenset())


def unknown_because(one: Who, two: Who) -> str:
    """Why `one.same_as(two)` is UNKNOWN, in words, with what to do about it."""
    fix = "add them to the directory (`changeproof actor add`)"
    if one.actor is None and two.actor is None:
        return f"neither maps to a known actor; {fix}"
    known, raw = (one, two) if one.actor is not None else (two, one)
    missing = " or ".join(sorted(raw.needs - known.kinds))
    return (
        f"{raw.label} maps to no actor and {known.label} has no {missing} alias to compare; {fix}"
    )


@dataclass(frozen=True, slots=True)
class Writer:
    role: str  # "author", "committer" or "co-author"
    email: str


def writers(commit: Commit) -> tuple[Writer, ...]:
    """Who wrote a commit: its author, committer and co-authors, each email once."""
    found: dict[str, Writer] = {}
    for role, email in (
        ("author", commit.author.email),
        ("committer", commit.committer.email),
        *(("co-author", c.email) for c in commit.co_authors),
    ):
        found.setdefault(email.strip().lower(), Writer(role, email.strip()))
    return tuple(found.values())


class People:
    """Resolves identities through the directory, each once per evaluation."""

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._seen: dict[tuple[str, str, str | None], Who] = {}
        self._actors: dict[str, Who] = {}  # one Who per actor, however it was named
        self._compared: dict[tuple[int, int], Sameness] = {}

    def _actor(self, actor: Actor) -> Who:
        who = self._actors.get(actor.name)
        if who is None:
            who = self._actors[actor.name] = _of_actor(actor)
        return who

    def email(self, email: str) -> Who:
        wanted = email.strip().lower()
        cache_key = ("email", wanted, None)
        if cache_key not in self._seen:
            actor = self._directory.by_email(wanted)
            self._seen[cache_key] = (
                self._actor(actor)
                if actor is not None
                else Who(email.strip(), None, frozenset({("email", wanted)}), frozenset({"email"}))
            )
        return self._seen[cache_key]

    def login(self, login: str, platform: str | None) -> Who:
        """A platform login (an email when it holds an @); `platform` None: any platform."""
        if "@" in login:
            return self.email(login)
        wanted = login.strip().lower()
        where = platform if platform in _PLATFORMS else None
        cache_key = ("login", wanted, where)
        if cache_key not in self._seen:
            actor = self._directory.by_login(wanted, where)
            kinds = (where,) if where is not None else _PLATFORMS
            self._seen[cache_key] = (
                self._actor(actor)
                if actor is not None
                else Who(
                    login.strip(),
                    None,
                    frozenset((kind, wanted) for kind in kinds),
                    frozenset(kinds),
                )
            )
        return self._seen[cache_key]

    def identity(self, identity: str) -> Who:
        """An actor's name, an email or a login, as a deployer is named."""
        actor = self._directory.actors.get(identity)
        if actor is None:
            return self.login(identity, None)
        return self._actor(actor)

    def writer(self, writer: Writer) -> Who:
        return self.email(writer.email)

    def same(self, one: Who, two: Who) -> Sameness:
        """`one.same_as(two)`, remembered: a release compares the same few people often.

        Keyed by identity, which is sound because this resolver keeps every Who it made.
        """
        pair = (id(one), id(two))
        found = self._compared.get(pair)
        if found is None:
            found = self._compared[pair] = one.same_as(two)
        return found


def people_of(facts: Facts) -> People:
    """The resolver all the controls of one decision share: each identity resolved once."""
    return facts.shared(_people)


def _people(facts: Facts) -> People:
    return People(facts.directory)
