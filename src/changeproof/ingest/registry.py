"""The reader registry: every evidence reader is a function declared here by decorator.

    @reader(
        "junit",
        command="test-results",
        kind=EvidenceKind.TEST_RUN,
        title="JUnit XML",
        formats=DIALECTS,
        many_files=True,
        ...
    )
    def junit_reader(sources: Sequence[Source], options: ReadOptions) -> Reading: ...

Each reader declares what `attest` needs to offer it and to hand it files: the command it
answers to (`attest test-results`), the evidence kind it makes, the format names users give
(`--format pytest-json`) and that end up recorded, how it recognises its files, its size
limit, whether the files of one call are one reading, and the options it reads. The `attest`
commands, the reader table of docs/evidence.md and the evidence services' dispatch are all
made from this registry, never written apart from it; adding a reader touches its own
module, one import in `changeproof.ingest.readers` and its tests.

Registering must stay cheap: a reader module imports its parser's heavy dependencies
(defusedxml, cryptography, pydantic models) inside its functions, so the CLI can list the
commands, formats and options without loading a single parser.

Dispatch (`plan`): a format given by name picks the reader that declares it; otherwise each
file goes to the first reader of the command whose `recognises` says yes, else to the
command's fallback reader (the one that declares no `recognises`), whose refusal is the one
people get for a file that is nothing the command reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from changeproof.domain.errors import InputError
from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.ingest.errors import ReadError

__all__ = [
    "REGISTRY",
    "Batch",
    "Option",
    "ReadOptions",
    "ReaderSpec",
    "Source",
    "commands",
    "plan",
    "reader",
    "reader_for",
    "readers",
    "starts_like_json_object",
]


class Option(StrEnum):
    """What a reader may be given beyond its files; the interfaces offer only what it takes."""

    PUBLIC_KEYS = "public_keys"  # PEM keys a signature must verify against
    REQUIRE_SIGNATURE = "require_signature"  # refuse what no given key signed
    # The file is a webhook delivery whose signature the service checks on the raw bytes,
    # before the reader sees them, and records whether it did.
    WEBHOOK_SIGNATURE = "webhook_signature"


@dataclass(frozen=True, slots=True)
class Source:
    """One file handed to a reader: the name its errors use, and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class ReadOptions:
    format: str | None = None  # the format named by the person, when they named one
    public_keys: tuple[bytes, ...] = ()
    require_signature: bool = False


Read = Callable[[Sequence[Source], ReadOptions], Reading]
"""A reader: the files of one reading (exactly one unless `many_files`) to that reading."""


@dataclass(frozen=True, slots=True)
class ReaderSpec:
    name: str  # the reader's id: "junit", "pytest-json"
    command: str  # the `attest` command it answers to: "test-results"
    kind: EvidenceKind
    title: str  # what it reads, as people name it: "JUnit XML"
    summary: str  # one line: the formats and variants it accepts
    formats: tuple[str, ...]  # names a person may give to choose it; may be empty
    records: tuple[str, ...]  # the `format`s its readings record: "junit/DIALECT"
    read: Read
    max_bytes: int | None  # its own cap under the instance's; None: the instance's alone
    many_files: bool  # every file of one call is one reading (a test run in several files)
    options: frozenset[Option]
    recognises: Callable[[bytes], bool] | None  # None: the fallback reader of its command


REGISTRY: dict[str, ReaderSpec] = {}


def reader(
    name: str,
    *,
    command: str,
    kind: EvidenceKind,
    title: str,
    summary: str,
    records: Sequence[str],
    formats: Sequence[str] = (),
    max_bytes: int | None = None,
    many_files: bool = False,
    options: frozenset[Option] = frozenset(),
    recognises: Callable[[bytes], bool] | None = None,
) -> Callable[[Read], Read]:
    def register(read: Read) -> Read:
        if name in REGISTRY:
            raise ValueError(f"reader {name!r} is registered twice")
        others = [r for r in REGISTRY.values() if r.command == command]
        for other in others:
            if other.kind is not kind:
                raise ValueError(f"command {command!r} makes {other.kind}, not {kind}")
            if other.many_files != many_files:
                raise ValueError(f"the readers of {command!r} disagree on many_files")
            if clash := set(other.formats) & set(formats):
                raise ValueError(f"readers {other.name!r} and {name!r} share formats {clash}")
            if recognises is None and other.recognises is None:
                raise ValueError(f"command {command!r} has two fallback readers")
        if isinstance(formats, str) or isinstance(records, str):
            raise TypeError(f"reader {name!r}: formats and records are tuples of names")
        if max_bytes is not None and max_bytes < 1:
            raise ValueError(f"reader {name!r}: max_bytes must be positive")
        REGISTRY[name] = ReaderSpec(
            name,
            command,
            kind,
            title,
            summary,
            tuple(formats),
            tuple(records),
            read,
            max_bytes,
            many_files,
            options,
            recognises,
        )
        return read

    return register


def readers() -> list[ReaderSpec]:
    """Every registered reader, by command, then by name.

    Sorted rather than in registration order: which module a process happens to import
    first must not change the CLI's help, the docs' table or which reader is asked first.
    """
    return sorted(REGISTRY.values(), key=lambda spec: (spec.command, spec.name))


def commands() -> dict[str, list[ReaderSpec]]:
    """The `attest` commands, sorted, each with its readers (as `readers` orders them)."""
    found: dict[str, list[ReaderSpec]] = {}
    for spec in readers():
        found.setdefault(spec.command, []).append(spec)
    return found


def reader_for(command: str, format: str) -> ReaderSpec:
    """The reader of `command` that declares `format`; InputError naming them when none does."""
    specs = _readers_of(command)
    for spec in specs:
        if format in spec.formats:
            return spec
    known = [f for spec in specs for f in spec.formats]
    raise InputError(
        f"unknown format {format!r} for {command}",
        hint=f"the formats are {', '.join(known)}; or name none to recognise it from the content"
        if known
        else "it reads one format, recognised from the content: name none",
    )


@dataclass(frozen=True, slots=True)
class Batch:
    """Files one reader reads as one reading: indexes into the sources given to `plan`."""

    reader: ReaderSpec
    indexes: tuple[int, ...]


def plan(command: str, sources: Sequence[Source], format: str | None = None) -> list[Batch]:
    """Which reader reads which files, in the order given; every size checked first."""
    specs = _readers_of(command)
    if format is not None:
        chosen = [reader_for(command, format)] * len(sources)
    else:
        chosen = [_recognise(specs, source) for source in sources]
    for spec, source in zip(chosen, sources, strict=True):
        if spec.max_bytes is not None and len(source.data) > spec.max_bytes:
            raise ReadError(
                source.name,
                f"is larger than the {spec.max_bytes:,}-byte limit of the {spec.title} reader",
            )
    if not specs[0].many_files:
        return [Batch(spec, (n,)) for n, spec in enumerate(chosen)]
    used = list(dict.fromkeys(chosen))
    if len(used) > 1:
        first, other = used[0], used[1]
        one = sources[chosen.index(first)].name
        two = sources[chosen.index(other)].name
        raise ReadError(
            two,
            f"is {other.title}, but {one} is {first.title}: the files of one {command} call "
            "are one reading, so they must be of one format",
            hint="record each format with its own call",
        )
    return [Batch(used[0], tuple(range(len(sources))))] if used else []


def starts_like_json_object(data: bytes) -> bool:
    """True when the first thing in `data`, past a byte-order mark and blanks, is `{`."""
    head = data[:4096].removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    return head.startswith(b"{")


def _readers_of(command: str) -> list[ReaderSpec]:
    specs = commands().get(command)
    if not specs:
        raise InputError(
            f"no evidence reader for {command!r}",
            hint=f"the evidence kinds are {', '.join(commands())}",
        )
    return specs


def _recognise(specs: list[ReaderSpec], source: Source) -> ReaderSpec:
    for spec in specs:
        if spec.recognises is not None and spec.recognises(source.data):
            return spec
    fallback = [spec for spec in specs if spec.recognises is None]
    return fallback[0] if fallback else specs[0]
