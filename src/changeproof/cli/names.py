"""How the CLI names what services name in domain words: a field as its flag, an operation
as the command that does it. Every field and operation a service names must map to a flag
or command that exists (tests/e2e/test_error_names.py)."""

from __future__ import annotations

from typing import Final

from changeproof.domain.errors import Names, Operation

__all__ = ["CLI_NAMES", "command_line", "flag"]

# Where a flag is not the field's name in kebab case.
_FLAGS: Final = {
    "environment": "--env",
    "actor": "--actor",
    "home": "--home",
    "scopes": "--scope",
    "repository": "--repo",
}


def flag(field: str) -> str:
    return _FLAGS.get(field, "--" + field.replace("_", "-"))


def command_line(step: Operation) -> str:
    options = (
        flag(name) if value is None else f"{flag(name)} {value}" for name, value in step.options
    )
    return f"`changeproof {' '.join((step.words, *step.arguments, *options))}`"


CLI_NAMES: Final = Names(field=flag, operation=command_line)
