"""Readers: external formats (git, JUnit, pytest-json-report, SARIF, CycloneDX/SPDX, in-toto/SLSA,
reviews) to domain objects. Each reader takes bytes and a source name, returns a `Reading` or
raises `ReadError`; the evidence readers are registered in `changeproof.ingest.registry`.

The names below load on first use: importing one reader, or the registry, must not import
every parser and its dependencies (defusedxml, cryptography, pydantic models).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from changeproof.ingest.errors import ReadError
    from changeproof.ingest.junit import read_test_results
    from changeproof.ingest.provenance import read_provenance
    from changeproof.ingest.pytest_json import read_pytest_json
    from changeproof.ingest.reviews import read_review
    from changeproof.ingest.sarif import read_scan
    from changeproof.ingest.sbom import read_sbom
    from changeproof.ingest.webhooks import verify_github_signature, verify_gitlab_token

__all__ = [
    "ReadError",
    "read_provenance",
    "read_pytest_json",
    "read_review",
    "read_sbom",
    "read_scan",
    "read_test_results",
    "verify_github_signature",
    "verify_gitlab_token",
]

_HOMES = {
    "ReadError": "errors",
    "read_provenance": "provenance",
    "read_pytest_json": "pytest_json",
    "read_review": "reviews",
    "read_sbom": "sbom",
    "read_scan": "sarif",
    "read_test_results": "junit",
    "verify_github_signature": "webhooks",
    "verify_gitlab_token": "webhooks",
}


def __getattr__(name: str) -> object:
    if name in _HOMES:
        return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
