"""The index of evidence readers: importing it registers every one of them.

A module that defines a reader adds one import here. The registry sorts what it lists (by
command, then reader), so the order of the imports changes nothing.

    junit         JUnit XML                test-results
    pytest_json   pytest-json-report JSON  test-results
    sarif         SARIF 2.1.0              scan
    sbom          CycloneDX, SPDX          sbom
    provenance    in-toto, SLSA            provenance
    reviews       GitHub, GitLab, generic  review
"""

from __future__ import annotations

from changeproof.ingest import junit, provenance, pytest_json, reviews, sarif, sbom
from changeproof.ingest.registry import (
    Batch,
    Option,
    ReaderSpec,
    ReadOptions,
    Source,
    commands,
    plan,
    reader_for,
    readers,
)

__all__ = [
    "Batch",
    "Option",
    "ReadOptions",
    "ReaderSpec",
    "Source",
    "commands",
    "junit",
    "plan",
    "provenance",
    "pytest_json",
    "reader_for",
    "readers",
    "reviews",
    "sarif",
    "sbom",
]
