"""The offline verifier must be readable alone: stdlib, cryptography and changeproof.ledger only."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
before = set(sys.modules)
import changeproof.verify.__main__
print(json.dumps(sorted(set(sys.modules) - before)))
"""
ALLOWED_THIRD_PARTY = ("cryptography", "_cffi_backend", "cffi")
ALLOWED_OURS = ("changeproof", "changeproof.ledger", "changeproof.verify")


def test_offline_verifier_imports_only_the_standard_library_cryptography_and_ledger() -> None:
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True
        ).stdout
    )
    foreign = []
    for name in loaded:
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top.startswith("_"):
            continue
        if top in ALLOWED_THIRD_PARTY:
            continue
        if any(name == ours or name.startswith(ours + ".") for ours in ALLOWED_OURS[1:]):
            continue
        if name == "changeproof":
            continue
        foreign.append(name)
    assert foreign == []
    assert "changeproof.ledger.verification" in loaded
