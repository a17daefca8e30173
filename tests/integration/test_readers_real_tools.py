"""The readers on files the real tools write during this test run: pytest's JUnit XML, bandit's
SARIF. Both tools are dev dependencies, so these files come from the versions we ship with."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from changeproof.ingest.junit import read_test_results
from changeproof.ingest.sarif import read_scan

SAMPLE_TESTS = textwrap.dedent(
    """
    import pytest


    @pytest.fixture
    def broken():
        raise RuntimeError("the fixture broke")


    def test_passes():
        assert 1 + 1 == 2


    def test_fails():
        assert 1 + 1 == 3


    def test_errors(broken):
        pass


    @pytest.mark.skip(reason="not today")
    def test_skipped():
        pass
    """
)

WEAK_CODE = textwrap.dedent(
    """\
    import hashlib


    def digest(data: bytes) -> str:
        return hashlib.md5(data).hexdigest()


    def quiet(action) -> None:
        try:
            action()
        except Exception:
            pass
    """
)


def _child_env() -> dict[str, str]:
    """The child must not inherit options meant for the outer pytest run."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTHONPATH")}


@pytest.mark.slow
def test_pytest_junit_xml_with_each_outcome(tmp_path: Path) -> None:
    module = tmp_path / "test_sample.py"
    module.write_text(SAMPLE_TESTS)
    out = tmp_path / "junit.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(module),
            "--junitxml",
            str(out),
            "-p",
            "no:cacheprovider",
        ],
        cwd=tmp_path,
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # 1: some tests failed, as intended

    reading = read_test_results([("junit.xml", out.read_bytes())])

    summary = reading.summary
    assert (summary["tests"], summary["failures"], summary["errors"], summary["skipped"]) == (
        4,
        1,
        1,
        1,
    )
    assert summary["passed"] == 1
    assert summary["dialect"] == "pytest"
    assert reading.format == "junit/pytest"
    assert reading.detail["failed"] == ["test_sample::test_fails"]
    assert reading.detail["errored"] == ["test_sample::test_errors"]
    assert reading.detail["skipped"] == ["test_sample::test_skipped"]
    assert isinstance(summary["time_ms"], int)


@pytest.mark.slow
def test_bandit_sarif_finding_rule_level_and_place(tmp_path: Path) -> None:
    (tmp_path / "weak.py").write_text(WEAK_CODE)
    bandit = Path(sys.executable).parent / "bandit"
    done = subprocess.run(
        [str(bandit), "-f", "sarif", "-o", "out.sarif", "weak.py"],
        cwd=tmp_path,
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # 1: bandit found issues

    reading = read_scan((tmp_path / "out.sarif").read_bytes(), "out.sarif")

    tool = reading.summary["tool"]
    assert isinstance(tool, str)
    assert tool.startswith("Bandit ")
    assert reading.summary["by_rule"] == {"B324": 1, "B110": 1}
    assert reading.summary["by_level"] == {"error": 1, "warning": 0, "note": 1, "none": 0}
    assert reading.summary["suppressed"] == 0
    found = reading.detail["findings"]
    assert isinstance(found, list)
    by_rule = {f["rule"]: f for f in found if isinstance(f, dict)}
    md5 = by_rule["B324"]
    assert (md5["level"], md5["file"], md5["line"]) == ("error", "weak.py", _line_of("md5("))
    assert "MD5" in str(md5["message"])
    bare_except = by_rule["B110"]
    assert (bare_except["level"], bare_except["line"]) == ("note", _line_of("except Exception"))


def _line_of(text: str) -> int:
    return next(n for n, line in enumerate(WEAK_CODE.splitlines(), 1) if text in line)
