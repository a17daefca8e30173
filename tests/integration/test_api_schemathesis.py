"""schemathesis over the published OpenAPI document (docs/api/openapi.json, the golden file)
against a real server on each backend: whatever a client sends within or outside the
schema, no operation answers 5xx, and every answer conforms to the document (its status,
content type, headers and body schema; errors as problem documents)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import positive_data_acceptance

from tests.conftest import Cli
from tests.integration.api_scenario import add_callers, client
from tests.integration.scenario import Scenario

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.json"
schema = schemathesis.openapi.from_path(DOCUMENT)


@pytest.fixture
def served(home: Path, tmp_path: Path, cli: Cli) -> Iterator[tuple[str, dict[str, str]]]:
    """A server over an instance with a release, an active policy and every kind of caller;
    schemathesis calls it as the admin, who holds every scope."""
    scenario = Scenario(home, tmp_path, cli)
    scenario.repo.commit("PAY-1 refunds", {"app.py": "print(1)\n"})
    scenario.release()
    scenario.activate()
    callers = add_callers(cli, home)
    with client(home) as api:
        yield str(api.base_url).rstrip("/"), callers.auth("admin")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_keeps_to_its_published_schema(
    case: Case[Any], served: tuple[str, dict[str, str]]
) -> None:
    base_url, auth = served
    # A request the schema allows may still be refused on its meaning (a page token this
    # server never gave, a release name of the wrong shape), with a 400 problem: that is no
    # failure, only a schema that cannot say everything. Every other check runs.
    case.call_and_validate(
        base_url=base_url, headers=auth, excluded_checks=[positive_data_acceptance]
    )


def test_the_published_document_is_the_one_served(served: tuple[str, dict[str, str]]) -> None:
    base_url, _ = served
    assert httpx.get(f"{base_url}/api/v1/openapi.json").json() == schema.raw_schema
