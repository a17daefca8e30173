"""Separation of duties for changes: who may approve, reject or review one.

Nobody decides on a change they requested, or whose commits they authored, committed or
co-authored, whichever alias (email, login, name) they use; an approver must also hold the
role the change's approval rule names.
"""

from __future__ import annotations

from collections.abc import Mapping

from changeproof.domain.actors import Actor, Directory
from changeproof.domain.canonical import JsonValue
from changeproof.domain.changes import change_id
from changeproof.domain.errors import PermissionDeniedError
from changeproof.store.changes import ChangeRow

__all__ = ["entitled", "independent", "is_actor"]


def independent(people: Directory, by: str, row: ChangeRow, verb: str) -> Actor:
    """The known actor `by` is, who neither requested the change nor wrote any of it."""
    actor = people.resolve(by)
    if actor is None:
        raise PermissionDeniedError(
            f"{by} is not a known actor and cannot {verb} {change_id(row.seq)}",
            hint="add them with `changeproof actor add`",
        )
    requester = people.resolve(str(row.document.get("requested_by")))
    if actor.name == row.opened_by or (requester is not None and requester.name == actor.name):
        raise PermissionDeniedError(
            f"{actor.name} cannot {verb} {change_id(row.seq)}: they requested it",
            hint="separation of duties: someone else must",
        )
    for commit in _commits(row.document):
        for role in ("author", "committer"):
            if is_actor(people, actor, commit.get(role)):
                raise PermissionDeniedError(
                    f"{actor.name} cannot {verb} {change_id(row.seq)}: they are the {role} of "
                    f"commit {str(commit.get('sha'))[:12]}",
                    hint="separation of duties: nobody approves their own change",
                )
        co_authors = commit.get("co_authors")
        for email in co_authors if isinstance(co_authors, list) else []:
            if is_actor(people, actor, email):
                raise PermissionDeniedError(
                    f"{actor.name} cannot {verb} {change_id(row.seq)}: they co-authored "
                    f"commit {str(commit.get('sha'))[:12]}",
                    hint="separation of duties: nobody approves their own change",
                )
    return actor


def entitled(people: Directory, by: str, row: ChangeRow, verb: str) -> Actor:
    """An independent actor holding the role the change's approval rule asks for."""
    actor = independent(people, by, row, verb)
    rule = row.document.get("approval_rule")
    role = rule.get("role") if isinstance(rule, dict) else None
    if isinstance(role, str) and role not in actor.roles:
        raise PermissionDeniedError(
            f"{actor.name} cannot {verb} {change_id(row.seq)}: it needs role {role}, "
            f"and they hold {', '.join(sorted(actor.roles)) or 'no role'}",
            hint=f"an admin grants it: `changeproof actor grant {actor.name} --role {role}`",
        )
    return actor


def is_actor(people: Directory, actor: Actor, email: JsonValue) -> bool:
    """Whether `email` is one of `actor`'s, directly or through the directory."""
    if not isinstance(email, str):
        return False
    if email.strip().lower() in actor.emails:
        return True
    found = people.resolve(email)
    return found is not None and found.name == actor.name


def _commits(rfc: Mapping[str, JsonValue]) -> list[dict[str, JsonValue]]:
    what = rfc.get("what")
    commits = what.get("commits") if isinstance(what, dict) else None
    return [c for c in commits if isinstance(c, dict)] if isinstance(commits, list) else []
