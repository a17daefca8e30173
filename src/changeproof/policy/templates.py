"""Starting policies `changeproof policy init --template NAME` writes: documented YAML.

Each template must load cleanly (a test loads every one); edit the copy, not the template.
"""

from __future__ import annotations

from typing import Final

from changeproof.domain.errors import UsageError

__all__ = ["TEMPLATES", "template"]

_PCI: Final = """\
# changeproof policy: what a release must show before it goes to each environment.
# Keep it in git beside the code (or in a central policy repository) and review changes
# to it like code. Every gate decision records this policy's digest.
#
#   changeproof policy validate --policy changeproof.yaml
#   changeproof policy explain --env pci-production --policy changeproof.yaml
#   changeproof policy schema > policy.schema.json    # for your editor
#
# This starting point follows PCI DSS 6.5 (change control) and SOX ITGC change management:
# traceability to a ticket, independent code review, tests and scans on every release;
# expert review of high-risk code, artifact integrity, segregation of duties and approved
# change requests for the cardholder-data environment (pci-production).
version: 1

# Ticket patterns a commit must reference: jira (PROJ-123; `jira:PAY,OPS` accepts only
# those project keys), github (#123, GH-123, owner/repo#123) and trac (Fixed #123).
tickets: jira,github

# High-risk areas, CODEOWNERS-like. A change touching one is never a standard change, and
# where an environment requires expert-review, a member of the area's expert group (an
# actor group: `changeproof actor grant NAME --group dba`) must approve it.
# Globs: `*` within a name, `**` any directories, a pattern without `/` matches at any depth.
high_risk:
  - name: database migrations
    paths: ["db/migrations/**"]
    experts: dba
  - name: payments
    paths: ["payments/**"]
    experts: payments-owners

# Standard changes: kinds of change pre-approved, so they need no change approval when
# every path they touch matches, none is high-risk, and they stay within these sizes.
standard_changes:
  - kind: content
    paths: ["docs/**", "*.md"]
    max_changed_lines: 500
    max_commits: 50

# Freeze windows: no deployment to the listed environments in these periods unless the
# change is urgent (where the environment requires freeze-window). Times need a zone.
freeze_windows: []
#  - name: year end
#    start: 2026-12-20T00:00:00Z
#    end: 2027-01-04T00:00:00Z
#    environments: [production, pci-production]

# Environments: the controls each requires (`changeproof policy schema` lists every
# control and its parameters), the role a deployer must hold, and which failing
# controls an urgent change may go past (never a safety control such as deployer-role).
environments:
  development:
    controls:
      - ticket-reference
      - independent-review
      - tests-passed
      - scan-clean

  staging:
    controls:
      - ticket-reference
      - independent-review
      - tests-passed
      - scan-clean

  production:
    urgent_may_bypass: [tests-passed]
    controls:
      - ticket-reference
      - independent-review: {min_approvals: 1}
      - tests-passed: {min_tests: 1}
      - scan-clean: {level: error}
      - freeze-window

  pci-production:
    deployer_role: production-pusher    # deployer-role checks the deployer holds it
    controls:
      - ticket-reference
      - independent-review: {min_approvals: 1}
      - tests-passed: {min_tests: 1}
      - scan-clean: {level: warning}
      - expert-review                   # the high-risk areas' experts approve their paths
      - artifact-integrity: {require_provenance: true}
      - deployer-role
      - deployer-not-author
      - freeze-window
      # The same artifact (by digest) went to staging first: authorized, succeeded, and
      # its post-deployment checks (`changeproof deploy check`) passed.
      - promoted-from: {environments: [staging], soak_hours: 0}
      # A normal change needs 2 approvals of its change request (`changeproof change
      # open`, then `change approve`) from role approver, each valid for 24 hours, one
      # of them from a DBA when schema migrations change; an urgent change one from an
      # emergency approver, and a review after the fact within 2 working days; whoever
      # owes an overdue review opens no other urgent change. A standard change needs none.
      - change-approval:
          normal:
            quorum: 2
            role: approver
            valid_for_hours: 24
            groups: [{group: dba, when: migrations}]
          urgent: {quorum: 1, role: emergency-approver, valid_for_hours: 24}
          urgent_review_business_days: 2
          overdue_blocks_urgent: requester

# Custom rules: CEL expressions over the facts the controls computed, e.g.
rules: []
#  - name: small release
#    expression: "facts['ticket-reference'].commits <= 200"
#    message: "releases of more than 200 commits need a normal change"
#    environments: [pci-production]
"""

TEMPLATES: Final = {"pci": _PCI}


def template(name: str) -> str:
    """The template's YAML text; UsageError naming the known ones."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise UsageError(f"no policy template {name!r}; known: {', '.join(TEMPLATES)}") from None
