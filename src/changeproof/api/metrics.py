"""The server's in-process Prometheus metrics (prometheus_client's default registry)."""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter

__all__ = ["HOOK_REJECTIONS"]

# A delivery whose signature does not hold records nothing in the ledger: this is its only
# trace, by source and why (missing, malformed, mismatch, expired, unconfigured).
HOOK_REJECTIONS: Final = Counter(
    "changeproof_hook_rejections",
    "Webhook deliveries refused because their signature does not hold",
    ["source", "reason"],
)
