from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Cli


def test_attest_then_verify_on_each_backend(home: Path, tmp_path: Path, cli: Cli) -> None:
    artifact = tmp_path / "app.whl"
    artifact.write_bytes(b"wheel")
    recorded = cli("attest", "artifact", artifact, "--service", "app", "--home", home, "-o", "json")
    assert recorded.code == 0, recorded.err
    assert json.loads(recorded.out)["seq"] == 1
    verified = cli("ledger", "verify", "--home", home, "--output", "json")
    assert verified.code == 0, verified.err
    assert json.loads(verified.out)["entries"] == 2
