"""Telling people apart: authors, committers, co-authors, reviewers and deployers.

git names people by email, GitHub and GitLab by login; the directory maps both to actors.
Whether two identities are the same person is the identity engine's answer
(`domain.identity`, the same one change approvals and deployments ask): the same actor or
a shared alias is `SAME`; an identity that cannot be told apart from another (no alias of
a kind to compare, an empty or malformed email) is `UNKNOWN` and the control fails closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from changeproof.domain.actors import Actor, Directory
from changeproof.domain.identity import Sameness, Who, same, unknown_because
from changeproof.domain.releases import Commit
from changeproof.policy.facts import Facts

__all__ = ["People", "Sameness", "Who", "Writer", "people_of", "unknown_because", "writers"]


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

    def _one(self, who: Who) -> Who:
        if who.actor is None:
            return who
        known = self._actors.get(who.actor.name)
        if known is None:
            known = self._actors[who.actor.name] = who
        return known

    def _who(self, kind: str, identity: str, platform: str | None) -> Who:
        cache_key = (kind, identity, platform)
        found = self._seen.get(cache_key)
        if found is None:
            who = (
                self._directory.who_email(identity)
                if kind == "email"
                else self._directory.who(identity, platform)
            )
            found = self._seen[cache_key] = self._one(who)
        return found

    def email(self, email: str) -> Who:
        """A git email: one that is empty or not `local@domain` is never told apart."""
        return self._who("email", email, None)

    def login(self, login: str, platform: str | None) -> Who:
        """A platform login (an email when it holds an @); `platform` None: any platform."""
        where = platform if platform in ("github", "gitlab") else None
        return self._who("login", login, where)

    def identity(self, identity: str) -> Who:
        """An actor's name, an email or a login, as a deployer is named."""
        return self._who("login", identity, None)

    def actor(self, actor: Actor) -> Who:
        return self._one(self._directory.who_of(actor))

    def writer(self, writer: Writer) -> Who:
        return self.email(writer.email)

    def made_by(
        self, who: Who, writers_of: Sequence[tuple[Writer, Who]]
    ) -> tuple[Writer, str] | None:
        """A writer who added `who`'s actor to the directory (the grant chain: a sock puppet
        is not independent of its maker), and the maker as recorded; None when none did.
        A maker that is a known actor and cannot be told apart from a writer counts."""
        if who.actor is None:
            return None
        for _, maker in self._directory.makers(who.actor, None):
            them = self.identity(maker)
            for writer, person in writers_of:
                found = self.same(them, person)
                if found is Sameness.SAME or (found is Sameness.UNKNOWN and them.actor is not None):
                    return writer, maker
        return None

    def same(self, one: Who, two: Who) -> Sameness:
        """`same(one, two)`, remembered: a release compares the same few people often.

        Keyed by identity, which is sound because this resolver keeps every Who it made.
        """
        pair = (id(one), id(two))
        found = self._compared.get(pair)
        if found is None:
            found = self._compared[pair] = same(one, two)
        return found


def people_of(facts: Facts) -> People:
    """The resolver all the controls of one decision share: each identity resolved once."""
    return facts.shared(_people)


def _people(facts: Facts) -> People:
    return People(facts.directory)
