"""Environment names as commands accept them: what a policy file may name (see policy.model)."""

from __future__ import annotations

import re
from typing import Final

from changeproof.domain.errors import Field, UsageError

__all__ = ["environment_name"]

_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}")


def environment_name(text: str, field: str = "environment") -> str:
    """`text` when it can name an environment; UsageError naming the field otherwise."""
    if not _NAME.fullmatch(text):
        raise UsageError(
            f"{Field(field)} {text[:40]!r}{'…' if len(text) > 40 else ''} "
            "is not an environment name: "
            "1 to 100 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit"
        )
    return text
