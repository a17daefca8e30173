"""`changeproof serve`: run the REST API over the instance at --home (docs/server.md)."""

from __future__ import annotations

import logging
import os
from typing import Annotated, Final

import typer

from changeproof.cli.options import HomeOption, home_path
from changeproof.domain.errors import UsageError

__all__ = ["serve"]

HOST_VARIABLE: Final = "CHANGEPROOF_SERVER_HOST"
PORT_VARIABLE: Final = "CHANGEPROOF_SERVER_PORT"
WORKERS_VARIABLE: Final = "CHANGEPROOF_SERVER_WORKERS"


def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host", envvar=HOST_VARIABLE, help="The address to listen on (loopback by default)."
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int,
        typer.Option("--port", envvar=PORT_VARIABLE, min=0, max=65535, help="The TCP port."),
    ] = 8800,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            envvar=WORKERS_VARIABLE,
            min=1,
            max=64,
            help="Worker processes. Several share the database; on SQLite they queue on its "
            "one write lock, on PostgreSQL on the ledger head's row lock.",
        ),
    ] = 1,
    home: HomeOption = None,
) -> None:
    """Serve the REST API: the only process that needs the database and the signing key.

    Logs one JSON line per request on standard error (request id, method, path, status,
    actor, outcome, duration); never a header, query string or body.
    """
    import uvicorn

    from changeproof.api.app import HOME_VARIABLE
    from changeproof.bootstrap import open_instance

    resolved = home_path(home).resolve()
    with open_instance(resolved) as instance:  # a missing or old instance fails here, exit 2
        instance.ready()
    if workers > 1 and port == 0:
        raise UsageError("several workers need a fixed --port to share")
    os.environ[HOME_VARIABLE] = str(resolved)  # what each worker's app factory reads
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    uvicorn.run(
        "changeproof.api.app:from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # the app's own request log replaces it
        log_level="info",
        server_header=False,
    )
