"""Starting policies load cleanly, and `explain` says what each environment requires."""

from __future__ import annotations

import json

import pytest

from changeproof.domain.errors import UsageError
from changeproof.policy.builtin import registered_controls
from changeproof.policy.explain import explain
from changeproof.policy.loader import load_policy
from changeproof.policy.templates import TEMPLATES, template

pytestmark = pytest.mark.skipif(
    not {"ticket-reference", "deployer-role"} <= set(registered_controls()),
    reason="the built-in controls (package changeproof.policy.controls) are not there yet",
)

REQUIRED_EVERYWHERE = ["ticket-reference", "independent-review", "tests-passed", "scan-clean"]
PCI_ONLY = [
    "expert-review",
    "artifact-integrity",
    "deployer-role",
    "deployer-not-author",
    "change-approval",
]


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_loads_cleanly(name: str) -> None:
    loaded = load_policy(template(name).encode(), f"{name}.yaml")
    assert loaded.policy.environments


def test_the_pci_template_is_what_issue_4_asks_for() -> None:
    policy = load_policy(template("pci").encode(), "pci.yaml").policy
    assert [(a.paths, a.experts) for a in policy.high_risk] == [
        (("db/migrations/**",), "dba"),
        (("payments/**",), "payments-owners"),
    ]
    assert list(policy.environments) == ["development", "staging", "production", "pci-production"]
    for name, environment in policy.environments.items():
        ids = [ref.id for ref in environment.controls]
        assert set(REQUIRED_EVERYWHERE) <= set(ids), name
        assert (set(PCI_ONLY) <= set(ids)) is (name == "pci-production"), name
    assert policy.environments["pci-production"].deployer_role == "production-pusher"
    approval = next(
        r for r in policy.environments["pci-production"].controls if r.id == "change-approval"
    )
    assert approval.params["normal"] == {
        "quorum": 2,
        "role": "approver",
        "valid_for_hours": 24,
        "groups": [{"group": "dba", "when": "migrations"}],
    }


def test_an_unknown_template_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="known: pci"):
        template("sox")


def test_explain_gives_each_control_its_words_and_parameters_as_the_gate_uses_them() -> None:
    policy = load_policy(template("pci").encode(), "pci.yaml").policy
    e = explain(policy, "pci-production")
    by_id = {c.id: c for c in e.controls}
    assert list(by_id) == [ref.id for ref in policy.environments["pci-production"].controls]
    assert by_id["deployer-role"].params == {"role": "production-pusher"}
    assert by_id["deployer-role"].safety
    assert "urgent change never goes past it" in by_id["deployer-role"].words()
    assert by_id["independent-review"].params["min_approvals"] == 1
    assert any(s.startswith("min_approvals = 1: ") for s in by_id["independent-review"].described)
    assert e.deployer_role == "production-pusher"
    assert e.expert_review
    assert [a["experts"] for a in e.high_risk] == ["dba", "payments-owners"]
    data = json.loads(json.dumps(e.to_data()))
    assert [c["id"] for c in data["controls"]] == list(by_id)


def test_explain_names_the_urgent_bypasses_and_refuses_an_unknown_environment() -> None:
    policy = load_policy(template("pci").encode(), "pci.yaml").policy
    production = explain(policy, "production")
    assert production.urgent_may_bypass == ("tests-passed",)
    assert [c.id for c in production.controls if c.urgent_may_bypass] == ["tests-passed"]
    assert not production.expert_review
    with pytest.raises(UsageError, match="it has: development, staging, production"):
        explain(policy, "prod")
