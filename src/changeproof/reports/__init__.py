"""Reports: documents built from recorded facts for people and other systems to read.

    vsa.py      a gate decision as a SLSA verification summary in an in-toto Statement

Pure: reports import the domain only; services sign and write what they build.
"""

from changeproof.reports.vsa import (
    DECISION_EXTENSION,
    STATEMENT_V1,
    VSA_V1,
    InputAttestation,
    verification_summary,
    verified_level,
)

__all__ = [
    "DECISION_EXTENSION",
    "STATEMENT_V1",
    "VSA_V1",
    "InputAttestation",
    "verification_summary",
    "verified_level",
]
