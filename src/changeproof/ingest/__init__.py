"""Readers: external formats (git, JUnit, SARIF, CycloneDX/SPDX, in-toto/SLSA, reviews) to domain
objects. Each reader takes bytes and a source name, returns a `Reading` or raises `ReadError`.

Import from the modules: this package re-exports nothing, so importing one part never
drags in the rest (a command pays only for the modules it uses).
"""
