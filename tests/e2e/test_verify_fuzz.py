"""The offline verifier's input parsing, fuzzed: whatever the export, checkpoint or key file
holds, it answers with a verdict (0, 4) or a usage error (2), never a bug (70) or a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changeproof.cli.main import run
from changeproof.verify.__main__ import main as verify

ANSWERS = (0, 2, 4)


@dataclass(frozen=True)
class Base:
    folder: Path
    export: bytes
    checkpoint: bytes
    key: bytes


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    folder = tmp_path_factory.mktemp("fuzz")
    home = folder / "instance"
    assert run(["init", "--home", str(home), "--actor", "t", "--origin", "fuzz.example/l"]) == 0
    for n in range(5):
        build = folder / f"b{n}"
        build.write_bytes(f"build {n}\n".encode())
        assert run(["attest", "artifact", str(build), "--service", "s", "--home", str(home)]) == 0
    export, checkpoint = folder / "ledger.jsonl", folder / "checkpoint.txt"
    assert run(["ledger", "export", "--out", str(export), "--home", str(home)]) == 0
    assert run(["ledger", "checkpoint", "--out", str(checkpoint), "--home", str(home)]) == 0
    return Base(
        folder,
        export.read_bytes(),
        checkpoint.read_bytes(),
        (home / "public-key.pem").read_bytes(),
    )


def _answer(base: Base, export: bytes, key: bytes, checkpoint: bytes | None = None) -> int:
    paths = base.folder / "e.jsonl", base.folder / "k.pem", base.folder / "c.txt"
    paths[0].write_bytes(export)
    paths[1].write_bytes(key)
    args = [str(paths[0]), "--public-key", str(paths[1]), "--output", "json"]
    if checkpoint is not None:
        paths[2].write_bytes(checkpoint)
        args += ["--checkpoint", str(paths[2])]
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = verify(args)
    if code == 2:
        assert stderr.getvalue().startswith("error: "), stderr.getvalue()
    if code in (0, 4):
        json.loads(stdout.getvalue())
    return code


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _line(value: object) -> bytes:
    return json.dumps(value).encode() + b"\n"


@st.composite
def mutated_exports(draw: st.DrawFn, export: bytes) -> bytes:
    lines = export.splitlines(keepends=True)
    kind = draw(st.sampled_from(["truncate", "flip", "replace", "insert", "entry", "deep"]))
    if kind == "truncate":
        return export[: draw(st.integers(0, len(export)))]
    if kind == "flip":
        at = draw(st.integers(0, len(export) - 1))
        return export[:at] + bytes([export[at] ^ draw(st.integers(1, 255))]) + export[at + 1 :]
    at = draw(st.integers(0, len(lines) - 1))
    if kind == "replace":
        lines[at] = draw(st.binary(max_size=200)) + b"\n"
    elif kind == "insert":
        lines.insert(at, _line(draw(json_values)))
    elif kind == "entry":
        fields = {"seq": json_values, "leaf_hash": json_values, "body": json_values}
        lines[at] = _line(draw(st.fixed_dictionaries({}, optional=fields)))
    else:
        depth = draw(st.integers(1_000, 100_000))
        lines[at] = b'{"seq": ' + b"[" * depth + b"]" * depth + b"}\n"
    return b"".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_damaged_export_is_a_verdict_or_a_usage_error(base: Base, data: st.DataObject) -> None:
    export = data.draw(mutated_exports(base.export))
    assert _answer(base, export, base.key) in ANSWERS


@settings(max_examples=150, deadline=None)
@given(
    checkpoint=st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.integers(0, 400).map(lambda n: n),
    )
)
def test_any_checkpoint_file_is_a_verdict_or_a_usage_error(
    base: Base, checkpoint: bytes | int
) -> None:
    note = base.checkpoint[:checkpoint] if isinstance(checkpoint, int) else checkpoint
    assert _answer(base, base.export, base.key, note) in ANSWERS


@settings(max_examples=100, deadline=None)
@given(key=st.one_of(st.binary(max_size=300), st.integers(0, 200)))
def test_any_public_key_file_is_a_usage_error_or_the_key(base: Base, key: bytes | int) -> None:
    data = base.key[:key] if isinstance(key, int) else key
    assert _answer(base, base.export, data) in ANSWERS


def test_a_checkpoint_of_invalid_utf8_is_a_usage_error_naming_it(base: Base) -> None:
    stderr = io.StringIO()
    (base.folder / "k.pem").write_bytes(base.key)
    bad = base.folder / "bad-utf8.txt"
    bad.write_bytes(b"\xff\xfe" + base.checkpoint)
    (base.folder / "e.jsonl").write_bytes(base.export)
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = verify(
            [str(base.folder / "e.jsonl"), "--public-key", str(base.folder / "k.pem"),
             "--checkpoint", str(bad)]
        )  # fmt: skip
    assert code == 2
    assert f"{bad} is not a signed checkpoint: not UTF-8 text" in stderr.getvalue()


def test_an_export_nested_100000_deep_is_a_usage_error_naming_its_line(base: Base) -> None:
    lines = base.export.splitlines(keepends=True)
    lines.insert(1, b'{"seq": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
    stderr = io.StringIO()
    (base.folder / "deep.jsonl").write_bytes(b"".join(lines))
    (base.folder / "k.pem").write_bytes(base.key)
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = verify([str(base.folder / "deep.jsonl"), "--public-key", str(base.folder / "k.pem")])
    assert code == 2
    assert "deep.jsonl:2: JSON nested too deeply" in stderr.getvalue()
