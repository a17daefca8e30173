"""Who may manage people: the rules the actor and token services share.

- **The acting identity** (`by`) is a non-empty name, email or login of at most 200
  characters without control characters.
- **The admin rule.** Until some actor holds role `admin` the instance is being set up:
  anyone may grant and revoke roles and groups, and create or revoke anyone's tokens, as
  a new instance needs. Once an actor holds `admin`, only an admin may, `by` counting as
  an admin when it names one (by name in any case, an email or a login). The admins are
  read from the directory as it stood before the command, so a people file that makes the
  first admin is judged as a whole by the setup rule.
- **The last admin stays.** Revoking `admin` from the last actor holding it would put the
  instance back into setup, where anyone may grant anything: refused.
"""

from __future__ import annotations

from collections.abc import Collection

from changeproof.domain.actors import Directory, Role
from changeproof.domain.errors import (
    ConflictError,
    Field,
    PermissionDeniedError,
    UsageError,
    operation,
)

__all__ = ["acting", "require_admin", "require_an_admin_remains"]


def acting(by: str) -> str:
    """`by` itself, or UsageError saying what is wrong with it."""
    if not by.strip():
        raise UsageError(f"who is acting ({Field('actor')}) must not be empty")
    if len(by) > 200:
        raise UsageError(f"who is acting ({Field('actor')}) is longer than 200 characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in by):
        raise UsageError(f"who is acting ({Field('actor')}) must not contain control characters")
    return by


def require_admin(
    by: str, directory: Directory, *, action: str, who_else: str = "", where: str = ""
) -> None:
    """PermissionDeniedError unless `by` is an admin or nobody holds admin yet.

    `action` completes "{by} cannot …"; `who_else` names whoever besides an admin may;
    `where` prefixes the message (a people file's entry).
    """
    admins = directory.holders(Role.ADMIN)
    if not admins:
        return
    me = directory.identify(by)
    if me is not None and me.name in admins:
        return
    allowed = f"{who_else} or an admin" if who_else else "an admin"
    raise PermissionDeniedError(
        f"{where}{by} cannot {action}: only {allowed} may, and {by} is not an admin",
        hint=f"ask an admin ({', '.join(admins)}); {operation('actor list')} shows who holds what",
    )


def require_an_admin_remains(
    before: Directory, after: Collection[str], *, action: str, where: str = ""
) -> None:
    """ConflictError when `action` leaves no admin (`after`) where there was one."""
    admins = before.holders(Role.ADMIN)
    if admins and not after:
        raise ConflictError(
            f"{where}{action} would leave no admin ({', '.join(admins)} "
            f"{'is' if len(admins) == 1 else 'are'} the last): with no admin, anyone may "
            "grant any role again",
            hint="grant admin to another actor first",
        )
