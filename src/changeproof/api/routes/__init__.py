"""The API's routers, one module per noun of DESIGN.md."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter

from changeproof.api.routes import (
    actors,
    changes,
    decisions,
    deployments,
    gate,
    health,
    hooks,
    ledger,
    releases,
    tokens,
)

__all__ = ["ROUTERS"]

ROUTERS: Final[tuple[APIRouter, ...]] = (
    health.router,
    ledger.router,
    tokens.router,
    actors.router,
    releases.router,
    gate.router,
    decisions.router,
    changes.router,
    deployments.router,
    hooks.router,
)
