"""Options every command shares, and how the CLI finds its instance and who is acting.

Who is acting, for every command that records (`acting_actor`):

- `CHANGEPROOF_TOKEN` set (even empty): the actor of that token, which must be valid. A
  `--actor`/`--as` or `CHANGEPROOF_ACTOR` naming anyone else is refused; naming the same
  actor (by name, email or login) is allowed, so pipelines may keep setting both.
- otherwise, as given: `--actor`/`--as`, else `CHANGEPROOF_ACTOR`, else the OS user.
"""

from __future__ import annotations

import getpass
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from changeproof.cli.remote import refuse_local
from changeproof.domain.errors import Field, PermissionDeniedError

if TYPE_CHECKING:
    from changeproof.bootstrap import Instance

__all__ = [
    "TOKEN_VARIABLE",
    "ActorOption",
    "AsOption",
    "HomeOption",
    "Output",
    "OutputOption",
    "acting_actor",
    "instance_at",
    "resolve_actor",
]

TOKEN_VARIABLE: Final = "CHANGEPROOF_TOKEN"  # noqa: S105 - a variable's name
ACTOR_VARIABLE: Final = "CHANGEPROOF_ACTOR"
# How most commands spell where the acting identity comes from, for the token check's error.
ACTING: Final = "--actor/--as"


class Output(StrEnum):
    text = "text"
    json = "json"


HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Instance folder (default: $CHANGEPROOF_HOME, then ./.changeproof).",
        show_default=False,
    ),
]
OutputOption = Annotated[Output, typer.Option("--output", "-o", help="text or json.")]
_ACTING_HELP = (
    "Who is acting (default: the actor of the token in $CHANGEPROOF_TOKEN, else "
    "$CHANGEPROOF_ACTOR, then the OS user). With a token, only the token's own actor."
)
ActorOption = Annotated[
    str | None, typer.Option("--actor", "--as", help=_ACTING_HELP, show_default=False)
]
# For commands whose --actor names someone else (the actor a token is for).
AsOption = Annotated[str | None, typer.Option("--as", help=_ACTING_HELP, show_default=False)]


def home_path(home: Path | None) -> Path:
    from changeproof.services.instance import resolve_home  # with the store, when needed

    return resolve_home(home, dict(os.environ), Path.cwd())


def instance_at(home: Path | None) -> Instance:
    refuse_local()  # in server mode no command opens a store of its own
    # The store (SQLAlchemy and the rest) loads only for a command that opens one.
    from changeproof.bootstrap import open_instance

    return open_instance(home_path(home))


def resolve_actor(actor: str | None) -> str:
    """Who says they are acting, unauthenticated: only for `init`, which has no tokens to
    check yet. Every other command calls `acting_actor`."""
    return actor or os.environ.get(ACTOR_VARIABLE) or getpass.getuser()


def acting_actor(instance: Instance, claimed: str | None, *, option: str | Field = ACTING) -> str:
    """Who is acting in `instance`: the token's actor when CHANGEPROOF_TOKEN is set (a
    `claimed` identity naming anyone else is refused), else as `resolve_actor` says.

    `option` is the field the command takes the acting identity from, for the error message.
    """
    token = os.environ.get(TOKEN_VARIABLE)
    if token is None:
        return resolve_actor(claimed)
    if claimed is None and os.environ.get(ACTOR_VARIABLE):
        claimed, option = os.environ[ACTOR_VARIABLE], ACTOR_VARIABLE
    try:
        return instance.tokens.act_as(token, claimed, claim=option)
    except PermissionDeniedError as e:
        # Say where the token came from; the service never quotes the token itself.
        raise PermissionDeniedError(f"{TOKEN_VARIABLE}: {e.template}", hint=e.hint_template) from e
