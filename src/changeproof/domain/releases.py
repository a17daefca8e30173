"""Releases: a service's commit range, with who wrote what and which tickets asked for it."""

from __future__ import annotations

import hashlib
import json
import json.encoder
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Final

from pydantic import StrictBool, StrictInt

from changeproof.domain.canonical import CanonicalObject, JsonValue
from changeproof.domain.errors import UsageError
from changeproof.domain.payloads import Document, EventPayload

__all__ = [
    "COMMIT_RECORDED",
    "RELEASE_CREATED",
    "Commit",
    "CommitData",
    "CommitRecorded",
    "Identity",
    "PathChange",
    "Person",
    "RangeStart",
    "ReleaseCreated",
    "ReleaseRef",
    "TicketRef",
    "TicketSource",
]

COMMIT_RECORDED: Final = "commit.recorded"
_MAX_SAFE_INT: Final = 2**53 - 1  # as canonical JSON allows: I-JSON (RFC 7493)
_str: Final = json.encoder.encode_basestring  # json.dumps(ensure_ascii=False) for a str
RELEASE_CREATED: Final = "release.created"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True, slots=True)
class ReleaseRef:
    """`SERVICE/NAME`, the way a release is named everywhere."""

    service: str
    name: str

    @classmethod
    def parse(cls, text: str) -> ReleaseRef:
        service, slash, name = text.partition("/")
        if not slash:
            raise UsageError(f"release {text!r} must be written SERVICE/NAME")
        return cls.of(service, name)

    @classmethod
    def of(cls, service: str, name: str) -> ReleaseRef:
        for what, value in (("service", service), ("release name", name)):
            if not _NAME.fullmatch(value):
                raise UsageError(
                    f"{what} {value!r} must be 1-100 letters, digits, '.', '_' or '-', "
                    "starting with a letter or digit"
                )
        return cls(service, name)

    def __str__(self) -> str:
        return f"{self.service}/{self.name}"


class RangeStart(StrEnum):
    """Where a release's range starts, and why there."""

    GIVEN = "given"  # --from
    ROOT = "root"  # the repository's first commit
    LAST_CREATED = "last-created"  # where the service's previous release ended


@dataclass(frozen=True, slots=True)
class ReleaseCreated(EventPayload):
    """A release: its range FROM..TO in a repository, and its commits, oldest first."""

    TYPE: ClassVar[str] = RELEASE_CREATED

    service: str
    name: str
    repository: str | None  # the origin's URL, without credentials
    from_ref: str | None
    to_ref: str
    from_sha: str | None  # None: from the root
    to_sha: str
    from_source: RangeStart
    ancestor: StrictBool  # FROM is an ancestor of TO
    commits: tuple[str, ...]

    @property
    def ref(self) -> ReleaseRef:
        return ReleaseRef(self.service, self.name)


@dataclass(frozen=True, slots=True)
class Identity(Document):
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Person(Document):
    """An author or committer: who, and when by their own clock (ISO 8601 with offset)."""

    name: str
    email: str
    time: str


class TicketSource(StrEnum):
    SUBJECT = "subject"
    BODY = "body"
    BRANCH = "branch"


@dataclass(frozen=True, slots=True)
class TicketRef(Document):
    key: str  # PROJ-123, #123, owner/repo#123
    system: str  # the pattern's name: jira, github, trac, or a configured one
    source: TicketSource
    closes: StrictBool = False  # named with a closing keyword (Fixes #12, Closes PROJ-3)


@dataclass(frozen=True, slots=True)
class PathChange(Document):
    path: str
    added: StrictInt | None  # None for binary files, as `git log --numstat` prints "-"
    deleted: StrictInt | None
    old_path: str | None = None  # set when git detected a rename


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    co_authors: tuple[Identity, ...]
    subject: str
    message: str
    paths: tuple[PathChange, ...]
    tickets: tuple[TicketRef, ...]
    reverts: str | None = None

    @property
    def merge(self) -> bool:
        return len(self.parents) > 1


@dataclass(frozen=True, slots=True)
class CommitRecorded(EventPayload):
    """A commit as `release create` read it from git: who wrote and committed it, what it
    changed, which tickets it names, and whether it is a merge or a revert."""

    # The busiest event type (one per commit of a release, 100,000 for a large one), so it
    # encodes from its typed fields (`to_data`, `record_json`) rather than through the
    # adapter: the same text, as tests/unit/domain/test_releases.py pins.

    TYPE: ClassVar[str] = COMMIT_RECORDED

    sha: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    co_authors: tuple[Identity, ...]
    subject: str
    message: str
    merge: StrictBool
    paths: tuple[PathChange, ...]
    tickets: tuple[TicketRef, ...]
    reverts: str | None

    @classmethod
    def of(cls, c: Commit) -> CommitRecorded:
        return cls(
            c.sha,
            c.parents,
            c.author,
            c.committer,
            c.co_authors,
            c.subject,
            c.message,
            c.merge,
            c.paths,
            c.tickets,
            c.reverts,
        )

    @property
    def commit(self) -> Commit:
        return Commit(
            self.sha,
            self.parents,
            self.author,
            self.committer,
            self.co_authors,
            self.subject,
            self.message,
            self.paths,
            self.tickets,
            self.reverts,
        )

    def to_data(self) -> CommitData:
        """The event's data, encoded once, with the payload it came from."""
        return CommitData(self, Document.to_data(self))

    @classmethod
    def from_data(cls, data: Mapping[str, JsonValue], *, where: str = "") -> CommitRecorded:
        if isinstance(data, CommitData):  # recorded just now: the payload is at hand
            return data.payload
        # Two-argument super: a slots dataclass is a new class, with no cell for super().
        return super(CommitRecorded, cls).from_data(data, where=where)

    def record_json(self) -> str:
        """The data as the projection stores it: sorted keys, no whitespace, raw UTF-8."""
        return _commit_json(self)

    def record_digest(self) -> str:
        """A change detector for a recorded commit: equal digests mean equal facts.

        Not a signed or ledger hash (those use RFC 8785), so the fast encoding is enough.
        """
        return hashlib.sha256(_commit_json(self).encode("utf-8")).hexdigest()


class CommitData(CanonicalObject):
    """`CommitRecorded.to_data()`: the event's data, and the payload it was built from,
    which `from_data` gives back."""

    __slots__ = ("payload",)

    def __init__(self, payload: CommitRecorded, items: Mapping[str, JsonValue]) -> None:
        # Encoded from the payload's typed fields rather than by CanonicalObject's checks on
        # generic text (twice as fast, 100,000 times per large release): the same text, and
        # RFC 8785 as it is, since every key is ASCII and `_count` checks every number.
        dict.__init__(self, items)
        self.payload = payload
        self.text = _commit_json(payload)
        self.canonical = self.text.encode("utf-8")  # a lone surrogate raises, as it would there


# Keys in sorted order, as json.dumps(sort_keys=True) writes them: one function per object.
def _commit_json(c: CommitRecorded) -> str:
    return "".join(
        (
            '{"author":',
            _person_json(c.author),
            ',"co_authors":[',
            ",".join(
                [
                    '{"email":' + _str(i.email) + ',"name":' + _str(i.name) + "}"
                    for i in c.co_authors
                ]
            ),
            '],"committer":',
            _person_json(c.committer),
            ',"merge":',
            "true" if c.merge else "false",
            ',"message":',
            _str(c.message),
            ',"parents":[',
            ",".join([_str(p) for p in c.parents]),
            '],"paths":[',
            ",".join([_path_json(p) for p in c.paths]),
            '],"reverts":',
            "null" if c.reverts is None else _str(c.reverts),
            ',"sha":',
            _str(c.sha),
            ',"subject":',
            _str(c.subject),
            ',"tickets":[',
            ",".join([_ticket_json(t) for t in c.tickets]),
            "]}",
        )
    )


def _person_json(p: Person) -> str:
    return '{"email":' + _str(p.email) + ',"name":' + _str(p.name) + ',"time":' + _str(p.time) + "}"


def _path_json(p: PathChange) -> str:
    old = "null" if p.old_path is None else _str(p.old_path)
    return (
        f'{{"added":{_count(p.added)},"deleted":{_count(p.deleted)},"old_path":{old},'
        f'"path":{_str(p.path)}}}'
    )


def _ticket_json(t: TicketRef) -> str:
    closes = "true" if t.closes else "false"
    return (
        f'{{"closes":{closes},"key":{_str(t.key)},"source":{_str(t.source)},'
        f'"system":{_str(t.system)}}}'
    )


def _count(value: int | None) -> str:
    if value is None:
        return "null"
    if not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        raise ValueError(f"integer {value} is outside the I-JSON safe range")
    return str(value)
