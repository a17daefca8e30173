"""Options every command shares, and how the CLI finds its instance and actor."""

from __future__ import annotations

import getpass
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from changeproof.bootstrap import Instance, open_instance
from changeproof.services.instance import resolve_home

__all__ = ["ActorOption", "HomeOption", "Output", "OutputOption", "instance_at", "resolve_actor"]


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
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        help="Who is acting (default: $CHANGEPROOF_ACTOR, then the OS user).",
        show_default=False,
    ),
]


def home_path(home: Path | None) -> Path:
    return resolve_home(home, dict(os.environ), Path.cwd())


def instance_at(home: Path | None) -> Instance:
    return open_instance(home_path(home))


def resolve_actor(actor: str | None) -> str:
    return actor or os.environ.get("CHANGEPROOF_ACTOR") or getpass.getuser()
