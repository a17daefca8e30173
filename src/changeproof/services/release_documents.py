"""Releases as documents: what `release list|show --output json` prints and the API returns."""

from __future__ import annotations

from typing import Final

from changeproof.domain.canonical import JsonValue
from changeproof.domain.records import ReleaseRecord
from changeproof.services.releases import ReleaseView

__all__ = ["RANGE_MEANING", "release_document", "release_summary"]

RANGE_MEANING: Final = "commits reachable from `to` and not from `from` (git's FROM..TO)"


def release_summary(r: ReleaseRecord) -> dict[str, JsonValue]:
    """One release as `release list --output json` prints it: `release show` without the
    commits and evidence."""
    return {
        "release": str(r.ref),
        "service": r.ref.service,
        "name": r.ref.name,
        "seq": r.seq,
        "from": r.from_sha,
        "to": r.to_sha,
        "from_ref": r.from_ref,
        "to_ref": r.to_ref,
        "repository": r.repository,
        "commit_count": r.commit_count,
        "created_at": r.created_at,
        "created_by": r.actor,
    }


def release_document(view: ReleaseView) -> dict[str, JsonValue]:
    r = view.release
    note = RANGE_MEANING
    if not r.ancestor:
        note += "; `from` is not an ancestor of `to`, so the range starts at their merge base"
    return {
        "service": r.ref.service,
        "name": r.ref.name,
        "seq": r.seq,
        "from": r.from_sha,
        "to": r.to_sha,
        "from_ref": r.from_ref,
        "to_ref": r.to_ref,
        "from_source": r.from_source,
        "range": {"ancestor": r.ancestor, "meaning": note},
        "repository": r.repository,
        "created_at": r.created_at,
        "created_by": r.actor,
        "created": view.created,
        "commits": [
            {
                "sha": c.sha,
                "parents": list(c.parents),
                "author": c.author.to_data(),
                "committer": c.committer.to_data(),
                "co_authors": [a.to_data() for a in c.co_authors],
                "subject": c.subject,
                "merge": c.merge,
                "reverts": c.reverts,
                "tickets": [t.key for t in c.tickets],
                "ticket_refs": [t.to_data() for t in c.tickets],
                "inherited_tickets": [
                    {"merge": i.merge, "tickets": [t.key for t in i.tickets]}
                    for i in view.inherited.get(c.sha, ())
                ],
                "paths": [p.path for p in c.paths],
                "changes": [p.to_data() for p in c.paths],
            }
            for c in view.commits
        ],
        "tickets": list(view.tickets),
        "untracked_commits": list(view.untracked_commits),
        "evidence": [
            {
                "seq": e.seq,
                "kind": e.kind,
                "format": e.format,
                "sha256": e.sha256,
                "files": list(e.files),
                "summary": e.summary,
                "recorded_at": e.recorded_at,
                "recorded_by": e.actor,
                "superseded_by": view.superseded.get(e.seq),
            }
            for e in view.evidence
        ],
        "artifacts": [
            {
                "seq": a.seq,
                "name": a.name,
                "size": a.size,
                "sha256": a.sha256,
                "recorded_at": a.recorded_at,
                "recorded_by": a.actor,
            }
            for a in view.artifacts
        ],
    }
