"""An instance with one actor per kind of caller and a token each, for the API tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from changeproof.api.app import create_app
from changeproof.bootstrap import open_instance
from tests.conftest import Cli

# Who calls, and what their token may do: the rows of the authorization matrix.
CALLERS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "record", "approve", "govern", "admin"}),
    "approver": frozenset({"read", "record", "approve", "govern", "admin"}),
    "pipeline": frozenset({"read", "record"}),
    "reader": frozenset({"read"}),  # the approver's own token, narrowed to read
    "auditor": frozenset({"read"}),  # created with every scope; the role narrows it
}


@dataclass(frozen=True)
class Callers:
    tokens: dict[str, str]

    def auth(self, caller: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[caller]}"}


def _token(cli: Cli, home: Path, *args: str) -> str:
    done = cli("token", "create", *args, "--home", home, "-o", "json")
    assert done.code == 0, done.err
    text = json.loads(done.out)["token"]
    assert isinstance(text, str)
    return text


def add_callers(cli: Cli, home: Path) -> Callers:
    for args in (
        ["root", "--role", "admin", "--as", "setup"],
        ["ana", "--role", "approver", "--email", "ana@example.com", "--as", "root"],
        ["ci", "--pipeline", "--as", "root"],
        ["audrey", "--role", "auditor", "--as", "root"],
    ):
        done = cli("actor", "add", *args, "--home", home)
        assert done.code == 0, done.err
    return Callers(
        {
            "admin": _token(cli, home, "--actor", "root", "--as", "root"),
            "approver": _token(cli, home, "--actor", "ana", "--as", "ana"),
            "pipeline": _token(cli, home, "--actor", "ci", "--as", "root"),
            "reader": _token(cli, home, "--actor", "ana", "--scope", "read", "--as", "ana"),
            "auditor": _token(cli, home, "--actor", "audrey", "--as", "audrey"),
        }
    )


# The webhook secrets an instance with `add_hooks` expects; tests sign deliveries with them.
GITHUB_SECRET = "gh-hook-secret-7f3a"  # noqa: S105 - a test's own secret
GITLAB_TOKEN = "gl-hook-token-91c2"  # noqa: S105
STANDARD_KEY = b"standard-webhooks-key-0123456789"
STANDARD_SECRET = "whsec_" + base64.b64encode(STANDARD_KEY).decode()
ROTATED_KEY = b"the-key-before-the-rotation-0042"
ROTATED_SECRET = "whsec_" + base64.b64encode(ROTATED_KEY).decode()
HOOK_ACTORS = {"github": "github-hooks", "gitlab": "gitlab-hooks", "standard": "standard-hooks"}


def add_hooks(cli: Cli, home: Path, admin: str | None = None) -> None:
    """[hooks.github], [hooks.gitlab] and [hooks.standard] (two Standard Webhooks secrets, as
    while one is rotated), each recorded as its own pipeline identity, added by `admin` (by
    default a first admin of its own)."""
    if admin is None:
        admin = "hookadmin"
        done = cli("actor", "add", admin, "--role", "admin", "--as", "setup", "--home", home)
        assert done.code == 0, done.err
    for name in HOOK_ACTORS.values():
        done = cli("actor", "add", name, "--pipeline", "--as", admin, "--home", home)
        assert done.code == 0, done.err
    secrets = home / "secrets"
    secrets.mkdir(mode=0o700)
    (secrets / "github").write_text(GITHUB_SECRET + "\n")
    (secrets / "gitlab").write_text(GITLAB_TOKEN + "\n")
    (secrets / "standard").write_text(f"{STANDARD_SECRET}\n{ROTATED_SECRET}\n")
    with (home / "config.toml").open("a", encoding="utf-8") as config:
        config.write(
            '\n[hooks.github]\nactor = "github-hooks"\nsecret_file = "secrets/github"\n'
            '\n[hooks.gitlab]\nactor = "gitlab-hooks"\nsecret_file = "secrets/gitlab"\n'
            '\n[hooks.standard]\nactor = "standard-hooks"\nsecret_file = "secrets/standard"\n'
        )


def github_headers(
    body: bytes, event: str, delivery: str, secret: str = GITHUB_SECRET
) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={signature}",
    }


def standard_headers(
    body: bytes, delivery: str, timestamp: int, key: bytes = STANDARD_KEY
) -> dict[str, str]:
    signed = f"{delivery}.{timestamp}.".encode() + body
    signature = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "webhook-id": delivery,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{signature}",
    }


@contextmanager
def client(home: Path, *, app: FastAPI | None = None) -> Iterator[httpx.Client]:
    """The app over the instance at `home` (or `app`), served by uvicorn on a loopback
    port of its own (in a thread of this process), and an HTTP client for it."""
    app = app or create_app(open_instance(home), close_instance=True)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield http
    finally:
        server.should_exit = True
        thread.join(timeout=10)
