"""The event that opens every ledger: which log this is and which key signs it."""

from __future__ import annotations

from typing import Final

__all__ = ["INSTANCE_INITIALIZED"]

INSTANCE_INITIALIZED: Final = "instance.initialized"
