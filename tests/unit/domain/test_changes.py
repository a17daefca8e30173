"""Changes as pure logic: ids, the content digest, business days, counting approvals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from changeproof.cli.names import CLI_NAMES
from changeproof.domain.actors import Actor, Directory, Origin
from changeproof.domain.canonical import JsonValue
from changeproof.domain.changes import (
    ApprovalRecord,
    add_business_days,
    approval_status,
    change_id,
    change_parties,
    made_by_party,
    parse_change_id,
)
from changeproof.domain.environments import environment_name
from changeproof.domain.errors import UsageError
from changeproof.domain.rfc import ApprovalRule, GroupRequirement, content_digest
from tests.unit.domain.rfc_samples import commit, sample_rfc

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PEOPLE = Directory.of(
    [
        Actor("alan", roles=frozenset({"approver"})),
        Actor("barbara", roles=frozenset({"approver"}), groups=frozenset({"dba"})),
        Actor("dave"),
    ]
)
RULE = ApprovalRule(2, "approver", 24, (GroupRequirement("dba", "migrations"),))


def _approval(seq: int, actor: str, digest: str = "d1", hours_ago: float = 1) -> ApprovalRecord:
    return ApprovalRecord(seq, actor, digest, NOW - timedelta(hours=hours_ago))


@given(st.integers(min_value=1, max_value=10**17))
def test_a_change_id_reads_back_with_or_without_its_prefix(seq: int) -> None:
    assert parse_change_id(change_id(seq)) == seq
    assert parse_change_id(str(seq)) == seq
    assert parse_change_id(change_id(seq).lower()) == seq


@given(st.text(max_size=30))
def test_anything_else_is_no_change_id(text: str) -> None:
    found = parse_change_id(text)
    assert found is None or change_id(found) == "CHG-" + text.strip().upper().removeprefix("CHG-")


def test_the_digest_ignores_what_happens_after_the_rfc_was_written() -> None:
    rfc: dict[str, JsonValue] = {"release": "payments/1", "plan": "helm upgrade"}
    later: dict[str, JsonValue] = {
        **rfc,
        "approvals": [{"actor": "alan"}],
        "state": "approved",
        "id": "CHG-9",
    }
    assert content_digest(rfc) == content_digest(later)
    assert content_digest(rfc) != content_digest({**rfc, "plan": "helm upgrade --force"})


def test_business_days_skip_the_weekend() -> None:
    friday = datetime(2026, 1, 2, 15, 0, tzinfo=UTC)
    assert add_business_days(friday, 2) == datetime(2026, 1, 6, 15, 0, tzinfo=UTC)
    assert add_business_days(friday, 0) == friday
    wednesday = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert add_business_days(wednesday, 2) == datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_each_actor_counts_once_and_only_for_the_current_digest() -> None:
    approvals = [_approval(1, "alan", "old"), _approval(2, "alan"), _approval(3, "alan")]
    status = approval_status(
        RULE, approvals, digest="d1", now=NOW, directory=PEOPLE, migrations=False, high_risk=False
    )
    assert [a.actor for a in status.counted] == ["alan"]
    assert status.missing == ("1 more approval from role approver",)


def test_stale_expired_and_unqualified_approvals_do_not_count() -> None:
    approvals = [
        _approval(1, "alan", digest="old"),
        _approval(2, "barbara", hours_ago=25),
        _approval(3, "dave"),
    ]
    status = approval_status(
        RULE, approvals, digest="d1", now=NOW, directory=PEOPLE, migrations=False, high_risk=False
    )
    assert status.counted == ()
    assert [a.actor for a in status.stale] == ["alan"]
    assert [a.actor for a in status.expired] == ["barbara"]
    assert [a.actor for a in status.unqualified] == ["dave"]
    assert not status.satisfied


def test_a_group_is_needed_only_when_its_condition_holds() -> None:
    approvals = [_approval(1, "alan"), _approval(2, "dave")]
    PEOPLE_2 = Directory.of([*PEOPLE.actors.values(), Actor("zoe", roles=frozenset({"approver"}))])
    both = [*approvals[:1], _approval(3, "zoe")]
    plain = approval_status(
        RULE, both, digest="d1", now=NOW, directory=PEOPLE_2, migrations=False, high_risk=False
    )
    assert plain.satisfied
    with_migrations = approval_status(
        RULE, both, digest="d1", now=NOW, directory=PEOPLE_2, migrations=True, high_risk=False
    )
    assert with_migrations.missing == ("an approval from a member of group dba with role approver",)
    with_dba = approval_status(
        RULE,
        [approvals[0], _approval(4, "barbara")],
        digest="d1",
        now=NOW,
        directory=PEOPLE_2,
        migrations=True,
        high_risk=False,
    )
    assert with_dba.satisfied


def test_a_rule_survives_its_data_form() -> None:
    assert ApprovalRule.from_data(RULE.to_data()) == RULE


@given(st.text(max_size=120))
def test_an_environment_name_is_accepted_or_refused_naming_the_option(text: str) -> None:
    refused: UsageError | None = None
    try:
        accepted = environment_name(text)
    except UsageError as e:
        refused = e
    if refused is None:
        assert accepted == text
        assert 1 <= len(text) <= 100
    else:
        assert refused.fields == ["environment"]
        assert refused.rendered(CLI_NAMES)[0].startswith("--env ")
        assert len(refused.message) < 300  # a hostile name is never echoed whole


def test_an_approver_the_requester_or_a_writer_made_does_not_count() -> None:
    ada = Actor("ada", frozenset({"ada@corp.test"}), github="ada-gh")
    alt = Actor("ada-alt", roles=frozenset({"approver"}))
    granted = Actor("bea", roles=frozenset({"approver"}))
    people = Directory.of(
        [ada, alt, granted, *PEOPLE.actors.values()],
        origins={
            "ada-alt": Origin("ADA"),  # made by ada, named in another case
            "bea": Origin("root", {("role", "approver"): "ada+ci@corp.test"}),
            "alan": Origin("root", {("role", "approver"): "root"}),
        },
    )
    rfc = sample_rfc(requested_by="carl")
    rfc = replace(rfc, what=replace(rfc.what, commits=(
        commit("ab" * 20, "12345+ada-gh@users.noreply.github.com", committer="ada@corp.test"),
    )))  # fmt: skip
    approvals = [_approval(1, "ada-alt"), _approval(2, "bea"), _approval(3, "alan")]
    status = approval_status(
        RULE, approvals, digest="d1", now=NOW, directory=people, migrations=False,
        high_risk=False, parties=change_parties(rfc),
    )  # fmt: skip
    assert [a.actor for a in status.counted] == ["alan"]
    assert [(a.actor, why) for a, why in status.dependent] == [
        ("ada-alt", f"the author of commit {'ab' * 6} (ADA) made them an actor"),
        ("bea", f"the author of commit {'ab' * 6} (ada+ci@corp.test) granted them role approver"),
    ]
    assert made_by_party(people, ada, "approver", change_parties(rfc)) is None  # root made ada
