"""Readers: external formats (git, JUnit, SARIF, CycloneDX/SPDX, in-toto/SLSA, reviews) to domain
objects. Each reader takes bytes and a source name, returns a `Reading` or raises `ReadError`."""

from changeproof.ingest.errors import ReadError
from changeproof.ingest.junit import read_test_results
from changeproof.ingest.provenance import read_provenance
from changeproof.ingest.reviews import read_review
from changeproof.ingest.sarif import read_scan
from changeproof.ingest.sbom import read_sbom
from changeproof.ingest.webhooks import verify_github_signature, verify_gitlab_token

__all__ = [
    "ReadError",
    "read_provenance",
    "read_review",
    "read_sbom",
    "read_scan",
    "read_test_results",
    "verify_github_signature",
    "verify_gitlab_token",
]
