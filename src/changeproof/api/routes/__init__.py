"""The API's routers, one module per noun of DESIGN.md."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter

from changeproof.api.routes import (
    actors,
    changes,
    decisions,
    deployments,
    evidence,
    gate,
    health,
    hooks,
    ledger,
    policies,
    releases,
    tokens,
)

__all__ = ["ROUTERS"]

ROUTERS: Final[tuple[APIRouter, ...]] = (
    health.router,
    ledger.router,
    tokens.router,
    actors.router,
    policies.router,
    releases.router,
    evidence.router,
    gate.router,
    decisions.router,
    changes.router,
    deployments.router,
    hooks.router,
)
