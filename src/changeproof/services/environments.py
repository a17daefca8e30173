"""Which environments the policy in force knows: a typo in an environment's name is refused
before anything is recorded, with the closest names the policy does know.

A gate asked about `pci-prod` when the policy names `pci-production` would otherwise
record a blocked decision for an environment nobody meant, in a ledger that keeps it for
good; a deployment to it would be recorded as unauthorized noise. Both are input errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from sqlalchemy import Connection

from changeproof.domain.errors import IntegrityError, UsageError
from changeproof.policy.loader import LoadedPolicy
from changeproof.store import decisions as recorded

__all__ = ["active_environments", "require_known_environment"]


def require_known_environment(
    conn: Connection, environment: str, policy: LoadedPolicy | None = None
) -> None:
    """UsageError, naming the closest known names, when the policy in force (`policy`, else
    the instance's active one) has no environment `environment`. With no policy at all
    there is nothing to compare with, and nothing is refused."""
    if policy is not None:
        known: Iterable[str] | None = policy.policy.environments
        where = f"the policy in force ({policy.source})"
    else:
        known = active_environments(conn)
        where = "the instance's active policy"
    if known is None:
        return
    names = sorted(known)
    if environment in names:
        return
    close = difflib.get_close_matches(environment, names, n=3, cutoff=0.5)
    shown = environment if len(environment) <= 40 else environment[:40] + "…"
    suggestion = f"; did you mean {' or '.join(repr(n) for n in close)}?" if close else ""
    raise UsageError(
        f"{where} has no environment {shown!r}{suggestion}",
        hint=f"its environments: {', '.join(names)}",
    )


def active_environments(conn: Connection) -> tuple[str, ...] | None:
    """The environments of the instance's active policy; None when none was activated."""
    activation = recorded.active_policy(conn)
    if activation is None:
        return None
    document = recorded.policy_document(conn, activation.digest)
    environments = None if document is None else document.get("environments")
    if not isinstance(environments, dict):
        raise IntegrityError(f"the active policy {activation.digest} is not recorded")
    return tuple(environments)
