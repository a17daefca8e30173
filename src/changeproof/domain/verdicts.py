"""The words a decision speaks in: a control's status and a change's classification.

Apart from the decision's types (`changeproof.domain.decisions`), so that an interface can
name them without loading the codecs, as a server's CLI client does.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Classification", "ControlStatus"]


class ControlStatus(StrEnum):
    PASS = "pass"  # noqa: S105 - a verdict, not a password
    FAIL = "fail"
    NOT_APPLICABLE = "not-applicable"


class Classification(StrEnum):
    STANDARD = "standard"  # pre-approved kind of change
    NORMAL = "normal"  # needs a change authority's approval
    URGENT = "urgent"  # goes out now, reviewed after the fact
