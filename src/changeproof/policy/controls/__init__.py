"""The built-in controls: importing this package registers every one of them.

Each is a pure function `(Facts, Params) -> ControlResult` that fails closed (missing
evidence, or people it cannot tell apart, is a failure with that reason), names the
offending commit, path, reviewer or finding in plain words, lists the evidence it used,
and leaves counts and flags in `facts` for custom rules.

    ticket-reference     tickets.py             tests-passed       tests_passed.py
    independent-review   independent_review.py  scan-clean         scan.py
    expert-review        expert_review.py       sbom-present       sbom.py
    artifact-integrity   artifact.py            license-allowed    sbom.py
    deployer-role        deployer.py            deployer-not-author deployer.py
    freeze-window        freeze.py              change-approval    change_approval.py
    promoted-from        promotion.py
"""

from __future__ import annotations

from changeproof.policy.controls.artifact import ArtifactIntegrity, artifact_integrity
from changeproof.policy.controls.change_approval import ChangeApproval, change_approval
from changeproof.policy.controls.deployer import DeployerRole, deployer_not_author, deployer_role
from changeproof.policy.controls.expert_review import expert_review
from changeproof.policy.controls.freeze import FreezeWindow, FreezeWindows, freeze_window
from changeproof.policy.controls.independent_review import IndependentReview, independent_review
from changeproof.policy.controls.promotion import PromotedFrom, promoted_from
from changeproof.policy.controls.sbom import LicenseAllowed, license_allowed, sbom_present
from changeproof.policy.controls.scan import ScanClean, scan_clean
from changeproof.policy.controls.tests_passed import TestsPassed, tests_passed
from changeproof.policy.controls.tickets import TicketReference, ticket_reference

__all__ = [
    "ArtifactIntegrity",
    "ChangeApproval",
    "DeployerRole",
    "FreezeWindow",
    "FreezeWindows",
    "IndependentReview",
    "LicenseAllowed",
    "PromotedFrom",
    "ScanClean",
    "TestsPassed",
    "TicketReference",
    "artifact_integrity",
    "change_approval",
    "deployer_not_author",
    "deployer_role",
    "expert_review",
    "freeze_window",
    "independent_review",
    "license_allowed",
    "promoted_from",
    "sbom_present",
    "scan_clean",
    "tests_passed",
    "ticket_reference",
]
