"""Tables. The four `ledger_*` tables are the ledger; `idempotency_keys` is the server's
bookkeeping of retried requests; every other table is a projection.

`ledger_events` is a public contract for auditors (see docs/ledger.md):
  seq        0-based leaf index, contiguous
  leaf_hash  SHA-256(0x00 || body)
  body       the RFC 8785 canonical JSON of the event, UTF-8 bytes
  event_type copied from the body for indexing; not covered by the hash
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "LEDGER_TABLES",
    "PROJECTION_TABLES",
    "REQUEST_TABLES",
    "actor_aliases",
    "actor_grants",
    "actors",
    "artifacts",
    "change_exports",
    "change_revisions",
    "change_verdicts",
    "changes",
    "commit_history",
    "commit_paths",
    "commit_tickets",
    "commits",
    "decisions",
    "deployment_checks",
    "deployment_updates",
    "deployments",
    "evidence",
    "evidence_bindings",
    "hook_deliveries",
    "idempotency_keys",
    "ledger_checkpoints",
    "ledger_events",
    "ledger_head",
    "ledger_subtrees",
    "metadata",
    "policies",
    "policy_activations",
    "policy_governance",
    "policy_proposals",
    "release_commits",
    "releases",
    "tokens",
]

metadata = MetaData()

# On SQLite an INTEGER PRIMARY KEY is the rowid itself: the fastest ordered key there is.
_Seq = BigInteger().with_variant(Integer, "sqlite")

ledger_events = Table(
    "ledger_events",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("event_type", String(100), nullable=False),
)

ledger_subtrees = Table(
    "ledger_subtrees",
    metadata,
    Column("height", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("tree_size", _Seq, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("signed_at", String(32), nullable=False),
)

# One row: the lock appenders queue on, and the current size and root.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    # The compact range's hashes, highest subtree first: what the next append extends.
    Column("edge", LargeBinary, nullable=True),
    CheckConstraint("id = 1", name="ledger_head_single_row"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("service", String(200), nullable=False),
    Column("version", String(200), nullable=True),
    Column("name", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("release", String(201), nullable=True),
    Index("ix_artifacts_sha256", "sha256"),
    Index("ix_artifacts_service_version", "service", "version"),
    Index("ix_artifacts_release", "release"),
)

# Commits are recorded once and shared by every release whose range holds them;
# `record_sha256` is the digest of the recorded facts, so a re-read that differs
# (other ticket patterns) is recorded again.
commits = Table(
    "commits",
    metadata,
    Column("sha", String(64), primary_key=True),
    Column("seq", _Seq, nullable=False),
    Column("record_sha256", String(64), nullable=False),
    Column("author_name", Text, nullable=False),
    Column("author_email", Text, nullable=False),
    Column("author_time", String(40), nullable=False),
    Column("committer_name", Text, nullable=False),
    Column("committer_email", Text, nullable=False),
    Column("committer_time", String(40), nullable=False),
    Column("subject", Text, nullable=False),
    Column("merge", Boolean, nullable=False),
    Column("reverts", String(64), nullable=True),
    Column("record", Text, nullable=False),  # the commit's canonical JSON, as recorded
)

# The versions a re-recording superseded, so a release shows the commit's facts as they stood
# when it was created, whatever later releases recorded about the same commit.
commit_history = Table(
    "commit_history",
    metadata,
    Column("sha", String(64), primary_key=True),
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("record", Text, nullable=False),
)

commit_tickets = Table(
    "commit_tickets",
    metadata,
    Column("sha", String(64), primary_key=True),
    Column("system", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("source", String(20), nullable=False),
    Column("closes", Boolean, nullable=False),
    Index("ix_commit_tickets_key", "key"),
)

commit_paths = Table(
    "commit_paths",
    metadata,
    Column("sha", String(64), primary_key=True),
    Column("path", Text, primary_key=True),
    Column("added", Integer, nullable=True),
    Column("deleted", Integer, nullable=True),
    Column("old_path", Text, nullable=True),
)

releases = Table(
    "releases",
    metadata,
    Column("service", String(100), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("seq", _Seq, nullable=False, unique=True),
    Column("from_ref", Text, nullable=True),
    Column("to_ref", Text, nullable=False),
    Column("from_sha", String(64), nullable=True),
    Column("to_sha", String(64), nullable=False),
    Column("from_source", String(20), nullable=False),
    Column("ancestor", Boolean, nullable=False),
    Column("repository", Text, nullable=True),
    Column("commit_count", Integer, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("created_at", String(32), nullable=False),
)

release_commits = Table(
    "release_commits",
    metadata,
    Column("service", String(100), primary_key=True),
    Column("release", String(100), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("sha", String(64), nullable=False),
    Index("ix_release_commits_sha", "sha"),
)

evidence = Table(
    "evidence",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("release", String(201), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("format", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("files", Text, nullable=False),  # JSON: [{name, sha256, size}]
    Column("summary", Text, nullable=False),  # canonical JSON
    Column("detail", Text, nullable=False),  # canonical JSON
    Column("actor", String(200), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    UniqueConstraint("release", "kind", "sha256", name="uq_evidence_release_kind_sha256"),
)

evidence_bindings = Table(
    "evidence_bindings",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("subject_type", String(10), primary_key=True),  # commit | artifact
    Column("subject", String(64), primary_key=True),
    Index("ix_evidence_bindings_subject", "subject"),
)

actors = Table(
    "actors",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("seq", _Seq, nullable=False),
    Column("added_by", String(200), nullable=False),
    Column("added_at", String(32), nullable=False),
    Column("kind", String(10), nullable=False, server_default="person"),  # person | pipeline
)

# email, github or gitlab identities that resolve to an actor; unique across actors. `seq`
# is the entry that added it: the actor's actor.added, or a later actor.alias.added.
actor_aliases = Table(
    "actor_aliases",
    metadata,
    Column("kind", String(10), primary_key=True),
    Column("value", String(320), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Index("ix_actor_aliases_name", "name"),
    Index("ix_actor_aliases_seq", "seq"),
)

# Roles and groups with the entries that granted and (later) revoked them, so the
# directory can be read as it was at any point of the ledger.
actor_grants = Table(
    "actor_grants",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(10), nullable=False),  # role | group
    Column("value", String(100), nullable=False),
    Column("granted_by", String(200), nullable=False),
    Column("revoked_seq", BigInteger, nullable=True),
    Index("ix_actor_grants_name", "name"),
)

# API tokens by their public id. `sha256` is the SHA-256 of the whole token text: the token
# itself is shown once when created and is stored nowhere.
tokens = Table(
    "tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("seq", _Seq, nullable=False, unique=True),  # token.created
    Column("actor", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("label", String(200), nullable=True),
    Column("expires_at", String(32), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_seq", BigInteger, nullable=True),
    Column("revoked_by", String(200), nullable=True),
    Column("revoked_at", String(32), nullable=True),
    # Space-separated, sorted; NULL for a token recorded before scopes existed.
    Column("scopes", String(100), nullable=True),
    Index("ix_tokens_actor", "actor"),
)

# Policies by content digest: a decision names the digest, and replay finds the policy here.
policies = Table(
    "policies",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("seq", _Seq, nullable=False),
    Column("document", Text, nullable=False),  # canonical JSON of the parsed policy
    Column("source", Text, nullable=True),  # where it was read from
)

# Every change of the instance's active policy; the newest seq is the active one.
policy_activations = Table(
    "policy_activations",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False),
    Column("previous_digest", String(64), nullable=True),
    Column("source", Text, nullable=True),  # where the policy was read from
    Column("actor", String(200), nullable=False),
    Column("activated_at", String(32), nullable=False),
)

# Proposed policies and what became of them: pending until a second person approves
# (`activated`) or someone turns it down (`rejected`).
policy_proposals = Table(
    "policy_proposals",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),  # policy.proposed
    Column("digest", String(64), nullable=False),
    Column("previous_digest", String(64), nullable=True),
    Column("source", Text, nullable=True),
    Column("simulation", Text, nullable=True),  # canonical JSON of the attached simulation
    Column("actor", String(200), nullable=False),
    Column("proposed_at", String(32), nullable=False),
    Column("state", String(20), nullable=False),  # pending | activated | rejected
    Column("decided_seq", BigInteger, nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", String(32), nullable=True),
    Column("reason", Text, nullable=True),
)

# Every `policy.governance.set`; the newest row is in force.
policy_governance = Table(
    "policy_governance",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("one_person", Boolean, nullable=False),
    Column("approver_role", String(100), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("set_at", String(32), nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("release", String(201), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("classification", String(20), nullable=False),
    Column("policy_digest", String(64), nullable=False),
    Column("deployer", String(200), nullable=True),
    Column("artifact", String(64), nullable=True),
    Column("urgent", Boolean, nullable=False),
    Column("as_of_seq", BigInteger, nullable=False),  # the ledger position the facts were read at
    Column("actor", String(200), nullable=False),
    Column("decided_at", String(32), nullable=False),
    Column("document", Text, nullable=False),  # the whole decision, canonical JSON
    Index("ix_decisions_release_environment", "release", "environment"),
)

# A change: one row per change, its current RFC and where it stands (state, review);
# `change_revisions` keeps every RFC it had and `change_verdicts` every approval and
# rejection, so the gate can read a change as it stood at any ledger position.
changes = Table(
    "changes",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),  # change.opened
    Column("release", String(201), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("urgent_reason", Text, nullable=True),
    Column("state", String(20), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("document", Text, nullable=False),  # the current RFC, canonical JSON
    Column("opened_by", String(200), nullable=False),
    Column("opened_at", String(32), nullable=False),
    Column("review_due", String(32), nullable=True),  # urgent changes only
    Column("reviewed_seq", BigInteger, nullable=True),
    Column("review_outcome", String(20), nullable=True),
    Column("reviewed_by", String(200), nullable=True),
    Column("reviewed_at", String(32), nullable=True),
    Column("review_notes", Text, nullable=True),
    Index("ix_changes_release_environment", "release", "environment"),
)

change_revisions = Table(
    "change_revisions",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),  # opened or refreshed
    Column("change_seq", BigInteger, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("document", Text, nullable=False),
    Index("ix_change_revisions_change", "change_seq"),
)

change_verdicts = Table(
    "change_verdicts",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("change_seq", BigInteger, nullable=False),
    Column("verdict", String(20), nullable=False),  # approved or rejected
    Column("actor", String(200), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("comment", Text, nullable=True),
    Column("decided_at", String(32), nullable=False),
    Index("ix_change_verdicts_change", "change_seq"),
)

change_exports = Table(
    "change_exports",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("change_seq", BigInteger, nullable=False),
    Column("system", String(40), nullable=False),
    Column("remote_id", String(200), nullable=False),
    Column("remote_key", String(200), nullable=True),
    Column("url", Text, nullable=True),
    Column("digest", String(64), nullable=False),
    Column("exported_at", String(32), nullable=False),
    Index("ix_change_exports_change", "change_seq"),
)

# A deployment: who pushed which artifact of which release where, and how it went.
deployments = Table(
    "deployments",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),  # deployment.recorded
    Column("release", String(201), nullable=False),
    Column("environment", String(100), nullable=False),
    Column("artifact", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("pipeline_run", Text, nullable=True),
    Column("authorized", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("decision_seq", BigInteger, nullable=True),
    Column("change_seq", BigInteger, nullable=True),
    Column("urgent", Boolean, nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    # The policy of the decision that authorized it, and whether it was the active one
    # (None for deployments recorded before this was recorded).
    Column("policy_digest", String(64), nullable=True),
    Column("policy_active", Boolean, nullable=True),
    Index("ix_deployments_environment", "environment", "seq"),
)

deployment_updates = Table(
    "deployment_updates",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("deployment_seq", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Index("ix_deployment_updates_deployment", "deployment_seq"),
)

deployment_checks = Table(
    "deployment_checks",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("deployment_seq", BigInteger, nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(10), nullable=False),
    Column("details", Text, nullable=True),
    Column("details_sha256", String(64), nullable=True),
    Column("actor", String(200), nullable=False),
    Column("checked_at", String(32), nullable=False),
    Index("ix_deployment_checks_deployment", "deployment_seq"),
)

# Webhook deliveries by (source, delivery id): a redelivery is recognised here and answered
# with the first one's outcome. `outcome` is NULL from hook.received until hook.processed.
hook_deliveries = Table(
    "hook_deliveries",
    metadata,
    Column("source", String(16), primary_key=True),
    Column("delivery", String(255), primary_key=True),
    Column("seq", _Seq, nullable=False, unique=True),  # hook.received
    Column("event", String(255), nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("received_at", String(32), nullable=False),
    Column("processed_seq", BigInteger, nullable=True),  # hook.processed
    Column("outcome", String(16), nullable=True),
    Column("reason", Text, nullable=True),
    Column("recorded", Text, nullable=True),  # space-separated seqs of what it recorded
    Index("ix_hook_deliveries_outcome", "outcome"),
)

# Which entries a request sent with an Idempotency-Key recorded (`first_seq`..`last_seq`),
# inserted in the transaction that appended them, and the answer it got (status, media type,
# body; NULL until answered, and for ever when the answer held a secret).
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("actor", String(200), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_sha256", String(64), nullable=False),
    Column("first_seq", BigInteger, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("status", SmallInteger, nullable=True),
    Column("media_type", String(100), nullable=True),
    Column("body", LargeBinary, nullable=True),
    Column("recorded_at", String(32), nullable=False),
)

LEDGER_TABLES = (ledger_events, ledger_subtrees, ledger_checkpoints, ledger_head)
PROJECTION_TABLES = (
    artifacts,
    commits,
    commit_history,
    commit_tickets,
    commit_paths,
    releases,
    release_commits,
    evidence,
    evidence_bindings,
    actors,
    actor_aliases,
    actor_grants,
    tokens,
    policies,
    policy_activations,
    policy_proposals,
    policy_governance,
    decisions,
    changes,
    change_revisions,
    change_verdicts,
    change_exports,
    deployments,
    deployment_updates,
    deployment_checks,
    hook_deliveries,
)
REQUEST_TABLES = (idempotency_keys,)
