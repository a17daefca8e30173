"""How controls name things in their reasons: commits, lists, counts.

Reasons are read by a person in a CI log, so they name the offending commit (short SHA
and subject), path, reviewer or finding, and keep long lists short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final, Generic, TypeVar, overload

from changeproof.domain.decisions import EvidenceRef
from changeproof.domain.releases import Commit

__all__ = [
    "MAX_EVIDENCE",
    "MAX_NAMED",
    "Refs",
    "capped",
    "commit_label",
    "counted",
    "each",
    "listing",
    "short",
]

MAX_NAMED: Final = 10
"""Items a reason names before it says "and N more"."""

MAX_EVIDENCE: Final = 500
"""Evidence references a result keeps; one last reference says how many were left out."""

_MAX_SUBJECT: Final = 72


def short(sha: str) -> str:
    return sha[:7]


def commit_label(commit: Commit) -> str:
    """`1a2b3c4 "Add the login form"`: how every control names a commit."""
    subject = commit.subject.strip() or "(no subject)"
    if len(subject) > _MAX_SUBJECT:
        subject = subject[: _MAX_SUBJECT - 1] + "…"
    return f'{short(commit.sha)} "{subject}"'


def listing(
    items: Sequence[str], separator: str = ", ", last: str = " and ", limit: int = MAX_NAMED
) -> str:
    """`a, b and c`, or `a, b, … and 4 more` past `limit` items."""
    if len(items) > limit:
        return f"{separator.join(items[:limit])}{separator}and {len(items) - limit} more"
    if len(items) <= 1:
        return "".join(items)
    return f"{separator.join(items[:-1])}{last}{items[-1]}"


def counted(n: int, word: str, words: str | None = None) -> str:
    """`1 commit`, `3 commits`; give `words` when the plural is not word + "s"."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def each(n: int, word: str, words: str | None = None) -> str:
    """`the commit` for one, `each of the 3 commits` for more."""
    return f"the {word}" if n == 1 else f"each of the {counted(n, word, words)}"


_T = TypeVar("_T")


class Refs(Sequence[EvidenceRef], Generic[_T]):
    """References to `items`, each made only when first read: a control may look at
    thousands of commits or reviews, and `capped` reads only the ones a result keeps."""

    __slots__ = ("_items", "_made", "_make")

    def __init__(self, items: Sequence[_T], make: Callable[[_T], EvidenceRef]) -> None:
        self._items = items
        self._make = make
        self._made: dict[int, EvidenceRef] = {}

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[EvidenceRef]:
        return map(self._ref, range(len(self._items)))

    @overload
    def __getitem__(self, index: int) -> EvidenceRef: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[EvidenceRef, ...]: ...

    def __getitem__(self, index: int | slice) -> EvidenceRef | tuple[EvidenceRef, ...]:
        if isinstance(index, slice):
            return tuple(map(self._ref, range(*index.indices(len(self._items)))))
        return self._ref(index)

    def _ref(self, index: int) -> EvidenceRef:
        if index < 0:
            index += len(self._items)
        ref = self._made.get(index)
        if ref is None:
            ref = self._made[index] = self._make(self._items[index])
        return ref


def capped(*parts: Iterable[EvidenceRef], limit: int = MAX_EVIDENCE) -> tuple[EvidenceRef, ...]:
    """At most `limit` references, from each part in turn, the last saying how many more
    there were. A part that is a sequence is sliced, not walked: `Refs` make only those kept."""
    kept: list[EvidenceRef] = []
    left_out = 0
    for part in parts:
        if isinstance(part, Sequence):
            room = limit - len(kept)
            kept.extend(part[:room])
            left_out += max(len(part) - room, 0)
            continue
        for ref in part:
            if len(kept) < limit:
                kept.append(ref)
            else:
                left_out += 1
    if left_out:
        kept.append(EvidenceRef("omitted", str(left_out), f"{left_out} more not listed"))
    return tuple(kept)
