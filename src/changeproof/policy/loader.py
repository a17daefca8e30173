"""Loading a policy file in three passes, each error naming the file, line and key to fix.

1. Structure (`policy.yaml_reader`): the bytes are UTF-8 YAML of at most 1 MiB holding one
   mapping of plain values; no anchors or aliases (YAML bombs), no duplicate keys, no tags
   beyond the standard ones. The line of every key is remembered.
2. Schema: the data must fit the Policy model; each pydantic error is put back on the
   line of its key (or the nearest parent that exists in the file).
3. Meaning (`policy.meaning`): every control exists and its parameters fit it, globs can
   match, environments named exist, freeze windows end after they start, and so on.

The policy's digest is the SHA-256 of the RFC 8785 canonical JSON of the validated policy,
so the same policy written with other comments, order or short forms has the same digest
only when it means the same data.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import ValidationError

from changeproof.domain.canonical import JsonValue, canonical_json
from changeproof.domain.errors import InputError, operation
from changeproof.policy.errors import PolicyError, PolicyProblem
from changeproof.policy.meaning import check_meaning
from changeproof.policy.model import Policy
from changeproof.policy.paths import KeyPath, Lines, locate, pydantic_problem
from changeproof.policy.yaml_reader import MAX_POLICY_BYTES, read_yaml

__all__ = [
    "MAX_POLICY_BYTES",
    "LoadedPolicy",
    "PolicyFiles",
    "load_policy",
    "load_policy_file",
    "policy_from_document",
]

_HINT: Final = (
    f"the file's shape: {operation('policy schema')}; a documented example: "
    f"{operation('policy init')}"
)


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    policy: Policy
    digest: str  # sha256 hex of `document`
    document: str  # RFC 8785 canonical JSON of the validated policy
    source: str  # where it came from: a file name, or the ledger entry holding it


def load_policy(data: bytes, source: str) -> LoadedPolicy:
    """Validate a policy file's bytes; PolicyError (exit 2) naming every problem found."""
    document, lines = read_yaml(data, source)
    if not document.keys() & Policy.model_fields.keys():
        # Not a policy with mistakes but another file (a password file, a config): its keys
        # are its contents, so none of them is named.
        raise PolicyError.at(
            source,
            1,
            None,
            "this is not a changeproof policy: its top level has none of a policy's keys "
            f"({', '.join(Policy.model_fields)})",
            hint=_HINT,
        )
    return _validated(document, lines, source)


def policy_from_document(document: Mapping[str, JsonValue], *, source: str) -> LoadedPolicy:
    """Validate a policy recorded as JSON data (e.g. in the ledger); errors have no lines."""
    return _validated(dict(document), {}, source)


def load_policy_file(path: Path) -> LoadedPolicy:
    """Read and validate a policy file; InputError when it cannot be read at all."""
    return load_policy(_read_policy_file(path), str(path))


def _read_policy_file(path: Path) -> bytes:
    """A policy file's bytes (one more than the limit, for `read_yaml` to refuse);
    InputError when it cannot be read at all.

    Only a regular file is read, checked as `services.files.open_input` checks (which this
    layer may not import): stat'ed before the open, opened without blocking, stat'ed again.
    A FIFO or a device would otherwise block or never end.
    """
    try:
        kind = _not_regular(os.stat(path).st_mode)
        if kind is None:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
            with os.fdopen(fd, "rb") as handle:
                kind = _not_regular(os.fstat(handle.fileno()).st_mode)
                if kind is None:
                    os.set_blocking(fd, True)
                    return handle.read(MAX_POLICY_BYTES + 1)
    except FileNotFoundError as e:
        raise InputError(
            f"no policy file {path}",
            hint=f"write one with "
            f"{operation('policy init', template='pci', out='changeproof.yaml')}",
        ) from e
    except OSError as e:
        raise InputError(f"cannot read policy file {path}: {e.strerror}") from e
    raise InputError(f"{path} is {kind}, not a policy file: only regular files are read")


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    return "a device or socket"


class PolicyFiles:
    """`load_policy_file` for a caller that loads the same file again and again (the gate of
    a server or of a long-lived agent): the file is read every time, so an edit counts at
    once, and validated again only when its bytes or its name changed. Validating costs
    milliseconds; comparing a file of at most 1 MiB with the bytes last validated, far less.
    """

    def __init__(self) -> None:
        # One file: a gate decides under one policy file, rarely a few.
        self._last: tuple[str, bytes, LoadedPolicy] | None = None

    def load(self, path: Path) -> LoadedPolicy:
        data, source = _read_policy_file(path), str(path)
        last = self._last  # one read: another thread may replace it meanwhile
        if last is not None and last[0] == source and last[1] == data:
            return last[2]
        loaded = load_policy(data, source)
        self._last = (source, data, loaded)
        return loaded


def _validated(data: dict[str, object], lines: Lines, source: str) -> LoadedPolicy:
    try:
        policy = Policy.model_validate(data)
    except ValidationError as e:
        problems = [
            pydantic_problem(Policy, data, lines, source, (), error) for error in e.errors()
        ]
        raise PolicyError(_sorted(problems), hint=_HINT) from None
    problems = check_meaning(policy, data, lines, source)
    if problems:
        raise PolicyError(_sorted(problems), hint=_HINT)
    try:
        document = canonical_json(policy.model_dump(mode="json"))
    except (TypeError, ValueError) as e:  # a recorded document may hold what YAML could not
        where: KeyPath = ()
        raise PolicyError.at(source, locate(lines, where), None, f"cannot be encoded: {e}") from e
    return LoadedPolicy(
        policy=policy,
        digest=hashlib.sha256(document).hexdigest(),
        document=document.decode("utf-8"),
        source=source,
    )


def _sorted(problems: list[PolicyProblem]) -> list[PolicyProblem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (p.line is None, p.line or 0))
