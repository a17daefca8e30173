"""Readers: external formats (git, JUnit, SARIF, CycloneDX/SPDX, in-toto/SLSA, reviews) to domain
objects. Each reader takes bytes and a source name, returns a `Reading` or raises `ReadError`."""

from changeproof.ingest.errors import ReadError

__all__ = ["ReadError"]
