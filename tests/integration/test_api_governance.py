"""Governing through the server: one governor proposes a policy as its text, another
approves it, and the active policy changes; the proposer cannot approve their own; a
malformed policy is 422 naming each problem's key and line; a simulation answers what
`policy simulate -o json` prints; actors are added, granted and revoked as the CLI records
them, always by the authenticated caller. Real uvicorn, both backends."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Cli, ints, tamper
from tests.integration.api_scenario import Callers, add_callers, client
from tests.integration.scenario import ADA, POLICY, Scenario
from tests.integration.test_api import _problem

LAX = """version: 1
tickets: jira:PAY
environments:
  production:
    controls:
      - ticket-reference
"""

STRICT = LAX + "      - tests-passed\n"

# Line 7 names a control no registry holds.
UNKNOWN_CONTROL = LAX + "      - no-such-control\n"


def _size(home: Path) -> int:
    return ints(home, "SELECT tree_size FROM ledger_head")[0]


def _errors(answer: httpx.Response, slug: str) -> list[dict[str, object]]:
    errors = _problem(answer, slug)["errors"]
    assert isinstance(errors, list)
    return errors


def _json(cli: Cli, home: Path, *args: str | Path) -> object:
    done = cli(*args, "--home", home, "-o", "json")
    assert done.code == 0, done.err
    return json.loads(done.out)


def _governors(cli: Cli, home: Path) -> Callers:
    """The callers, with ana an admin too (root granted it): two people who may govern."""
    callers = add_callers(cli, home)
    done = cli("actor", "grant", "ana", "--role", "admin", "--as", "root", "--home", home)
    assert done.code == 0, done.err
    return callers


def _propose(api: httpx.Client, callers: Callers, caller: str, text: str) -> httpx.Response:
    body = {"policy": text, "source": "changeproof.yaml"}
    return api.post("/api/v1/policies", headers=callers.auth(caller), json=body)


def test_a_policy_one_governor_proposes_is_active_once_another_approves(
    home: Path, cli: Cli
) -> None:
    callers = _governors(cli, home)
    with client(home) as api:
        none = api.get("/api/v1/policies/active", headers=callers.auth("auditor"))
        _problem(none, "not-found")

        answer = _propose(api, callers, "approver", LAX)
        assert answer.status_code == 201, answer.text
        proposed = answer.json()
        assert (proposed["active"], proposed["recorded"], proposed["mode"]) == (False, True, None)
        assert proposed["proposal"] == f"POL-{proposed['seq']}"
        assert proposed["policy"] == "changeproof.yaml"
        # Recorded as ana, the token's actor, and not active yet.
        status = _json(cli, home, "policy", "status")
        assert isinstance(status, dict)
        assert status["active"] is None
        assert [p["proposed_by"] for p in status["pending"]] == ["ana"]
        _problem(api.get("/api/v1/policies/active", headers=callers.auth("reader")), "not-found")
        # Proposing it again records nothing and names the pending proposal.
        again = _propose(api, callers, "approver", LAX).json()
        assert (again["recorded"], again["proposal"]) == (False, proposed["proposal"])

        approve = f"/api/v1/policies/proposals/{proposed['proposal']}/approve"
        before = _size(home)
        own = api.post(approve, headers=callers.auth("approver"), json={})
        assert "they proposed it" in str(_problem(own, "forbidden")["detail"])
        read_another = api.post(approve, headers=callers.auth("admin"), json={"digest": "0" * 64})
        _problem(read_another, "conflict")
        assert _size(home) == before

        done = api.post(approve, headers=callers.auth("admin"), json={"digest": proposed["digest"]})
        assert done.status_code == 200, done.text
        approved = done.json()
        assert approved["mode"] == "two-person"
        assert (approved["proposal"], approved["digest"]) == (
            proposed["proposal"],
            proposed["digest"],
        )

        active = api.get("/api/v1/policies/active", headers=callers.auth("auditor")).json()
        status = _json(cli, home, "policy", "status")
        assert isinstance(status, dict)
        assert {k: v for k, v in active.items() if k != "policy"} == status["active"]
        assert active["digest"] == proposed["digest"]
        assert active["actor"] == "root"
        controls = active["policy"]["environments"]["production"]["controls"]
        assert [c["id"] for c in controls] == ["ticket-reference"]
        # The recorded body, sent back as JSON text, is the same policy: already active.
        same = _propose(api, callers, "admin", json.dumps(active["policy"], indent=2)).json()
        assert (same["digest"], same["recorded"], same["active"]) == (active["digest"], False, True)

        # The history, oldest first: the proposal (now activated) and its activation.
        history = api.get("/api/v1/policies", headers=callers.auth("reader")).json()
        kinds = [(i["kind"], i["seq"]) for i in history["items"]]
        assert kinds == [("proposal", proposed["seq"]), ("activation", approved["seq"])]
        assert history["items"][0]["state"] == "activated"
        assert history["items"][0]["decided_by"] == "root"
        first = api.get(
            "/api/v1/policies", headers=callers.auth("reader"), params={"page_size": 1}
        ).json()
        rest = api.get(
            "/api/v1/policies",
            headers=callers.auth("reader"),
            params={"page_token": first["next_page_token"]},
        ).json()
        assert first["items"] + rest["items"] == history["items"]
        twice = api.get(
            "/api/v1/policies?page_size=1&page_size=1000", headers=callers.auth("reader")
        )
        assert [e["pointer"] for e in _errors(twice, "invalid-request")] == ["/page_size"]
        assert rest["next_page_token"] is None

        shown = api.get(
            f"/api/v1/policies/proposals/{proposed['proposal']}", headers=callers.auth("reader")
        )
        assert {k: v for k, v in history["items"][0].items() if k != "kind"} == shown.json()

        # A second proposal is withdrawn by its proposer, through the API.
        strict = _propose(api, callers, "admin", STRICT).json()
        withdrawn = api.post(
            f"/api/v1/policies/proposals/{strict['proposal']}/reject",
            headers=callers.auth("admin"),
            json={"reason": "not yet"},
        )
        assert withdrawn.status_code == 200, withdrawn.text
        assert (withdrawn.json()["state"], withdrawn.json()["decided_by"]) == ("rejected", "root")
    check = cli("ledger", "rebuild", "--check", "--home", home)
    assert check.code == 0, check.out + check.err


def test_while_no_one_holds_admin_a_proposed_policy_is_active_at_once(home: Path, cli: Cli) -> None:
    """The set-up rule through the server: 201 either way, the document says which; the
    active policy written out as YAML is the same policy (its digest) when given back."""
    done = cli("actor", "add", "founder", "--as", "setup", "--home", home)
    assert done.code == 0, done.err
    created = _json(cli, home, "token", "create", "--actor", "founder", "--as", "founder")
    assert isinstance(created, dict)
    auth = {"Authorization": f"Bearer {created['token']}"}
    with client(home) as api:
        answer = api.post(
            "/api/v1/policies", headers=auth, json={"policy": POLICY, "source": "full.yaml"}
        )
        assert answer.status_code == 201, answer.text
        activated = answer.json()
        assert (activated["active"], activated["mode"], activated["proposal"]) == (
            True,
            "setup",
            None,
        )
        written = api.get("/api/v1/policies/active", headers=auth, params={"format": "yaml"})
        assert written.headers["content-type"].startswith("application/yaml")
        again = api.post(
            "/api/v1/policies", headers=auth, json={"policy": written.text, "source": "back.yaml"}
        )
        assert again.status_code == 201, again.text
        assert (again.json()["digest"], again.json()["recorded"], again.json()["active"]) == (
            activated["digest"],
            False,
            True,
        )
        history = api.get("/api/v1/policies", headers=auth).json()["items"]
        assert [(i["kind"], i["source"]) for i in history] == [("activation", "full.yaml")]

        # A database administrator plants another policy as the active one: the table is
        # not the truth, its ledger entry is.
        tamper(home, "UPDATE policy_activations SET digest = '" + "0" * 64 + "'")
        planted = api.get("/api/v1/policies/active", headers=auth)
        _problem(planted, "integrity-failure")


def test_a_policy_that_is_not_valid_is_422_naming_each_problem_and_records_nothing(
    home: Path, cli: Cli, tmp_path: Path
) -> None:
    callers = _governors(cli, home)
    file = tmp_path / "changeproof.yaml"
    file.write_text(UNKNOWN_CONTROL)
    validated = cli("policy", "validate", "--policy", file, "-o", "json")
    assert validated.code == 2
    (expected,) = json.loads(validated.out)["errors"]
    before = _size(home)
    with client(home) as api:
        for route in ("/api/v1/policies", "/api/v1/policies/simulate"):
            answer = api.post(
                route,
                headers=callers.auth("admin"),
                json={"policy": UNKNOWN_CONTROL, "source": str(file)},
            )
            (error,) = _errors(answer, "invalid-input")
            assert error["pointer"] == "/policy/environments/production/controls/1"
            # The words `policy validate` prints: file, line, key and problem.
            assert error["detail"] == (
                f"{file}:{expected['line']}: {expected['key']}: {expected['problem']}"
            )
            assert expected["line"] == 7
        broken = api.post(
            "/api/v1/policies",
            headers=callers.auth("admin"),
            json={"policy": "version: 1\nenvironments: [\n", "source": "changeproof.yaml"},
        )
        (error,) = _errors(broken, "invalid-input")
        assert error["pointer"] == "/policy"
        assert str(error["detail"]).startswith("changeproof.yaml:")
        assert "not valid YAML" in str(error["detail"])
        not_utf8 = api.post(
            "/api/v1/policies",
            headers={**callers.auth("admin"), "content-type": "application/json"},
            content=b'{"policy": "version: 1\\ud800", "source": "changeproof.yaml"}',
        )
        _problem(not_utf8, "invalid-request")  # JSON with a lone surrogate: no text at all
        too_large = api.post(
            "/api/v1/policies",
            headers=callers.auth("admin"),
            json={"policy": "#" * (1 << 20) + "\n", "source": "changeproof.yaml"},
        )
        _problem(too_large, "invalid-request")
        bad_source = api.post(
            "/api/v1/policies",
            headers=callers.auth("admin"),
            json={"policy": LAX, "source": "a\nb"},
        )
        assert [e["pointer"] for e in _errors(bad_source, "invalid-request")] == ["/source"]
        bad_since = api.post(
            "/api/v1/policies/simulate",
            headers=callers.auth("reader"),
            json={"policy": LAX, "source": "changeproof.yaml", "since": "last week"},
        )
        assert [e["pointer"] for e in _errors(bad_since, "invalid-request")] == ["/since"]
        path = api.post(
            "/api/v1/policies",
            headers=callers.auth("admin"),
            json={"policy_file": "/etc/passwd", "source": "x"},
        )
        assert {"/policy", "/policy_file"} <= {
            e["pointer"] for e in _errors(path, "invalid-request")
        }
    assert _size(home) == before


def test_tokens_without_the_govern_or_admin_scope_cannot_govern(home: Path, cli: Cli) -> None:
    callers = _governors(cli, home)
    with client(home) as api:
        proposed = _propose(api, callers, "approver", LAX).json()
        before = _size(home)
        routes = [
            ("POST", "/api/v1/policies", {"policy": LAX, "source": "changeproof.yaml"}),
            ("POST", f"/api/v1/policies/proposals/{proposed['proposal']}/approve", {}),
            ("POST", f"/api/v1/policies/proposals/{proposed['proposal']}/reject", {"reason": "x"}),
            ("POST", "/api/v1/actors", {"name": "mallory", "roles": ["admin"]}),
            ("POST", "/api/v1/actors/ci/grants", {"role": "approver"}),
            ("POST", "/api/v1/actors/ci/aliases", {"emails": ["ci@example.com"]}),
            ("DELETE", "/api/v1/actors/ana/grants/role/admin", None),
            ("POST", "/api/v1/policies/governance", {"approver_role": "approver"}),
        ]
        for caller in ("pipeline", "reader", "auditor"):
            for method, route, body in routes:
                answer = api.request(method, route, headers=callers.auth(caller), json=body)
                _problem(answer, "insufficient-scope")
        # Reading stays open to them, simulating too.
        for caller in ("pipeline", "reader", "auditor"):
            assert api.get("/api/v1/policies", headers=callers.auth(caller)).status_code == 200
            simulated = api.post(
                "/api/v1/policies/simulate",
                headers=callers.auth(caller),
                json={"policy": LAX, "source": "changeproof.yaml"},
            )
            assert simulated.status_code == 200, simulated.text
    assert _size(home) == before


def test_a_simulation_answers_what_policy_simulate_prints(
    home: Path, cli: Cli, tmp_path: Path
) -> None:
    s = Scenario(home, tmp_path, cli)
    s.policy.write_text(LAX)
    s.repo.commit("PAY-1 add refunds", {"refunds.py": "x = 1\n"}, author=ADA)
    tested = s.release("1.0")
    s.tests(tested)
    s.repo.commit("PAY-2 round half-even", {"money.py": "y = 2\n"}, author=ADA)
    untested = s.release("1.1")
    for release in (tested, untested):
        assert s.gate(release, "production")[0] == 0
    strict = tmp_path / "strict.yaml"
    strict.write_text(STRICT)
    callers = add_callers(cli, home)
    before = _size(home)
    for since, env in ((None, None), ("2000-01-01", "production"), ("2999-01-01", None)):
        args: list[str | Path] = ["policy", "simulate", "--policy", strict]
        args += [] if since is None else ["--since", since]
        args += [] if env is None else ["--env", env]
        printed = _json(cli, home, *args)
        body: dict[str, object] = {"policy": STRICT, "source": str(strict)}
        body |= {} if since is None else {"since": since}
        body |= {} if env is None else {"environment": env}
        with client(home) as api:
            answer = api.post(
                "/api/v1/policies/simulate", headers=callers.auth("auditor"), json=body
            )
        assert answer.status_code == 200, answer.text
        assert answer.json() == printed
    assert isinstance(printed, dict)
    assert printed["examined"] == 0  # the last run: nothing decided since 2999
    assert _size(home) == before


def _without_times(documents: object) -> object:
    """`actor list -o json` with each entry's time left out (the two paths ran apart)."""
    assert isinstance(documents, list)
    return [{k: v for k, v in d.items() if k != "added_at"} for d in documents]


def test_actors_added_granted_and_revoked_through_the_api_are_what_the_cli_records(
    home: Path, cli: Cli, tmp_path: Path
) -> None:
    callers = add_callers(cli, home)
    admin = callers.auth("admin")
    with client(home) as api:
        added = api.post(
            "/api/v1/actors",
            headers=admin,
            json={
                "name": "bob",
                "emails": ["Bob@Example.com"],
                "github": "bob-b",
                "roles": ["reviewer", "approver"],
                "groups": ["dba"],
            },
        )
        assert added.status_code == 201, added.text
        report = added.json()
        assert [(c["event"], c["kind"], c["value"]) for c in report["changes"]] == [
            ("actor.added", None, None),
            ("actor.role.granted", "role", "approver"),
            ("actor.role.granted", "role", "reviewer"),
            ("actor.group.granted", "group", "dba"),
        ]
        granted = api.post("/api/v1/actors/bob/grants", headers=admin, json={"role": "qa-pusher"})
        assert granted.status_code == 201, granted.text
        revoked = api.delete("/api/v1/actors/bob/grants/group/dba", headers=admin)
        assert revoked.status_code == 200, revoked.text
        aliased = api.post("/api/v1/actors/bob/aliases", headers=admin, json={"gitlab": "bob-gl"})
        assert aliased.status_code == 201, aliased.text
        pipeline = api.post(
            "/api/v1/actors", headers=admin, json={"name": "deployer", "pipeline": True}
        )
        assert pipeline.status_code == 201, pipeline.text
        shown = api.get("/api/v1/actors/BOB", headers=callers.auth("auditor")).json()
        _problem(api.get("/api/v1/actors/nobody", headers=admin), "not-found")
        listed = api.get("/api/v1/actors", headers=callers.auth("reader")).json()["items"]

    printed = _json(cli, home, "actor", "list")
    assert isinstance(printed, list)
    assert sorted(listed, key=lambda a: a["name"]) == printed  # the CLI lists them by name
    (bob,) = [a for a in printed if a["name"] == "bob"]
    assert shown == bob == aliased.json()["actor"]
    assert (bob["roles"], bob["groups"]) == (["approver", "qa-pusher", "reviewer"], [])
    assert (bob["emails"], bob["github"], bob["gitlab"]) == (["bob@example.com"], "bob-b", "bob-gl")
    assert {g["granted_by"] for g in bob["grants"]} == {"root"}  # the token's actor
    assert bob["added_by"] == "root"

    # The same steps through the CLI, on a twin instance, record the same directory.
    twin = tmp_path / "twin"
    assert (
        cli("init", "--actor", "tester", "--origin", "twin.example/ledger", "--home", twin).code
        == 0
    )
    add_callers(cli, twin)
    for args in (
        ["add", "bob", "--email", "Bob@Example.com", "--github", "bob-b", "--role", "reviewer",
         "--role", "approver", "--group", "dba"],
        ["grant", "bob", "--role", "qa-pusher"],
        ["revoke", "bob", "--group", "dba"],
        ["alias", "add", "bob", "--gitlab", "bob-gl"],
        ["add", "deployer", "--pipeline"],
    ):  # fmt: skip
        done = cli("actor", *args, "--as", "root", "--home", twin)
        assert done.code == 0, done.err
    assert _without_times(_json(cli, twin, "actor", "list")) == _without_times(printed)


def test_nobody_grants_themselves_and_the_actor_is_always_the_caller(home: Path, cli: Cli) -> None:
    callers = add_callers(cli, home)
    before = _size(home)
    with client(home) as api:
        for route, body in (
            ("/api/v1/actors/root/grants", {"role": "approver"}),
            ("/api/v1/actors/ROOT/grants", {"group": "dba"}),
        ):
            answer = api.post(route, headers=callers.auth("admin"), json=body)
            assert "cannot grant" in str(_problem(answer, "forbidden")["detail"])
        # ana holds approver, not admin: once there is an admin only an admin grants roles.
        answer = api.post(
            "/api/v1/actors/ci/grants", headers=callers.auth("approver"), json={"role": "auditor"}
        )
        _problem(answer, "forbidden")
        # The only admin cannot be revoked, not even by themselves.
        answer = api.delete("/api/v1/actors/root/grants/role/admin", headers=callers.auth("admin"))
        assert answer.status_code in (403, 409), answer.text
        # No body names who acts.
        for route, body in (
            ("/api/v1/actors", {"name": "eve", "by": "ana"}),
            ("/api/v1/actors/ci/grants", {"role": "approver", "actor": "ana"}),
            ("/api/v1/policies", {"policy": LAX, "source": "p.yaml", "actor": "ana"}),
        ):
            answer = api.post(route, headers=callers.auth("admin"), json=body)
            _problem(answer, "invalid-request")
        # Neither kind nor value of a grant is anything but a role or a group.
        answer = api.delete("/api/v1/actors/ana/grants/token/x", headers=callers.auth("admin"))
        _problem(answer, "invalid-request")
        answer = api.post("/api/v1/actors/ana/grants", headers=callers.auth("admin"), json={})
        assert [e["pointer"] for e in _errors(answer, "invalid-request")] == [
            "/role",
            "/group",
        ]
    assert _size(home) == before


_MUTATED_POLICY = st.builds(
    lambda at, inserted, cut: LAX[:at] + inserted + LAX[at + cut :],
    st.integers(0, len(LAX)),
    st.text(max_size=12),
    st.integers(0, 8),
)


def test_any_policy_text_is_an_answer_or_a_problem_never_a_crash(home: Path, cli: Cli) -> None:
    """A policy given by a client is hostile input: whatever its text, the server answers
    with a simulation or a 422 naming a line, and records nothing of a text it refuses."""
    callers = _governors(cli, home)
    with client(home) as api:

        @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(text=st.one_of(_MUTATED_POLICY, st.text(max_size=200)))
        def check(text: str) -> None:
            body = {"policy": text, "source": "fuzzed.yaml"}
            simulated = api.post(
                "/api/v1/policies/simulate", headers=callers.auth("reader"), json=body
            )
            assert simulated.status_code in (200, 422), simulated.text
            before = _size(home)
            proposed = api.post("/api/v1/policies", headers=callers.auth("admin"), json=body)
            assert proposed.status_code == (201 if simulated.status_code == 200 else 422)
            if proposed.status_code == 422:
                assert _size(home) == before
                for error in _errors(proposed, "invalid-input"):
                    assert str(error["pointer"]).startswith("/policy")
                    assert str(error["detail"]).startswith("fuzzed.yaml")

        check()


def test_a_retried_proposal_or_actor_records_once_and_answers_the_first_answer(
    home: Path, cli: Cli
) -> None:
    callers = _governors(cli, home)
    with client(home) as api:
        for route, body in (
            ("/api/v1/policies", {"policy": LAX, "source": "changeproof.yaml"}),
            ("/api/v1/actors", {"name": "bob", "roles": ["reviewer"]}),
        ):
            headers = {
                **callers.auth("admin"),
                "Idempotency-Key": "retry" + route.replace("/", "-"),
            }
            first = api.post(route, headers=headers, json=body)
            assert first.status_code == 201, first.text
            size = _size(home)
            retried = api.post(route, headers=headers, json=body)
            assert (retried.status_code, retried.content) == (201, first.content)
            assert retried.headers["idempotent-replayed"] == "true"
            assert _size(home) == size


def test_the_status_and_governance_routes_answer_as_the_cli(home: Path, cli: Cli) -> None:
    callers = _governors(cli, home)
    with client(home) as api:
        _propose(api, callers, "approver", LAX)
        status = api.get("/api/v1/policies/status", headers=callers.auth("auditor")).json()
        assert status == _json(cli, home, "policy", "status")
        assert status["governance"]["mode"] == "two-person"
        before = _size(home)
        route = "/api/v1/policies/governance"
        alone = api.post(route, headers=callers.auth("admin"), json={"one_person": True})
        assert "single admin" in str(_problem(alone, "conflict")["detail"])
        nothing = api.post(route, headers=callers.auth("admin"), json={})
        assert [e["pointer"] for e in _errors(nothing, "invalid-request")] == [
            "/one_person",
            "/approver_role",
        ]
        assert _size(home) == before
        # ana, the other admin, makes the approver role the one a second person needs.
        done = api.post(route, headers=callers.auth("approver"), json={"approver_role": "approver"})
        assert done.status_code == 200, done.text
        assert (done.json()["approver_role"], done.json()["one_person"]) == ("approver", False)
        governance = _json(cli, home, "policy", "status")
        assert isinstance(governance, dict)
        assert governance["governance"] == done.json()
