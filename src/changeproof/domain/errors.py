"""The one exception tree; each class says what the user can do about it.

ChangeproofError            exit 70 (a bug unless a subclass says otherwise)
├── UsageError              exit 2  the command line is wrong
├── ConfigError             exit 2  the instance or its configuration is wrong or missing
├── InputError              exit 2  a file or document given to us is malformed
│   └── TooLargeError       exit 2  … or over its size limit (the API's 413)
├── NotFoundError           exit 2  a named thing does not exist
├── ConflictError           exit 2  the request conflicts with what is recorded
├── PermissionDeniedError   exit 2  this actor may not do this (e.g. grant themselves a role)
├── UnavailableError        exit 3  a store or service we need cannot be reached
└── IntegrityError          exit 4  recorded data was tampered with or a signature/digest fails
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Final

__all__ = [
    "PLAIN",
    "ChangeproofError",
    "ConfigError",
    "ConflictError",
    "Field",
    "InputError",
    "IntegrityError",
    "Names",
    "NotFoundError",
    "Operation",
    "PermissionDeniedError",
    "TooLargeError",
    "UnavailableError",
    "UsageError",
    "fields_in",
    "operation",
    "operations_in",
    "render",
]


# Services speak no interface's language: an error names the request field it is about and
# the operation a person can run next as markers, which each interface renders its own way
# (the CLI as `--flag` and `changeproof noun verb`, an HTTP API as a JSON pointer and an
# endpoint). A marker is a unit separator and a nonce drawn per process: a file name or payload
# field quoted in a message may hold unit separators, never this process's nonce, so it cannot
# forge a flag or a command and is shown as typed.
_MARK: Final = f"\x1f{secrets.token_hex(8)}"
_MARKER: Final = re.compile(f"{_MARK}([fo]):([^\x1f]*){_MARK}")


@dataclass(frozen=True, slots=True)
class Field:
    """A request field by its domain name (`status`, `pipeline_run`); in an f-string it
    becomes a marker for the interface to render."""

    name: str

    def __format__(self, spec: str) -> str:
        return f"{_MARK}f:{self.name}{_MARK}"

    def __str__(self) -> str:
        return format(self)


_PART: Final = "\x1e"  # between an operation's words, arguments and options
_VALUE: Final = "\x1d"  # between an option's field and its value


@dataclass(frozen=True, slots=True)
class Operation:
    """Something a person can do next, in domain words (`ledger verify`, `change review`),
    with its arguments (`CHG-4`) and options by field (`role=admin`, or `upgrade` with no
    value); in an f-string it becomes a marker."""

    words: str
    arguments: tuple[str, ...] = ()
    options: tuple[tuple[str, str | None], ...] = ()

    def __format__(self, spec: str) -> str:
        options = (f"{name}{_VALUE}{value or ''}" for name, value in self.options)
        return f"{_MARK}o:{_PART.join((self.words, *self.arguments, *options))}{_MARK}"

    def __str__(self) -> str:
        return format(self)

    @classmethod
    def parse(cls, marker: str) -> Operation:
        words, *rest = marker.split(_PART)
        options = (part.split(_VALUE, 1) for part in rest if _VALUE in part)
        return cls(
            words,
            tuple(part for part in rest if _VALUE not in part),
            tuple((name, value or None) for name, value in options),
        )


def operation(words: str, *arguments: object, **options: object) -> Operation:
    """`operation("actor grant", "bob", role="admin")`; an option given None is a flag."""
    return Operation(
        words,
        tuple(str(a) for a in arguments),
        tuple((name, None if value is None else str(value)) for name, value in options.items()),
    )


@dataclass(frozen=True, slots=True)
class Names:
    """How an interface names fields and operations."""

    field: Callable[[str], str]
    operation: Callable[[Operation], str]


def _plain_operation(step: Operation) -> str:
    options = (name if value is None else f"{name}={value}" for name, value in step.options)
    return f"`{' '.join((step.words, *step.arguments, *options))}`"


# The interface-neutral rendering: a field by its name, an operation in backquotes.
PLAIN: Final = Names(field=lambda name: name, operation=_plain_operation)


def render(text: str, names: Names) -> str:
    def one(match: re.Match[str]) -> str:
        kind, value = match.groups()
        return names.field(value) if kind == "f" else names.operation(Operation.parse(value))

    return _MARKER.sub(one, text)


def fields_in(text: str) -> list[str]:
    """The fields `text` names, in order (an operation's options included)."""
    found: list[str] = []
    for kind, value in _MARKER.findall(text):
        if kind == "f":
            found.append(value)
        else:
            found.extend(name for name, _ in Operation.parse(value).options)
    return found


def operations_in(text: str) -> list[Operation]:
    """The operations `text` names, in order."""
    return [Operation.parse(value) for kind, value in _MARKER.findall(text) if kind == "o"]


class ChangeproofError(Exception):
    """Root of every error changeproof raises on purpose.

    `template` and `hint_template` hold the field and operation markers; `message` and
    `hint()` are the interface-neutral rendering, `rendered(names)` an interface's own.
    """

    exit_code: ClassVar[int] = 70

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(render(message, PLAIN))
        self.template = message
        self.hint_template = hint

    @property
    def message(self) -> str:
        return render(self.template, PLAIN)

    def hint(self) -> str | None:
        """A next step a person can take, when there is one."""
        return None if self.hint_template is None else render(self.hint_template, PLAIN)

    @property
    def fields(self) -> list[str]:
        """The request fields the error is about, first the one it is mostly about."""
        return fields_in(self.template)

    def rendered(self, names: Names) -> tuple[str, str | None]:
        """The message and hint as the interface `names` says them."""
        hint = None if self.hint_template is None else render(self.hint_template, names)
        return render(self.template, names), hint


class UsageError(ChangeproofError):
    exit_code = 2


class ConfigError(ChangeproofError):
    exit_code = 2


class InputError(ChangeproofError):
    exit_code = 2


class TooLargeError(InputError):
    """A file or body over its size limit: `limit` bytes, for `what` ("evidence file")."""

    problem: ClassVar[str] = "too-large"  # the API's problem type, not invalid-input

    def __init__(self, message: str, *, limit: int, what: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.limit = limit
        self.what = what


class NotFoundError(ChangeproofError):
    exit_code = 2


class ConflictError(ChangeproofError):
    exit_code = 2


class PermissionDeniedError(ChangeproofError):
    exit_code = 2


class UnavailableError(ChangeproofError):
    exit_code = 3


class IntegrityError(ChangeproofError):
    """Recorded data does not match what was signed; `first_bad_seq` pinpoints it when known."""

    exit_code = 4

    def __init__(
        self, message: str, *, first_bad_seq: int | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.first_bad_seq = first_bad_seq
