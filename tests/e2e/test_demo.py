"""`make demo` runs the main job end to end; CI keeps it working."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHANGEPROOF = str(Path(sys.executable).parent / "changeproof")


def test_the_demo_runs_the_main_job_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run(
        [CHANGEPROOF, "demo", "--keep", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "olivia cannot approve POL-" in done.stdout + done.stderr  # her own proposal
    assert "Activation: two-person" in done.stdout
    assert "DRY RUN" in done.stdout
    assert "BLOCKED" in done.stdout
    assert "ALLOWED" in done.stdout
    # ada wrote the fix under a second address, and is refused all the same
    assert "ada cannot approve" in done.stdout + done.stderr
    assert "ada+laptop@example.com" in done.stdout + done.stderr
    assert "Approved CHG-" in done.stdout
    assert "authorized: allowed by gate decision" in done.stdout
    assert "check smoke-test: pass" in done.stdout
    assert "Consistent:" in done.stdout
    assert "verified against" in done.stdout
    assert "decisions replay to themselves" in done.stdout  # ledger audit
    assert "promoted-from" in done.stdout
    assert (tmp_path / "demo" / "instance" / "config.toml").is_file()
