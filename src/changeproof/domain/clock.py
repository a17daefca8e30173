"""Time reaches the core as an argument: services ask an injected Clock."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

__all__ = ["Clock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...
