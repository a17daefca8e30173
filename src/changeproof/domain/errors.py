"""The one exception tree; each class says what the user can do about it.

ChangeproofError            exit 70 (a bug unless a subclass says otherwise)
├── UsageError              exit 2  the command line is wrong
├── ConfigError             exit 2  the instance or its configuration is wrong or missing
├── InputError              exit 2  a file or document given to us is malformed
├── NotFoundError           exit 2  a named thing does not exist
├── ConflictError           exit 2  the request conflicts with what is recorded
├── PermissionDeniedError   exit 2  this actor may not do this (e.g. grant themselves a role)
├── UnavailableError        exit 3  a store or service we need cannot be reached
└── IntegrityError          exit 4  recorded data was tampered with or a signature/digest fails
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ChangeproofError",
    "ConfigError",
    "ConflictError",
    "InputError",
    "IntegrityError",
    "NotFoundError",
    "PermissionDeniedError",
    "UnavailableError",
    "UsageError",
]


class ChangeproofError(Exception):
    """Root of every error changeproof raises on purpose."""

    exit_code: ClassVar[int] = 70

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self._hint = hint

    def hint(self) -> str | None:
        """A next step a person can take, when there is one."""
        return self._hint


class UsageError(ChangeproofError):
    exit_code = 2


class ConfigError(ChangeproofError):
    exit_code = 2


class InputError(ChangeproofError):
    exit_code = 2


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
