"""The auditor's path, through the real entry points as processes.

The instance builds its ledger with the `changeproof` console script and exports it; the
auditor runs `python -m changeproof.verify EXPORT --public-key KEY` on a copy, edits it
the ways an insider would, and relies on the exit code (0 ok, 4 tampered, 2 bad input)
and on the first bad entry being named.

The export every test starts from (one signed checkpoint per transaction):

    seq 0      instance.initialized      checkpoint at size 1
    seq 1      a.tar.gz                  checkpoint at size 2  <- early.checkpoint
    seq 2-4    b, c, d                   checkpoint at size 5
    seq 5      e.tar.gz                  checkpoint at size 6
    seq 6-7    f, g                      checkpoint at size 8
    seq 8      h.tar.gz                  checkpoint at size 9  <- full.checkpoint
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

pytestmark = pytest.mark.slow

CHANGEPROOF: Final = Path(sys.executable).parent / "changeproof"
TRANSACTIONS: Final = (("a",), ("b", "c", "d"), ("e",), ("f", "g"), ("h",))
SIZE: Final = 9


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def _run(*argv: str | Path) -> Ran:
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, check=False, timeout=120
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def changeproof(*args: str | Path) -> Ran:
    result = _run(CHANGEPROOF, *args)
    assert result.code == 0, f"changeproof {args} exited {result.code}: {result.err}"
    return result


def offline_verify(export: Path, key: Path, *args: str | Path) -> Ran:
    return _run(sys.executable, "-m", "changeproof.verify", export, "--public-key", key, *args)


@dataclass(frozen=True)
class Instance:
    home: Path
    public_key: Path
    export: Path
    early_checkpoint: Path
    full_checkpoint: Path
    verifier_key: str


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Instance:
    """Built once with the CLI: nine entries, two checkpoints kept aside, one export."""
    work = tmp_path_factory.mktemp("instance")
    home = work / "home"
    changeproof("init", "--home", home, "--actor", "platform", "--origin", "e2e.example/ledger")
    dist = work / "dist"
    dist.mkdir()
    early = work / "early.checkpoint"
    for number, names in enumerate(TRANSACTIONS):
        files = []
        for name in names:
            (dist / f"{name}.tar.gz").write_bytes(f"build of {name}\n".encode())
            files.append(dist / f"{name}.tar.gz")
        changeproof("attest", "artifact", *files, "--service", "payments", "--home", home)
        if number == 0:
            changeproof("ledger", "checkpoint", "--out", early, "--home", home)
    full = work / "full.checkpoint"
    changeproof("ledger", "checkpoint", "--out", full, "--home", home)
    export = work / "ledger.export"
    exported = changeproof("ledger", "export", "--out", export, "--home", home, "-o", "json")
    assert json.loads(exported.out)["entries"] == SIZE
    status = json.loads(changeproof("ledger", "status", "--home", home, "-o", "json").out)
    return Instance(home, home / "public-key.pem", export, early, full, status["verifier_key"])


@pytest.fixture
def export(instance: Instance, tmp_path: Path) -> Path:
    """A copy of the export the test may edit."""
    copy = tmp_path / "ledger.export"
    shutil.copyfile(instance.export, copy)
    return copy


# --- editing the export ----------------------------------------------------------------------


def _lines(export: Path) -> list[bytes]:
    return export.read_bytes().splitlines(keepends=True)


def _entry_index(lines: list[bytes], seq: int) -> int:
    prefix = b'{"seq":%d,' % seq
    return next(i for i, line in enumerate(lines) if line.startswith(prefix))


def _checkpoint_size(line: bytes) -> int | None:
    doc = json.loads(line)
    return int(doc["checkpoint"].split("\n")[1]) if "checkpoint" in doc else None


# --- what the auditor reads ------------------------------------------------------------------


def _assert_tampered_at(instance: Instance, export: Path, seq: int, *args: str | Path) -> str:
    """Exit 4 and `seq` named, in JSON and in the text on stderr; return the message."""
    as_json = offline_verify(export, instance.public_key, *args, "--output", "json")
    assert as_json.code == 4, as_json.err
    doc = json.loads(as_json.out)
    assert doc["ok"] is False
    assert doc["first_bad_seq"] == seq, doc
    assert doc["findings"][0]["seq"] == seq
    message: str = doc["findings"][0]["message"]

    as_text = offline_verify(export, instance.public_key, *args)
    assert as_text.code == 4
    assert as_text.out == ""
    assert as_text.err.startswith(f"TAMPERED: {message}\n")
    assert re.search(rf"\b{seq}\b", as_text.err.splitlines()[0])
    return message


def _assert_one_line_error(result: Ran, *names: Path) -> str:
    assert result.code == 2, result
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    for name in names:
        assert str(name) in lines[0]
    return lines[0]


# --- an untouched export ---------------------------------------------------------------------


def test_the_export_verifies_offline(instance: Instance, export: Path) -> None:
    text = offline_verify(export, instance.public_key)
    assert text.code == 0, text.err
    assert (
        text.out
        == f"OK: {SIZE} entries of e2e.example/ledger verified against 6 signed checkpoint(s)\n"
    )

    as_json = offline_verify(export, instance.public_key, "--output", "json")
    assert as_json.code == 0, as_json.err
    doc = json.loads(as_json.out)
    assert doc["ok"] is True
    assert doc["entries"] == SIZE
    assert doc["signed_size"] == SIZE
    assert doc["first_bad_seq"] is None
    assert doc["findings"] == []


def test_checkpoints_kept_by_the_auditor_verify_with_the_export(
    instance: Instance, export: Path
) -> None:
    result = offline_verify(
        export,
        instance.public_key,
        "--checkpoint",
        instance.early_checkpoint,
        "--checkpoint",
        instance.full_checkpoint,
    )
    assert result.code == 0, result.err
    assert result.out.startswith(f"OK: {SIZE} entries")


def test_the_verifier_key_line_works_as_the_public_key(
    instance: Instance, export: Path, tmp_path: Path
) -> None:
    vkey = tmp_path / "instance.vkey"
    vkey.write_text(instance.verifier_key + "\n", encoding="utf-8")
    assert instance.verifier_key.startswith("e2e.example/ledger+")

    result = offline_verify(export, vkey, "--output", "json")

    assert result.code == 0, result.err
    assert json.loads(result.out)["ok"] is True


# --- the export edited -----------------------------------------------------------------------


def test_one_byte_changed_in_a_body_is_named(instance: Instance, export: Path) -> None:
    lines = _lines(export)
    at = _entry_index(lines, 3)
    # The body is JSON inside a JSON string: backdate entry 3 from 2xxx to 1xxx.
    edited = lines[at].replace(b'\\"time\\":\\"2', b'\\"time\\":\\"1', 1)
    assert len(edited) == len(lines[at])
    assert sum(a != b for a, b in zip(edited, lines[at], strict=True)) == 1
    lines[at] = edited
    export.write_bytes(b"".join(lines))

    message = _assert_tampered_at(instance, export, 3)
    assert message == "entry 3: leaf hash does not match its body (one was altered)"


def test_an_entry_line_deleted_is_named(instance: Instance, export: Path) -> None:
    lines = _lines(export)
    del lines[_entry_index(lines, 3)]
    export.write_bytes(b"".join(lines))

    message = _assert_tampered_at(instance, export, 3)
    assert message == "entry 3 is missing (the next entry present is 4)"


def test_two_entries_moved_under_their_positions_names_the_first(
    instance: Instance, export: Path
) -> None:
    """Bodies and leaf hashes swapped, each line keeping its seq: as rows moved in a database."""
    lines = _lines(export)
    first, second = _entry_index(lines, 3), _entry_index(lines, 6)
    doc1, doc2 = json.loads(lines[first]), json.loads(lines[second])
    for key in ("leaf_hash", "body"):
        doc1[key], doc2[key] = doc2[key], doc1[key]
    lines[first] = json.dumps(doc1, separators=(",", ":")).encode() + b"\n"
    lines[second] = json.dumps(doc2, separators=(",", ":")).encode() + b"\n"
    export.write_bytes(b"".join(lines))

    message = _assert_tampered_at(instance, export, 3)
    assert message == "entry 3 holds the body of entry 6 (entries were moved)"


def test_two_entry_lines_swapped_names_the_first(instance: Instance, export: Path) -> None:
    lines = _lines(export)
    first, second = _entry_index(lines, 3), _entry_index(lines, 6)
    lines[first], lines[second] = lines[second], lines[first]
    export.write_bytes(b"".join(lines))

    _assert_tampered_at(instance, export, 3)


def test_two_entry_lines_swapped_is_detected(instance: Instance, export: Path) -> None:
    lines = _lines(export)
    first, second = _entry_index(lines, 3), _entry_index(lines, 6)
    lines[first], lines[second] = lines[second], lines[first]
    export.write_bytes(b"".join(lines))

    result = offline_verify(export, instance.public_key, "--output", "json")

    assert result.code == 4, result.err
    doc = json.loads(result.out)
    assert doc["ok"] is False
    assert 2 <= doc["first_bad_seq"] <= 3


def _truncate_export(export: Path, keep: int, *, fix_header: bool) -> None:
    lines = _lines(export)
    header = json.loads(lines[0])
    if fix_header:
        header["tree_size"] = keep
    kept = [json.dumps(header, separators=(",", ":")).encode() + b"\n"]
    for line in lines[1:]:
        size = _checkpoint_size(line)
        seq = json.loads(line)["seq"] if size is None else None
        if (size is not None and size <= keep) or (seq is not None and seq < keep):
            kept.append(line)
    assert len(kept) < len(lines)
    export.write_bytes(b"".join(kept))


@pytest.mark.parametrize("removed", [1, 3])
def test_an_export_cut_short_disagrees_with_its_header(
    instance: Instance, export: Path, removed: int
) -> None:
    keep = SIZE - removed
    _truncate_export(export, keep, fix_header=False)
    message = _assert_tampered_at(instance, export, keep)
    assert message == (
        f"the export's header says it holds {SIZE} entries, but it holds {keep} "
        "(the file was cut short or added to)"
    )


@pytest.mark.parametrize("removed", [1, 3])
def test_a_truncated_export_is_caught_only_by_a_checkpoint_kept_earlier(
    instance: Instance, export: Path, removed: int
) -> None:
    keep = SIZE - removed
    _truncate_export(export, keep, fix_header=True)

    # The threat model: with its unsigned header edited too, what is left is a
    # consistent, signed, shorter log.
    alone = offline_verify(export, instance.public_key)
    assert alone.code == 0, alone.err
    assert alone.out.startswith(f"OK: {keep} entries")

    message = _assert_tampered_at(instance, export, keep, "--checkpoint", instance.full_checkpoint)
    assert message == (
        f"a signed checkpoint covers {SIZE} entries but the ledger holds {keep}: "
        f"entries {keep}..{SIZE - 1} were removed"
    )


# --- the auditor's mistakes: exit 2, naming the file -----------------------------------------


def test_a_wrong_public_key_is_a_one_line_usage_error(
    instance: Instance, export: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other-key.pem"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )

    line = _assert_one_line_error(offline_verify(export, other), other, export)
    assert "is not the key that signed" in line


@pytest.mark.parametrize("kind", ["directory", "missing", "not-an-export", "empty"])
def test_an_export_that_cannot_be_read_is_a_usage_error_naming_it(
    instance: Instance, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / kind
    if kind == "directory":
        path.mkdir()
    elif kind == "not-an-export":
        path.write_bytes(instance.public_key.read_bytes())
    elif kind == "empty":
        path.write_bytes(b"")

    _assert_one_line_error(offline_verify(path, instance.public_key), path)


def test_a_json_file_of_another_kind_is_not_an_export(instance: Instance, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text('{"format": "sarif", "version": 1}\n', encoding="utf-8")

    line = _assert_one_line_error(offline_verify(path, instance.public_key), path)
    assert "is not a changeproof ledger export" in line


@pytest.mark.parametrize("kind", ["garbage", "unsigned", "directory", "missing"])
def test_a_malformed_checkpoint_file_is_a_usage_error_naming_it(
    instance: Instance, export: Path, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / f"{kind}.checkpoint"
    if kind == "garbage":
        path.write_text("this is not a checkpoint\n", encoding="utf-8")
    elif kind == "unsigned":
        note = instance.full_checkpoint.read_text(encoding="utf-8")
        path.write_text(note[: note.index("\n\n") + 1], encoding="utf-8")
    elif kind == "directory":
        path.mkdir()

    result = offline_verify(export, instance.public_key, "--checkpoint", path)

    _assert_one_line_error(result, path)


@pytest.mark.parametrize("kind", ["directory", "missing", "not-a-key"])
def test_a_public_key_file_that_cannot_be_used_is_a_usage_error_naming_it(
    instance: Instance, export: Path, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / f"{kind}.pem"
    if kind == "directory":
        path.mkdir()
    elif kind == "not-a-key":
        path.write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")

    _assert_one_line_error(offline_verify(export, path), path)
