"""Readers: external formats (git, JUnit, pytest-json-report, SARIF, CycloneDX/SPDX, in-toto/SLSA,
reviews) to domain objects. Each reader takes bytes and a source name, returns a `Reading` or
raises `ReadError`; the evidence readers are registered in `changeproof.ingest.registry`.

Import from the modules: this package re-exports nothing, so importing one reader, or the
registry, never drags in every parser and its dependencies (defusedxml, cryptography, the
pydantic review models).
"""
