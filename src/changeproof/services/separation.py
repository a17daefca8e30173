"""Separation of duties for changes: who may approve, reject or review one.

Nobody decides on a change they requested, or whose commits they authored, committed or
co-authored, whichever alias (email, login, name) they use; an approver must also hold the
role the change's approval rule names.
"""

from __future__ import annotations

from changeproof.domain.actors import Actor, Directory
from changeproof.domain.canonical import JsonValue
from changeproof.domain.changes import change_id, change_parties, made_by_party
from changeproof.domain.errors import PermissionDeniedError, operation
from changeproof.domain.identity import Sameness, Who, same, unknown_because
from changeproof.domain.records import ChangeRecord

__all__ = ["entitled", "independent", "is_actor"]


def independent(people: Directory, by: str, row: ChangeRecord, verb: str) -> Actor:
    """The known actor `by` is, who neither requested the change nor wrote any of it.

    "Is this the same person" is the identity engine's question (`domain.identity`): an
    identity it cannot tell apart from `by` refuses as surely as one it matches.
    """
    actor = people.resolve(by)
    if actor is None:
        raise PermissionDeniedError(
            f"{by} is not a known actor and cannot {verb} {change_id(row.seq)}",
            hint=f"add them with {operation('actor add')}",
        )
    me = people.who_of(actor)
    action = f"{verb} {change_id(row.seq)}"
    for requester in sorted({row.opened_by, row.document.requested_by}):
        _refuse_unless_apart(
            me, people.who_acting(requester), action, ("they requested it", "its requester"),
            hint="separation of duties: someone else must",
        )  # fmt: skip
    for commit in row.document.what.commits:
        sha = commit.sha[:12]
        # The reason names the address the commit used: "as ada+ci@corp.test" says which
        # alias matched when it is not the one the actor registered.
        writers = [
            (
                (f"they are the {role} of commit {sha} (as {email})", f"the {role} of {sha}"),
                email,
            )
            for role, email in (("author", commit.author), ("committer", commit.committer))
        ]
        writers += [
            ((f"they co-authored commit {sha} (as {email})", f"a co-author of {sha}"), email)
            for email in commit.co_authors
        ]
        for words, email in writers:
            _refuse_unless_apart(
                me, people.who_email(email), action, words,
                hint="separation of duties: nobody approves their own change",
            )  # fmt: skip
    return actor


def _refuse_unless_apart(
    me: Who, them: Who, action: str, words: tuple[str, str], *, hint: str
) -> None:
    """PermissionDeniedError when `me` is `them`, or cannot be told apart from them.

    `words`: what `me` did when the same ("they requested it"), and what `them` is
    ("its requester").
    """
    found = same(me, them)
    if found is Sameness.SAME:
        raise PermissionDeniedError(f"{me.label} cannot {action}: {words[0]}", hint=hint)
    if found is Sameness.UNKNOWN:
        raise PermissionDeniedError(
            f"{me.label} cannot {action}: they cannot be told apart from {them.label}, "
            f"{words[1]}: {unknown_because(me, them)}",
            hint=hint,
        )


def entitled(people: Directory, by: str, row: ChangeRecord, verb: str) -> Actor:
    """An independent actor holding the role the change's approval rule asks for."""
    actor = independent(people, by, row, verb)
    rule = row.document.approval_rule
    role = rule.role if rule is not None else None
    if role is not None and role not in actor.roles:
        raise PermissionDeniedError(
            f"{actor.name} cannot {verb} {change_id(row.seq)}: it needs role {role}, "
            f"and they hold {', '.join(sorted(actor.roles)) or 'no role'}",
            hint=f"an admin grants it: {operation('actor grant', actor.name, role=role)}",
        )
    made = made_by_party(people, actor, role, change_parties(row.document, row.opened_by))
    if made is not None:
        raise PermissionDeniedError(
            f"{actor.name} cannot {verb} {change_id(row.seq)}: {made}, so they are not "
            "independent of the change",
            hint="separation of duties: an approver someone independent of the change "
            "added and granted the role must",
        )
    return actor


def is_actor(people: Directory, actor: Actor, email: JsonValue) -> Sameness:
    """Whether `email` (a git email) is `actor`'s, is not, or cannot be told."""
    return same(people.who_of(actor), people.who_email(email if isinstance(email, str) else ""))
