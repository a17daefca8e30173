"""The control registry with changeproof's built-in controls registered.

Whatever reads a policy asks for the registry here, so the built-in controls are always
known, whichever module happened to be imported first.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from changeproof.policy.registry import REGISTRY, ControlSpec

__all__ = ["registered_controls"]

_BUILTIN = "changeproof.policy.controls"


def registered_controls() -> Mapping[str, ControlSpec]:
    """Every registered control by id, the built-in ones included."""
    try:
        importlib.import_module(_BUILTIN)  # registers them (once: imports are cached)
    except ModuleNotFoundError as e:
        if e.name != _BUILTIN:
            raise
    return REGISTRY
