"""The readers on files the real tools write during this test run: pytest's JUnit XML,
pytest-json-report's JSON, bandit's SARIF. The tools are dev dependencies, so these files come
from the versions we ship with."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from changeproof.domain.canonical import canonical_json
from changeproof.ingest.junit import read_test_results
from changeproof.ingest.pytest_json import read_pytest_json
from changeproof.ingest.readers import Source, plan
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

# Every outcome pytest-json-report writes, and the stage each goes wrong in.
MORE_OUTCOMES = textwrap.dedent(
    """

    @pytest.fixture
    def breaks_on_teardown():
        yield
        raise RuntimeError("the teardown broke")


    def test_teardown_breaks(breaks_on_teardown):
        pass


    @pytest.mark.xfail(reason="known bug")
    def test_known_bug():
        assert False


    @pytest.mark.xfail(reason="fixed since?")
    def test_fixed_since():
        pass


    @pytest.mark.xfail(reason="must fail", strict=True)
    def test_strictly_fixed():
        pass


    @pytest.mark.parametrize("n", [1, 2])
    def test_param(n):
        assert n == 1


    class TestGrouped:
        def test_method(self):
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

    summary = reading.summary.to_data()
    assert (summary["tests"], summary["failures"], summary["errors"], summary["skipped"]) == (
        4,
        1,
        1,
        1,
    )
    assert summary["passed"] == 1
    assert summary["dialect"] == "pytest"
    assert reading.format == "junit/pytest"
    assert reading.detail.to_data()["failed"] == ["test_sample::test_fails"]
    assert reading.detail.to_data()["errored"] == ["test_sample::test_errors"]
    assert reading.detail.to_data()["skipped"] == ["test_sample::test_skipped"]
    assert isinstance(summary["time_ms"], int)


def _pytest_json(tmp_path: Path, modules: dict[str, str]) -> tuple[int, bytes]:
    for name, text in modules.items():
        (tmp_path / name).write_text(text)
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *modules, "--json-report",
         f"--json-report-file={out}", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=_child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip
    assert out.is_file(), done.stdout + done.stderr
    return done.returncode, out.read_bytes()


@pytest.mark.slow
def test_pytest_json_report_with_each_outcome(tmp_path: Path) -> None:
    code, data = _pytest_json(tmp_path, {"test_sample.py": SAMPLE_TESTS + MORE_OUTCOMES})
    assert code == 1  # some tests failed, as intended

    # Recognised from its content, as `attest test-results` recognises it.
    (batch,) = plan("test-results", [Source("report.json", data)])
    assert batch.reader.name == "pytest-json"
    reading = read_pytest_json([("report.json", data)])

    summary = reading.summary.to_data()
    assert reading.format == "pytest-json"
    assert summary["dialect"] == "pytest-json"
    # 11 tests: test_passes, the xpass, test_param[1] and the grouped test pass; the
    # strict xpass and test_param[2] fail too; the broken fixture and the broken teardown
    # error; skip and xfail are skipped.
    assert (summary["tests"], summary["passed"], summary["failures"], summary["errors"]) == (
        11,
        4,
        3,
        2,
    )
    assert summary["skipped"] == 2
    assert (summary["suites"], summary["suite_names"]) == (1, ["test_sample.py"])
    assert reading.detail.to_data()["failed"] == [
        "test_sample.py::test_fails",
        "test_sample.py::test_strictly_fixed",
        "test_sample.py::test_param[2]",
    ]
    assert reading.detail.to_data()["errored"] == [
        "test_sample.py::test_errors",
        "test_sample.py::test_teardown_breaks",
    ]
    assert reading.detail.to_data()["skipped"] == [
        "test_sample.py::test_skipped",
        "test_sample.py::test_known_bug",
    ]
    detail: dict[str, Any] = json.loads(canonical_json(reading.detail.to_data()))
    messages = {m["test"]: m for m in detail["messages"]}
    assert messages["test_sample.py::test_fails"] == {
        "test": "test_sample.py::test_fails",
        "stage": "call",
        "message": "assert (1 + 1) == 3",
    }
    assert messages["test_sample.py::test_errors"]["stage"] == "setup"
    assert messages["test_sample.py::test_errors"]["message"] == "RuntimeError: the fixture broke"
    assert messages["test_sample.py::test_teardown_breaks"]["stage"] == "teardown"
    assert "[XPASS(strict)]" in str(messages["test_sample.py::test_strictly_fixed"]["message"])
    time_ms = summary["time_ms"]
    assert isinstance(time_ms, int)
    assert time_ms > 0
    assert reading.notes == ()


@pytest.mark.slow
def test_pytest_json_report_of_a_module_that_does_not_import(tmp_path: Path) -> None:
    modules = {
        "test_fine.py": "def test_fine():\n    pass\n",
        "test_broken.py": "import no_such_module_here\n\ndef test_never():\n    pass\n",
    }
    code, data = _pytest_json(tmp_path, modules)
    assert code == 2  # interrupted: an error during collection

    reading = read_pytest_json([("report.json", data)])

    # pytest ran nothing: the broken module is the one errored test, and the run fails.
    assert (reading.summary.to_data()["tests"], reading.summary.to_data()["errors"]) == (1, 1)
    assert reading.detail.to_data()["errored"] == ["test_broken.py"]
    detail: dict[str, Any] = json.loads(canonical_json(reading.detail.to_data()))
    (message,) = detail["messages"]
    assert message["stage"] == "collect"
    assert "no_such_module_here" in message["message"]
    assert reading.notes == ("report.json: pytest exited with 2 (interrupted)",)


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

    tool = reading.summary.to_data()["tool"]
    assert isinstance(tool, str)
    assert tool.startswith("Bandit ")
    assert reading.summary.to_data()["by_rule"] == {"B324": 1, "B110": 1}
    assert reading.summary.to_data()["by_level"] == {"error": 1, "warning": 0, "note": 1, "none": 0}
    assert reading.summary.to_data()["suppressed"] == 0
    found = reading.detail.to_data()["findings"]
    assert isinstance(found, list)
    by_rule = {f["rule"]: f for f in found if isinstance(f, dict)}
    md5 = by_rule["B324"]
    assert (md5["level"], md5["file"], md5["line"]) == ("error", "weak.py", _line_of("md5("))
    assert "MD5" in str(md5["message"])
    bare_except = by_rule["B110"]
    assert (bare_except["level"], bare_except["line"]) == ("note", _line_of("except Exception"))


def _line_of(text: str) -> int:
    return next(n for n, line in enumerate(WEAK_CODE.splitlines(), 1) if text in line)
