"""Who is the same person: the one engine every separation-of-duties question asks.

An identity (a git email, a platform login, an actor) becomes a set of *aliases*, each a
(kind, key) pair with kind `email`, `github` or `gitlab`. A key is what platforms would
treat as the same account, and what a person could pass off as someone else's:

- surrounding spaces, case (`casefold`) and Unicode compatibility forms (NFKC) do not
  matter: ` ADA@Corp.Test ` is `ada@corp.test`;
- confusables do not either: each key is its UTS #39 skeleton (`domain.confusables`), so
  `\u0430da` with a Cyrillic a (U+0430) is `ada`;
- plus-addressing: `ada+ci@corp.test` is `ada@corp.test`, on every domain unless the
  instance turns it off for that domain (`IdentityRules`): treating them as one person
  fails closed;
- no-reply addresses carrying a login are that login: `12345+login@users.noreply.github.com`
  and `login@users.noreply.github.com` are GitHub login `login`,
  `12345-login@users.noreply.gitlab.com` is GitLab login `login`.

Two identities are the same person (`Sameness.SAME`) when they are the same actor or share
an alias. Two different actors sharing none are `DIFFERENT`. An identity that maps to no
actor is told apart from another only when the other has aliases of every kind it needs
(an email needs an email, a login of unknown platform needs both logins); an identity with
no alias at all (an empty or malformed email) is never told apart. Otherwise the engine
cannot tell (`UNKNOWN`), and every caller fails closed with `unknown_because`.

Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum, StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Final

from changeproof.domain.confusables import PROTOTYPES

if TYPE_CHECKING:
    from changeproof.domain.actors import Actor

__all__ = [
    "DEFAULT_RULES",
    "GITHUB_NOREPLY",
    "GITLAB_NOREPLY",
    "Alias",
    "AliasKind",
    "IdentityRules",
    "Sameness",
    "Who",
    "actor_aliases",
    "email_aliases",
    "email_who",
    "fold",
    "key",
    "login_aliases",
    "login_who",
    "recorded_aliases",
    "same",
    "unknown_because",
    "who_of_actor",
]

GITHUB_NOREPLY: Final = "users.noreply.github.com"
GITLAB_NOREPLY: Final = "users.noreply.gitlab.com"
_GITHUB_ID: Final = re.compile(r"\d+\+(.+)")
_GITLAB_ID: Final = re.compile(r"\d+-(.+)")
_SPACE: Final = re.compile(r"\s")
_FIXPOINT_ROUNDS: Final = 8


class AliasKind(StrEnum):
    EMAIL = "email"
    GITHUB = "github"
    GITLAB = "gitlab"


_LOGINS: Final = frozenset({AliasKind.GITHUB, AliasKind.GITLAB})

Alias = tuple[AliasKind, str]


class Sameness(Enum):
    SAME = "same"
    DIFFERENT = "different"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class IdentityRules:
    """What the instance configures: the email domains where `+` is part of the mailbox
    (plus-addressing off). Every other domain treats `local+tag` as `local`."""

    plus_addressing_off: frozenset[str] = frozenset()

    def plus_addressing(self, domain: str) -> bool:
        return domain not in self.plus_addressing_off


DEFAULT_RULES: Final = IdentityRules()


@lru_cache(maxsize=8192)
def fold(text: str) -> str:
    """`text` without surrounding spaces, case or compatibility forms."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).strip()


@lru_cache(maxsize=8192)
def key(text: str) -> str:
    """The comparison key: `fold`, then the UTS #39 skeleton, folded again, to a fixpoint
    (a prototype can be upper-case, `0` → `O`, and folding can make a new confusable)."""
    value = fold(text)
    for _ in range(_FIXPOINT_ROUNDS):
        decomposed = unicodedata.normalize("NFD", value)
        skeleton = unicodedata.normalize("NFD", decomposed.translate(PROTOTYPES))
        after = fold(unicodedata.normalize("NFC", skeleton))
        if after == value:
            break
        value = after
    return value


@dataclass(frozen=True, slots=True)
class Who:
    """One identity as the engine sees it: the actor it maps to, or its raw aliases."""

    label: str  # the actor's name, or the raw identity: how reasons name them
    actor: Actor | None
    aliases: frozenset[Alias]
    needs: frozenset[AliasKind]  # for a raw identity: alias kinds the other side must have

    @property
    def key(self) -> tuple[str, ...]:
        """Equal for the same actor, or the same raw identity."""
        if self.actor is not None:
            return ("actor", self.actor.name)
        return ("raw", *sorted(f"{kind}:{value}" for kind, value in self.aliases))

    @property
    def kinds(self) -> frozenset[AliasKind]:
        return frozenset(kind for kind, _ in self.aliases)

    def same_as(self, other: Who) -> Sameness:
        return same(self, other)


def same(one: Who, two: Who) -> Sameness:
    """Whether `one` and `two` are the same person, different people, or cannot be told."""
    if one.actor is not None and two.actor is not None and one.actor.name == two.actor.name:
        return Sameness.SAME
    if one.aliases & two.aliases:
        return Sameness.SAME
    if one.actor is not None and two.actor is not None:
        return Sameness.DIFFERENT
    for raw, other in ((one, two), (two, one)):
        if raw.actor is None and (not raw.aliases or not raw.needs <= other.kinds):
            return Sameness.UNKNOWN
    return Sameness.DIFFERENT


def email_aliases(email: str, rules: IdentityRules = DEFAULT_RULES) -> frozenset[Alias]:
    """The aliases an email is: none when it is empty or not `local@domain`."""
    folded = fold(email)
    local, at, domain = folded.rpartition("@")
    if not (at and local and domain) or "@" in local or _SPACE.search(folded):
        return frozenset()
    if domain == GITHUB_NOREPLY:
        found = _GITHUB_ID.fullmatch(local)
        login = found.group(1) if found else local
        return frozenset({(AliasKind.GITHUB, key(login))})
    if domain == GITLAB_NOREPLY:
        found = _GITLAB_ID.fullmatch(local)
        login = found.group(1) if found else local
        return frozenset({(AliasKind.GITLAB, key(login))})
    if "+" in local and rules.plus_addressing(domain):
        mailbox = local.split("+", 1)[0]
        local = mailbox or local
    return frozenset({(AliasKind.EMAIL, f"{key(local)}@{key(domain)}")})


def login_aliases(login: str, platform: str | None) -> frozenset[Alias]:
    """A login on `platform` (None: GitHub or GitLab, whichever), or none when empty."""
    value = key(login)
    if not value:
        return frozenset()
    kinds = [AliasKind(platform)] if platform in _LOGINS else sorted(_LOGINS)
    return frozenset((kind, value) for kind in kinds)


def email_who(email: str, rules: IdentityRules = DEFAULT_RULES) -> Who:
    """A raw email that maps to no actor."""
    aliases = email_aliases(email, rules)
    needs = frozenset(kind for kind, _ in aliases) or frozenset({AliasKind.EMAIL})
    return Who(email.strip() or repr(email), None, aliases, needs)


def login_who(login: str, platform: str | None) -> Who:
    """A raw login that maps to no actor; with no platform it needs both logins to compare."""
    aliases = login_aliases(login, platform)
    kinds = frozenset({AliasKind(platform)}) if platform in _LOGINS else _LOGINS
    return Who(login.strip() or repr(login), None, aliases, kinds)


def actor_aliases(actor: Actor, rules: IdentityRules = DEFAULT_RULES) -> frozenset[Alias]:
    return frozenset(alias for _, keys in recorded_aliases(actor, rules) for alias in keys)


def recorded_aliases(
    actor: Actor, rules: IdentityRules = DEFAULT_RULES
) -> list[tuple[str, frozenset[Alias]]]:
    """Each alias as recorded (`email ada@corp.test`, `github ada-gh`) with its keys."""
    found = [(f"email {e}", email_aliases(e, rules)) for e in sorted(actor.emails)]
    if actor.github:
        found.append((f"github {actor.github}", login_aliases(actor.github, AliasKind.GITHUB)))
    if actor.gitlab:
        found.append((f"gitlab {actor.gitlab}", login_aliases(actor.gitlab, AliasKind.GITLAB)))
    return found


def who_of_actor(actor: Actor, rules: IdentityRules = DEFAULT_RULES) -> Who:
    return Who(actor.name, actor, actor_aliases(actor, rules), frozenset())


def unknown_because(one: Who, two: Who) -> str:
    """Why `same(one, two)` is UNKNOWN, naming both and how to register the alias."""
    if one.actor is None and two.actor is None:
        return (
            f"neither maps to a known actor ({one.label}, {two.label}); register them "
            f"(`changeproof actor add NAME --email …`, or `changeproof actor alias add NAME "
            f"--email …` for a known one)"
        )
    known, raw = (one, two) if one.actor is not None else (two, one)
    if not raw.aliases:
        return (
            f"{raw.label} is not an email or login that can be compared, so it cannot be "
            f"told apart from {known.label}"
        )
    missing = sorted(raw.needs - known.kinds)
    flags = " ".join(f"--{kind} …" for kind in missing)
    return (
        f"{raw.label} maps to no actor and {known.label} has no "
        f"{' or '.join(missing)} alias to compare; if {raw.label} is {known.label}'s, "
        f"register it (`changeproof actor alias add {known.label} {flags}`)"
    )
