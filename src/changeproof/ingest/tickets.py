"""Ticket references in commit messages and branch names.

Named patterns, several active at once. Presets:
  jira    PROJ-123; optionally only the given project keys (`jira:PAY,OPS`)
  github  #123, GH-123, owner/repo#123; closing keywords (fixes #12) are marked
  trac    Fixed #123, Refs #123 (Trac's commit-ticket keywords)
A spec names the presets to use: `jira:PAY,OPS,github` (set in config.toml's [tickets] spec,
or per call with --tickets); a `no-inherit` item turns off the tickets a commit inherits
from the merge that brought it in (see `changeproof.domain.history`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from changeproof.domain.errors import ConfigError
from changeproof.domain.history import TICKETS_NO_INHERIT
from changeproof.domain.releases import TicketRef, TicketSource

__all__ = ["PRESETS", "TicketMatcher", "TicketPattern", "parse_ticket_spec"]

_CLOSING: Final = r"(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)"
_TRAC_VERBS: Final = r"(?:fix(?:e[sd])?|close[sd]?|refs?|references|see|addresses|re)"
PRESETS: Final = ("jira", "github", "trac")


@dataclass(frozen=True, slots=True)
class TicketPattern:
    name: str
    regex: re.Pattern[str]
    closing: re.Pattern[str] | None = None
    keys: frozenset[str] = frozenset()  # jira project keys allowed; empty: any

    def find(self, text: str, source: TicketSource) -> Iterable[TicketRef]:
        for match in self.regex.finditer(text):
            key = match.group(1) if match.re.groups else match.group(0)
            project = key.split("-", 1)[0]
            if (self.keys and project not in self.keys) or (
                not self.keys and self.name == "jira" and project in _NOT_JIRA
            ):
                continue
            closes = False
            if self.closing is not None:
                at = match.start(1) if match.re.groups else match.start()
                before = text[max(0, at - 20) : at]
                closes = self.closing.search(before) is not None
            yield TicketRef(key=key, system=self.name, source=source, closes=closes)


# Upper-case word, dash, number: also how standards and encodings are named.
_NOT_JIRA: Final = frozenset(
    {"SHA", "UTF", "ISO", "RFC", "CVE", "CWE", "PEP", "AES", "TLS", "SSL", "HTTP", "GH", "MD", "X"}
)


def _preset(name: str, keys: Sequence[str]) -> TicketPattern:
    if name == "jira":
        return TicketPattern(
            "jira",
            re.compile(r"(?<![A-Za-z0-9_])([A-Z][A-Z0-9_]+-[1-9][0-9]*)(?![A-Za-z0-9_])"),
            closing=re.compile(_CLOSING + r":?\s+$", re.IGNORECASE),
            keys=frozenset(keys),
        )
    if name == "github":
        return TicketPattern(
            "github",
            re.compile(r"(?<![\w/#-])((?:[\w.-]+/[\w.-]+)?#[1-9][0-9]*|GH-[1-9][0-9]*)(?![\w-])"),
            closing=re.compile(_CLOSING + r":?\s+$", re.IGNORECASE),
        )
    if name == "trac":
        return TicketPattern(
            "trac",
            re.compile(r"\b" + _TRAC_VERBS + r":?\s+(#[1-9][0-9]*)\b", re.IGNORECASE),
            closing=re.compile(r"\b(?:fix(?:e[sd])?|close[sd]?)\b:?\s+$", re.IGNORECASE),
        )
    raise ConfigError(f"unknown ticket preset {name!r}; known: {', '.join(PRESETS)}")


def parse_ticket_spec(spec: str) -> list[TicketPattern]:
    """`jira:PAY,OPS,github` → jira limited to PAY and OPS, and github."""
    patterns: list[tuple[str, list[str]]] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item or item == TICKETS_NO_INHERIT:  # not a pattern: read by `inherits_tickets`
            continue
        name, _, first_key = item.partition(":")
        if name in PRESETS or _ == ":":
            patterns.append((name, [first_key] if first_key else []))
        elif patterns and re.fullmatch(r"[A-Z][A-Z0-9_]+", item):
            patterns[-1][1].append(item)
        else:
            raise ConfigError(
                f"ticket spec {spec!r}: {item!r} is neither a preset ({', '.join(PRESETS)}), "
                f"{TICKETS_NO_INHERIT!r} nor an upper-case Jira project key"
            )
    for name, keys in patterns:
        for key in keys:
            if not re.fullmatch(r"[A-Z][A-Z0-9_]+", key):
                raise ConfigError(f"ticket spec {spec!r}: {key!r} is not a Jira project key")
        if keys and name != "jira":
            raise ConfigError(f"ticket spec {spec!r}: only jira takes project keys")
    return [_preset(name, keys) for name, keys in patterns]


_MERGE_BRANCH: Final = re.compile(
    r"^Merge (?:(?:remote-tracking )?branch '([^']+)'|pull request #\d+ from (\S+)"
    r"|branch \"([^\"]+)\")"
)


class TicketMatcher:
    def __init__(self, patterns: Sequence[TicketPattern], *, branches: bool = True) -> None:
        self.patterns = tuple(patterns)
        self.branches = branches

    def find(self, subject: str, body: str) -> tuple[TicketRef, ...]:
        found: dict[tuple[str, str], TicketRef] = {}
        sources = [(TicketSource.SUBJECT, subject), (TicketSource.BODY, body)]
        if self.branches:
            merge = _MERGE_BRANCH.match(subject)
            if merge:
                branch = next(g for g in merge.groups() if g)
                sources.append((TicketSource.BRANCH, branch.replace("_", " ").replace("/", " ")))
        for source, text in sources:
            for pattern in self.patterns:
                if source is TicketSource.BRANCH and pattern.keys:
                    # Branches are often lower-case (feature/pay-12-fix); with an allow-list
                    # of project keys, upper-casing cannot invent a ticket.
                    text = text.upper()
                for ref in pattern.find(text, source):
                    key = (ref.system, ref.key)
                    if key not in found or (ref.closes and not found[key].closes):
                        found[key] = ref
        return tuple(found.values())
