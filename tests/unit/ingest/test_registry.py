"""The reader registry: what each built-in reader declares, how a file finds its reader, what
registering refuses, and that registering loads no parser."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Sequence

import pytest

import changeproof.ingest.readers  # noqa: F401 - registers the readers
from changeproof.domain.errors import InputError
from changeproof.domain.evidence import EvidenceKind, Reading
from changeproof.ingest import registry
from changeproof.ingest.errors import ReadError
from changeproof.ingest.junit import DIALECTS
from changeproof.ingest.registry import (
    REGISTRY,
    Option,
    ReaderSpec,
    ReadOptions,
    Source,
    commands,
    plan,
    reader,
    reader_for,
    readers,
)
from changeproof.ingest.reviews import FLAVOURS
from changeproof.services.evidence import AttestKind

JUNIT = Source("junit.xml", b'<testsuite name="s"><testcase name="t"/></testsuite>')
PYTEST_JSON = Source("report.json", b'\xef\xbb\xbf \n {"exitcode": 0, "tests": []}')


def test_every_built_in_reader_is_registered_with_its_command_and_kind() -> None:
    assert {(r.name, r.command, r.kind) for r in readers()} == {
        ("junit", "test-results", EvidenceKind.TEST_RUN),
        ("pytest-json", "test-results", EvidenceKind.TEST_RUN),
        ("sarif", "scan", EvidenceKind.SCAN),
        ("sbom", "sbom", EvidenceKind.SBOM),
        ("in-toto", "provenance", EvidenceKind.PROVENANCE),
        ("review", "review", EvidenceKind.REVIEW),
    }
    assert all(r.title and r.summary and r.records for r in readers())


def test_the_named_attest_kinds_are_the_registered_commands() -> None:
    assert set(commands()) == {kind.value for kind in AttestKind}


def test_what_each_reader_declares() -> None:
    assert REGISTRY["junit"].formats == DIALECTS
    assert REGISTRY["review"].formats == FLAVOURS
    assert REGISTRY["pytest-json"].formats == ("pytest-json",)
    assert REGISTRY["pytest-json"].max_bytes == 64 * 1024 * 1024
    assert {r.name for r in readers() if r.many_files} == {"junit", "pytest-json"}
    assert REGISTRY["in-toto"].options == {Option.PUBLIC_KEYS, Option.REQUIRE_SIGNATURE}
    assert REGISTRY["review"].options == {Option.WEBHOOK_SIGNATURE}
    # Each command has one reader for what nothing else recognises.
    for specs in commands().values():
        assert len([s for s in specs if s.recognises is None]) == 1


def test_readers_are_listed_sorted_whatever_the_import_order() -> None:
    assert list(commands()) == sorted(commands())
    assert [r.name for r in commands()["test-results"]] == ["junit", "pytest-json"]


# --- dispatch ------------------------------------------------------------------------------


def test_a_file_is_recognised_from_its_content() -> None:
    batches = plan("test-results", [PYTEST_JSON])
    assert [(b.reader.name, b.indexes) for b in batches] == [("pytest-json", (0,))]
    batches = plan("test-results", [JUNIT, JUNIT])
    assert [(b.reader.name, b.indexes) for b in batches] == [("junit", (0, 1))]
    # Nothing recognised: the fallback reader, whose refusal people know.
    assert plan("test-results", [Source("x", b"[1]")])[0].reader.name == "junit"


def test_a_named_format_picks_its_reader_whatever_the_content() -> None:
    assert plan("test-results", [JUNIT], "pytest-json")[0].reader.name == "pytest-json"
    assert plan("test-results", [PYTEST_JSON], "surefire")[0].reader.name == "junit"
    assert reader_for("review", "gitlab").name == "review"


def test_a_reader_reads_one_file_unless_it_takes_many() -> None:
    sarif = Source("a.sarif", b"{}")
    batches = plan("scan", [sarif, sarif])
    assert [(b.reader.name, b.indexes) for b in batches] == [("sarif", (0,)), ("sarif", (1,))]


def test_an_unknown_format_or_kind_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InputError, match="unknown format 'cobol' for test-results") as caught:
        plan("test-results", [JUNIT], "cobol")
    assert "pytest-json" in (caught.value.hint() or "")
    assert "surefire" in (caught.value.hint() or "")
    with pytest.raises(InputError, match="unknown format 'sarif' for scan") as caught:
        plan("scan", [JUNIT], "sarif")
    assert "name none" in (caught.value.hint() or "")
    with pytest.raises(InputError, match="no evidence reader for 'coverage'") as caught:
        plan("coverage", [JUNIT])
    assert "test-results" in (caught.value.hint() or "")


def test_files_of_two_formats_in_one_test_run_are_refused() -> None:
    with pytest.raises(ReadError) as caught:
        plan("test-results", [JUNIT, PYTEST_JSON])
    assert str(caught.value) == (
        "report.json: is pytest-json-report JSON, but junit.xml is JUnit XML: the files of one "
        "test-results call are one reading, so they must be of one format"
    )


def _echo(sources: Sequence[Source], options: ReadOptions) -> Reading:
    raise AssertionError("planning reads no file")


def test_a_file_past_its_readers_limit_is_refused_naming_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "REGISTRY", {})
    reader(
        "tiny",
        command="check",
        kind=EvidenceKind.CHECK,
        title="tiny check",
        summary="s",
        records=("echo",),
        max_bytes=4,
    )(_echo)
    assert plan("check", [Source("ok.txt", b"1234")])[0].reader.name == "tiny"
    with pytest.raises(ReadError, match=r"big\.txt: is larger than the 4-byte limit of the tiny"):
        plan("check", [Source("big.txt", b"12345")])


@pytest.mark.parametrize(
    ("second", "problem"),
    [
        ({"name": "a"}, "reader 'a' is registered twice"),
        ({"kind": EvidenceKind.SCAN}, "command 'check' makes check, not scan"),
        ({"many_files": True}, "disagree on many_files"),
        ({"formats": ("x", "y")}, "share formats {'x'}"),
        ({"recognises": None}, "command 'check' has two fallback readers"),
        ({"max_bytes": 0}, "max_bytes must be positive"),
    ],
)
def test_registering_refuses_what_dispatch_could_not_tell_apart(
    monkeypatch: pytest.MonkeyPatch, second: dict[str, object], problem: str
) -> None:
    monkeypatch.setattr(registry, "REGISTRY", {})
    common: dict[str, object] = {
        "command": "check",
        "kind": EvidenceKind.CHECK,
        "title": "t",
        "summary": "s",
        "records": ("echo",),
        "formats": ("x",),
    }
    reader("a", **common)(_echo)  # type: ignore[arg-type]
    declared = {**common, "name": "b", "formats": (), "recognises": bool, **second}
    name = declared.pop("name")
    with pytest.raises(ValueError, match=re.escape(problem)):
        reader(name, **declared)(_echo)  # type: ignore[arg-type]


def test_a_name_is_not_a_tuple_of_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "REGISTRY", {})
    with pytest.raises(TypeError, match="formats and records are tuples of names"):
        reader(
            "e", command="check", kind=EvidenceKind.CHECK, title="t", summary="s", records="echo"
        )(_echo)
    assert registry.REGISTRY == {}


def test_a_spec_is_what_the_decorator_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "REGISTRY", {})
    returned = reader(
        "e",
        command="check",
        kind=EvidenceKind.CHECK,
        title="t",
        summary="s",
        records=("echo",),
        options=frozenset({Option.PUBLIC_KEYS}),
    )(_echo)
    assert returned is _echo
    assert registry.REGISTRY["e"] == ReaderSpec(
        "e",
        "check",
        EvidenceKind.CHECK,
        "t",
        "s",
        (),
        ("echo",),
        _echo,
        None,
        False,
        frozenset({Option.PUBLIC_KEYS}),
        None,
    )


# --- registering is cheap ------------------------------------------------------------------

HEAVY = ("defusedxml", "cryptography", "pydantic", "xml.etree.ElementTree", "sqlalchemy")


def test_registering_every_reader_loads_no_parser() -> None:
    """The CLI builds its attest commands from the registry: that must not load a parser."""
    probe = (
        "import json, sys; import changeproof.ingest.readers as r; "
        f"print(json.dumps([len(r.readers()), [m for m in {HEAVY!r} if m in sys.modules]]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(done.stdout) == [len(REGISTRY), []]
