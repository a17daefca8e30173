"""How large an evidence file of each kind may be.

`[evidence.limits] KIND = bytes` in config.toml first, then `[evidence] max_file_bytes` for
every kind, then the defaults below: a review or a provenance statement is a small JSON
document, while a test run, a scan or an SBOM of a large system is legitimately big.
A file is refused as soon as it passes its limit, never read (or received) whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from changeproof.domain.evidence import EvidenceKind

__all__ = ["DEFAULT_LIMITS", "DEFAULT_OTHER", "LIMIT_NAMES", "PUBLIC_KEYS", "EvidenceLimits"]

_MIB: Final = 1024 * 1024
DEFAULT_OTHER: Final = 50 * _MIB  # any other kind, and public-key files
DEFAULT_LIMITS: Final[Mapping[EvidenceKind, int]] = {
    EvidenceKind.REVIEW: 25 * _MIB,
    EvidenceKind.PROVENANCE: 25 * _MIB,
    EvidenceKind.TEST_RUN: 100 * _MIB,
    EvidenceKind.SCAN: 100 * _MIB,
    EvidenceKind.SBOM: 100 * _MIB,
}
PUBLIC_KEYS: Final = "public-keys"  # the [evidence.limits] key of public-key files


@dataclass(frozen=True, slots=True)
class EvidenceLimits:
    explicit: Mapping[str, int] = field(default_factory=dict)  # [evidence.limits]
    every_kind: int | None = None  # [evidence] max_file_bytes

    def of(self, kind: str) -> int:
        """The limit of an evidence kind (`test-run`), or of `PUBLIC_KEYS`."""
        if kind in self.explicit:
            return self.explicit[kind]
        if self.every_kind is not None:
            return self.every_kind
        try:
            return DEFAULT_LIMITS.get(EvidenceKind(kind), DEFAULT_OTHER)
        except ValueError:
            return DEFAULT_OTHER

    def setting(self, kind: str) -> str:
        """The config.toml setting that decides `of(kind)`, for a hint."""
        if kind in self.explicit:
            return f"[evidence.limits] {kind}"
        if self.every_kind is not None:
            return "[evidence] max_file_bytes"
        return f"[evidence.limits] {kind}"


LIMIT_NAMES: Final = frozenset({*(k.value for k in EvidenceKind), PUBLIC_KEYS})
"""The names `[evidence.limits]` takes: the evidence kinds, and public-key files."""
