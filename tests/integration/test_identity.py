"""Who is the same person, asked by every separation-of-duties check through one engine:
change approvals, the gate's controls and deployments, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.integration.scenario import ENV, Changes, failing

CYRILLIC_A = "\u0430"
# Ada, as the issue names her: registered as ada@corp.test, GitHub ada-gh.
ADA_CORP = ["adal", "--email", "ada@corp.test", "--github", "ada-gh", "--role", "approver"]
AS_ADA = [
    "Ada <ada+ci@corp.test>",
    "Ada <12345+ada-gh@users.noreply.github.com>",
    "Ada <ada-gh@users.noreply.github.com>",
    f"Ada <{CYRILLIC_A}da@corp.test>",
    "Ada <ADA@Corp.Test>",
]


class Identities(Changes):
    def __init__(self, home: Path, tmp: Path, cli: Cli) -> None:
        super().__init__(home, tmp, cli)
        self.run_ok("actor", "add", *ADA_CORP, "--actor", "admin")

    def written_by(self, author: str, message: str = "PAY-7 work") -> tuple[str, str]:
        """A release whose one commit `author` wrote, and its change (opened by ada)."""
        self.repo.commit(message, {"fees.py": message + author}, author=author)
        release = self.release(str(self._n) + "x")
        self._n += 1
        return release, self.open(release)


@pytest.fixture
def ids(home: Path, tmp_path: Path, cli: Cli) -> Iterator[Identities]:
    scenario = Identities(home, tmp_path, cli)
    yield scenario
    assert scenario.run_ok("ledger", "verify").startswith("OK")


@pytest.mark.parametrize("author", AS_ADA)
def test_ada_cannot_approve_her_own_commit_whatever_email_it_says(
    ids: Identities, author: str
) -> None:
    _, change = ids.written_by(author)
    code, said = ids.approve(change, "adal")
    assert code == 2, said
    assert "adal cannot approve" in said
    assert "they are the author of commit" in said
    assert ids.show(change)["approvals"] == []
    assert ids.approve(change, "alan")[0] == 0  # someone else still may


def test_ada_cannot_approve_a_commit_she_co_authored_under_a_plus_address(
    ids: Identities,
) -> None:
    _, change = ids.written_by(
        "Grace Hopper <grace@example.com>",
        "PAY-8 pairing\n\nCo-authored-by: Ada <ada+pair@corp.test>",
    )
    code, said = ids.approve(change, "adal")
    assert code == 2
    assert "adal cannot approve" in said
    assert "they co-authored commit" in said


def test_an_empty_author_email_cannot_be_told_apart_so_approval_is_refused(
    ids: Identities,
) -> None:
    _, change = ids.written_by("Nobody <>")
    code, said = ids.approve(change, "alan")
    assert code == 2
    assert "alan cannot approve" in said
    assert "cannot be told apart from" in said
    assert ids.show(change)["approvals"] == []


def test_an_unknown_email_of_a_kind_the_approver_holds_stays_different(ids: Identities) -> None:
    _, change = ids.written_by("Zed <zed@corp.test>")
    assert ids.approve(change, "adal")[0] == 0


def test_the_requester_cannot_approve_by_typing_their_name_in_another_case(
    ids: Identities,
) -> None:
    ids.repo.commit("PAY-9 work", {"x.py": "9"}, author="Grace Hopper <grace@example.com>")
    release = ids.release("9")
    opened = ids.run_ok("change", "open", "--release", release, "--env", ENV,
                        "--as", " ALAN ", "--output", "json")  # fmt: skip
    change = str(json.loads(opened)["id"])
    code, said = ids.approve(change, "alan")
    assert code == 2
    assert "alan cannot approve" in said
    assert "they requested it" in said


@pytest.mark.parametrize("author", [*AS_ADA, "Ada <>"])
def test_the_gate_counts_no_review_by_ada_of_her_own_commit(ids: Identities, author: str) -> None:
    head = ids.repo.commit("PAY-10 work", {"y.py": author}, author=author)
    release = ids.release("10")
    ids.review(release, "ada-gh", head)
    ids.tests(release)
    code, doc = ids.gate(release, ENV, "--deployer", "pat")
    assert code == 1
    reason = failing(doc)["independent-review"]
    assert "adal approved it but" in reason or "ada-gh approved it but" in reason, reason


def test_the_gate_blocks_ada_deploying_a_co_authored_commit(ids: Identities) -> None:
    ids.repo.commit("PAY-11 pair\n\nCo-authored-by: Ada <ada+pair@corp.test>",
                    {"z.py": "1"}, author="Grace Hopper <grace@example.com>")  # fmt: skip
    release = ids.release("11")
    code, doc = ids.gate(release, ENV, "--deployer", "ADAL")
    assert code == 1
    reason = failing(doc)["deployer-not-author"]
    assert reason.startswith("deployer adal wrote 1 commit of this release"), reason
    assert "(co-author)" in reason


def test_plus_addressing_off_for_a_domain_in_the_instance_config(
    ids: Identities, home: Path
) -> None:
    config = home / "config.toml"
    config.write_text(config.read_text() + '\n[identity]\nplus_addressing_off = ["Corp.Test"]\n')
    _, change = ids.written_by("Ada <ada+ci@corp.test>")
    assert ids.approve(change, "adal")[0] == 0  # a different mailbox on that domain


def test_a_bad_identity_table_is_a_configuration_error(ids: Identities, home: Path) -> None:
    config = home / "config.toml"
    good = config.read_text()
    config.write_text(good + "\n[identity]\nplus_addressing_off = 'corp.test'\n")
    result = ids.cli("actor", "list", "--home", home)
    assert result.code == 2
    assert "[identity] plus_addressing_off must be a list of email domains" in result.err
    config.write_text(good)


def test_the_sock_puppet_an_admin_makes_cannot_approve_their_commit(
    ids: Identities, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids.run_ok("actor", "add", "admin1", "--email", "admin1@corp.test", "--role", "admin",
               "--actor", "admin")  # fmt: skip
    _, change = ids.written_by("Admin One <admin1@corp.test>")
    ids.run_ok("actor", "add", "admin1-alt", "--actor", "admin1")
    ids.run_ok("actor", "grant", "admin1-alt", "--role", "approver", "--actor", "admin1")
    minted = ids.cli("token", "create", "--actor", "admin1-alt", "--as", "admin1",
                     "--home", ids.home)  # fmt: skip
    assert minted.code == 2
    assert "admin1 cannot create a token for admin1-alt: admin1-alt is a person" in minted.err
    token = ids.run_ok("token", "create", "--actor", "admin1-alt", "--as", "admin1-alt").strip()
    monkeypatch.setenv("CHANGEPROOF_TOKEN", token)
    refused = ids.cli("change", "approve", change, "--home", ids.home)
    monkeypatch.delenv("CHANGEPROOF_TOKEN")
    assert refused.code == 2
    assert f"admin1-alt cannot approve {change}: the author of commit" in refused.err
    assert "(admin1) made them an actor, so they are not independent" in refused.err
    assert ids.show(change)["approvals"] == []


def test_a_pipeline_identity_gets_its_token_from_an_admin(ids: Identities) -> None:
    ids.run_ok("actor", "add", "admin1", "--role", "admin", "--actor", "admin")
    ids.run_ok("actor", "add", "deploy-bot", "--pipeline", "--actor", "admin1")
    assert ids.run_ok("token", "create", "--actor", "deploy-bot", "--as", "admin1").startswith(
        "cpt_"
    )


def test_the_gate_does_not_count_an_approval_whose_role_the_requester_granted(
    ids: Identities,
) -> None:
    ids.run_ok("actor", "add", "admin1", "--email", "admin1@corp.test", "--role", "admin",
               "--actor", "admin")  # fmt: skip
    release, digest = ids.ready("20")
    doc = json.loads(ids.run_ok("change", "open", "--release", release, "--env", ENV,
                                "--actor", "admin1", "--output", "json"))  # fmt: skip
    change = str(doc["id"])
    assert ids.approve(change, "alan")[0] == 0
    assert ids.approve(change, "barbara")[0] == 0
    code, doc = ids.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert code == 0, failing(doc)
    # The requester takes barbara's role away and gives it back: now it is theirs.
    ids.run_ok("actor", "revoke", "barbara", "--role", "approver", "--actor", "admin1")
    ids.run_ok("actor", "grant", "barbara", "--role", "approver", "--actor", "admin1")
    code, doc = ids.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert code == 1
    reason = failing(doc)["change-approval"]
    assert "needs 1 more approval from role approver" in reason
    assert (
        "not counting barbara: its requester admin1 (admin1) granted them role approver, so "
        "they are not independent of the change"
    ) in reason
    said = ids.approve(change, "barbara")[1]
    assert "barbara cannot approve" in said
    assert "granted them role approver" in said


def test_a_reviewer_a_writer_added_is_not_independent_of_their_commit(ids: Identities) -> None:
    ids.run_ok("actor", "add", "sock", "--github", "sock-gh", "--actor", "ada")
    head = ids.repo.commit("PAY-30 work", {"s.py": "1"}, author="Ada Lovelace <ada@example.com>")
    release = ids.release("30")
    ids.review(release, "sock-gh", head)
    ids.tests(release)
    code, doc = ids.gate(release, ENV, "--deployer", "pat")
    assert code == 1
    assert (
        "sock approved it but was made an actor by ada, its author ada@example.com, so is "
        "not independent of it"
    ) in failing(doc)["independent-review"]


def test_actor_names_resolve_whatever_their_case_and_spaces_everywhere(ids: Identities) -> None:
    doc = json.loads(ids.run_ok("actor", "grant", "ALAN", "--role", "reviewer",
                                "--actor", "admin", "--output", "json"))  # fmt: skip
    assert doc["actor"]["name"] == "alan"
    assert "reviewer" in doc["actor"]["roles"]
    ids.run_ok("actor", "revoke", " Alan ", "--role", "reviewer", "--actor", "admin")
    ids.run_ok("actor", "alias", "add", "Alan", "--github", "alan-gh", "--actor", "admin")
    ids.run_ok("token", "create", "--actor", "ALAN", "--as", " alan ")
    listed = json.loads(ids.run_ok("token", "list", "--actor", "Alan", "--output", "json"))
    assert [t["actor"] for t in listed] == ["alan"]

    release, digest = ids.ready("40")
    change = ids.open(release)
    assert ids.approve(change, " ALAN ")[0] == 0
    assert ids.approve(change, "Barbara")[0] == 0
    code, doc = ids.gate(release, ENV, "--deployer", "Pat", "--artifact", digest)
    assert code == 0, failing(doc)
    code, deployed = ids.deploy(release, digest, " PAT ")
    assert code == 0, deployed
    assert deployed["authorized"] is True


def test_a_deployment_after_an_alias_is_flagged_when_the_alias_wrote_the_release(
    ids: Identities,
) -> None:
    ids.repo.commit("PAY-50 work", {"home.py": "1"}, author="Pat <pat.home@other.test>")
    head = ids.repo.head()
    release = ids.release("50")
    ids.review(release, "carol-c", head)
    ids.tests(release)
    ids.run_ok("attest", "artifact", ids.artifact, "--release", release)
    digest = hashlib.sha256(ids.artifact.read_bytes()).hexdigest()
    change = ids.open(release)
    assert ids.approve(change, "alan")[0] == 0
    assert ids.approve(change, "barbara")[0] == 0
    code, doc = ids.gate(release, ENV, "--deployer", "pat", "--artifact", digest)
    assert code == 0, failing(doc)  # pat.home@other.test was nobody's then
    ids.run_ok("actor", "alias", "add", "pat", "--email", "pat.home@other.test",
               "--actor", "admin")  # fmt: skip
    code, deployed = ids.deploy(release, digest, "pat")
    assert code == 1
    assert deployed["authorized"] is False
    assert "pat authored commit" in str(deployed["reason"])
    assert "the environment needs deployer-not-author" in str(deployed["reason"])


def test_a_requester_nobody_registered_is_nobody_else(ids: Identities) -> None:
    """A pipeline opening changes under a name no actor holds: the name is compared by its
    aliases alone, so approvers stay independent of it, unless it is one of theirs."""
    ids.repo.commit("PAY-70 work", {"p.py": "1"}, author="Grace Hopper <grace@example.com>")
    release = ids.release("70")
    opened = ids.run_ok("change", "open", "--release", release, "--env", ENV,
                        "--as", "ci-pipeline", "--output", "json")  # fmt: skip
    assert ids.approve(str(json.loads(opened)["id"]), "alan")[0] == 0
    opened = ids.run_ok("change", "open", "--release", release, "--env", ENV,
                        "--as", "ADA-GH", "--output", "json")  # fmt: skip
    code, said = ids.approve(str(json.loads(opened)["id"]), "adal")
    assert code == 2
    assert "adal cannot approve" in said
    assert "they requested it" in said
