"""Server mode: with `--server URL` or $CHANGEPROOF_URL, commands call a changeproof server.

The machine then holds no database and no key, only a token ($CHANGEPROOF_TOKEN), and the
server acts as that token's actor: an `--actor`/`--as` naming anyone else is refused, as in
the embedded CLI with a token. A command that has no server form yet refuses to run rather
than open a local store behind the server's back (`instance_at` checks).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

from changeproof.domain.errors import ConfigError, PermissionDeniedError, UsageError

if TYPE_CHECKING:
    from changeproof.client.http import ServerClient

__all__ = ["URL_VARIABLE", "acting_remotely", "refuse_local", "server", "use_server"]

URL_VARIABLE: Final = "CHANGEPROOF_URL"
_TOKEN_VARIABLE: Final = "CHANGEPROOF_TOKEN"  # noqa: S105 - a variable's name

_given: str | None = None


def use_server(url: str | None) -> None:
    """The root command's `--server` (None: $CHANGEPROOF_URL decides)."""
    global _given
    _given = url


def server_url() -> str | None:
    return _given or os.environ.get(URL_VARIABLE) or None


def server() -> ServerClient | None:
    """The server to call, or None to run embedded."""
    url = server_url()
    if url is None:
        return None
    token = os.environ.get(_TOKEN_VARIABLE)
    if not token:
        raise ConfigError(
            f"{url} is a changeproof server, and calling it needs a token: "
            f"set {_TOKEN_VARIABLE} to one of yours",
            hint="an admin of the server creates one with `changeproof token create`",
        )
    from changeproof.client.http import ServerClient  # httpx loads only in server mode

    return ServerClient(url, token)


def acting_remotely(client: ServerClient, claimed: str | None, option: str) -> str:
    """The token's actor; a claimed identity naming anyone else is refused."""
    me = client.get("/tokens/me")
    actor = str(me["actor"])
    if claimed is not None and claimed != actor:
        raise PermissionDeniedError(
            f"{option} {claimed!r}: the server acts as the actor of {_TOKEN_VARIABLE}, "
            f"{actor!r}, never as anyone else",
            hint=f"leave {option} out, or use a token of {claimed!r}",
        )
    return actor


def refuse_local() -> None:
    """A command without a server form, in server mode: fail closed, open nothing."""
    url = server_url()
    if url is not None:
        raise UsageError(
            f"this command does not run against a server yet, and {URL_VARIABLE} "
            f"(or --server) says this machine uses {url}",
            hint=f"run it on the server's machine, or unset {URL_VARIABLE} for a local instance",
        )
