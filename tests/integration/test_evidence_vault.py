"""The evidence vault under the evidence service, both backends: content-addressed files
written atomically and idempotently, names that can never become paths, size limits per
kind from config.toml, and evidence refused for its content that keeps nothing."""

from __future__ import annotations

import string
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from changeproof.bootstrap import open_instance
from changeproof.domain.errors import ConfigError, InputError, TooLargeError
from changeproof.domain.releases import ReleaseRef
from changeproof.services.evidence import Upload
from changeproof.services.instance import load_config
from changeproof.store.vault import FileVault
from tests.conftest import Cli, ints
from tests.integration.gitrepo import GitRepo

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SARIF = CORPUS / "sarif" / "bandit-1.9.4-itsdangerous-2.2.0.sarif"
RELEASE = ReleaseRef.of("payments", "1.0")
_BIDI = {
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
}


@pytest.fixture
def released(home: Path, tmp_path: Path, cli: Cli) -> Path:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("PAY-1 base", {"app.py": "print('hi')\n"})
    created = cli(
        "release", "create", "--service", "payments", "--name", "1.0",
        "--repo", repo.path, "--to", "main", "--home", home,
    )  # fmt: skip
    assert created.code == 0, created.err
    return home


def _size(home: Path) -> int:
    return ints(home, "SELECT tree_size FROM ledger_head")[0]


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _plain(name: str) -> bool:
    """The rule, said independently of the code: a base name nothing can read as a path."""
    return (
        name not in {"", "."}
        and "/" not in name
        and "\\" not in name
        and ".." not in name
        and not any(unicodedata.category(c) == "Cc" or c in _BIDI for c in name)
        and len(name.encode("utf-8", "surrogatepass")) <= 255
        and not any(0xD800 <= ord(c) <= 0xDFFF for c in name)
    )


_NAMES = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=string.ascii_letters + "./\\\x00\x1b\n\r\t\u202e", max_size=20),
    st.sampled_from(["../x", "..", ".", "a/../b", "C:\\x", "x\x00.sarif", "\u202egpj.sarif"]),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=_NAMES)
def test_an_upload_name_is_kept_as_a_plain_base_name_or_refused(released: Path, name: str) -> None:
    content = SARIF.read_bytes()
    outside = _files(released) - _files(released / "vault")
    with open_instance(released) as instance:
        before = _size(released)
        kept = _files(released / "vault")
        try:
            [done] = instance.evidence.attest_uploads(
                "scan", [Upload(name, content)], RELEASE, actor="ci"
            )
        except InputError as e:
            refused: InputError | None = e
        else:
            refused = None
        if refused is not None:
            assert not _plain(name), name
            assert refused.fields == ["files"]
            assert _size(released) == before
            assert _files(released / "vault") == kept
        else:
            assert _plain(name), name
            if done.recorded:
                assert done.files[0]["name"] == name
    vault = FileVault(released / "vault")
    assert _files(released) - _files(released / "vault") == outside  # nothing beside the vault
    for path in _files(released / "vault"):
        assert path.parent.parent == vault.root / "sha256"
        assert len(path.parent.name + path.name) == 64


def test_keeping_is_content_addressed_atomic_and_idempotent(tmp_path: Path) -> None:
    vault = FileVault(tmp_path / "vault")
    one = vault.keep(b"evidence\n")
    assert vault.path_of(one.sha256).read_bytes() == b"evidence\n"
    written = vault.path_of(one.sha256).stat().st_mtime_ns
    assert vault.keep(b"evidence\n") == one
    assert vault.path_of(one.sha256).stat().st_mtime_ns == written  # kept as it was
    assert list(vault.tmp.iterdir()) == []
    with vault.staging() as staged:
        staged.write(b"on its way in")
        assert len(list(vault.tmp.iterdir())) == 1
    assert list(vault.tmp.iterdir()) == []
    for bad in ("../" + "0" * 61, "A" * 64, "0" * 63, "0" * 64 + "/"):
        with pytest.raises(ValueError, match="not a SHA-256"):
            vault.path_of(bad)
    assert vault.size("0" * 64) is None
    assert vault.open("0" * 64) is None


def test_limits_per_kind_come_from_the_config_then_max_file_bytes_then_defaults(
    released: Path,
) -> None:
    config = released / "config.toml"
    original = config.read_text(encoding="utf-8")
    with open_instance(released) as instance:
        assert instance.evidence.limit("review") == 25 * 1024 * 1024
        assert instance.evidence.limit("scan") == 100 * 1024 * 1024
        assert instance.evidence.key_limit() == 50 * 1024 * 1024
    config.write_text(
        original + "\n[evidence]\nmax_file_bytes = 9000\n\n[evidence.limits]\nscan = 100\n",
        encoding="utf-8",
    )
    with open_instance(released) as instance:
        assert instance.evidence.limit("scan") == 100
        assert instance.evidence.limit("sbom") == 9000
        before = _size(released)
        with SARIF.open("rb") as handle, pytest.raises(TooLargeError) as refused:
            instance.evidence.attest_uploads(
                "scan", [Upload("a.sarif", handle)], RELEASE, actor="ci"
            )
        assert (refused.value.limit, refused.value.what) == (100, "evidence file")
        assert "[evidence.limits] scan" in str(refused.value.hint())
        assert _size(released) == before
    for bad in ("[evidence.limits]\nscna = 5\n", "[evidence.limits]\nscan = 0\n",
                "[evidence]\nmax_file_bytes = -1\n", "[vault]\npath = 3\n"):  # fmt: skip
        config.write_text(original + "\n" + bad, encoding="utf-8")
        with pytest.raises(ConfigError):
            load_config(released)


def test_the_vault_path_setting_moves_the_vault(released: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    with (released / "config.toml").open("a", encoding="utf-8") as config:
        config.write(f'\n[vault]\npath = "{elsewhere}"\n')
    with open_instance(released) as instance:
        [done] = instance.evidence.attest_uploads(
            "scan", [Upload(SARIF.name, SARIF.read_bytes())], RELEASE, actor="ci"
        )
        with instance.evidence.download(done.sha256, reader="auditor") as found:
            assert b"".join(found.chunks()) == SARIF.read_bytes()
            assert found.names == (SARIF.name,)
            assert found.cited_by == (done.seq,)
    assert FileVault(elsewhere).size(done.sha256) == SARIF.stat().st_size
    assert not (released / "vault").exists()


def test_evidence_refused_for_its_content_keeps_nothing(released: Path) -> None:
    with open_instance(released) as instance:
        before = _size(released)
        with pytest.raises(InputError):
            instance.evidence.attest_uploads(
                "scan", [Upload("bad.sarif", b'{"version": "2.1.0", "runs": 7}')], RELEASE,
                actor="ci",
            )  # fmt: skip
        with pytest.raises(InputError):  # a good file with a bad one: neither is kept
            instance.evidence.attest_uploads(
                "scan",
                [Upload("good.sarif", SARIF.read_bytes()), Upload("../bad", b"{}")],
                RELEASE,
                actor="ci",
            )
    assert _size(released) == before
    assert _files(released / "vault") == set()
