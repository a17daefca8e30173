"""Evidence through the API, both backends, against a real uvicorn: real tool outputs
uploaded, recorded, kept in the vault and downloaded byte for byte; hostile uploads that
record and keep nothing; a vault altered or emptied behind the ledger found out by the
download and by `vault check`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from changeproof.api.problems import MEDIA_TYPE, PROBLEMS
from changeproof.store.vault import FileVault
from tests.conftest import Cli, ints
from tests.integration.api_scenario import Callers, add_callers, client
from tests.integration.gitrepo import GitRepo

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
JUNIT = CORPUS / "junit" / "itsdangerous-2.2.0-pytest-pass.xml"
SARIF = CORPUS / "sarif" / "bandit-1.9.4-itsdangerous-2.2.0.sarif"
SBOM = CORPUS / "sbom" / "cyclonedx-py-7.5.0-venv2-env.cdx.json"
RELEASE = "/api/v1/releases/payments/1.0"


@pytest.fixture
def released(home: Path, tmp_path: Path, cli: Cli) -> tuple[Path, Callers]:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("PAY-1 base", {"app.py": "print('hi')\n"})
    created = cli(
        "release", "create", "--service", "payments", "--name", "1.0",
        "--repo", repo.path, "--to", "main", "--home", home,
    )  # fmt: skip
    assert created.code == 0, created.err
    return home, add_callers(cli, home)


def _size(home: Path) -> int:
    return ints(home, "SELECT tree_size FROM ledger_head")[0]


def _kept(home: Path) -> list[Path]:
    """Every file in the vault, kept or staged."""
    vault = home / "vault"
    return sorted(p for p in vault.rglob("*") if p.is_file()) if vault.exists() else []


def _problem(answer: httpx.Response, slug: str) -> dict[str, Any]:
    assert answer.headers["content-type"] == MEDIA_TYPE, answer.text
    doc: dict[str, Any] = answer.json()
    assert (answer.status_code, doc["type"]) == (PROBLEMS[slug].status, PROBLEMS[slug].type)
    return doc


def _pointers(doc: dict[str, Any]) -> list[str]:
    return [e["pointer"] for e in doc["errors"]]


def _upload(
    api: httpx.Client, callers: Callers, kind: str, *files: Path, caller: str = "pipeline"
) -> httpx.Response:
    parts = [("files", (f.name, f.read_bytes(), "application/octet-stream")) for f in files]
    return api.post(f"{RELEASE}/evidence/{kind}", headers=callers.auth(caller), files=parts)


def _multipart(name: bytes, content: bytes, field: bytes = b"files") -> tuple[bytes, str]:
    """A body written byte for byte, for names an HTTP client would escape."""
    boundary = "cpboundary7"
    body = (
        b"--cpboundary7\r\n"
        b'Content-Disposition: form-data; name="' + field + b'"; filename="' + name + b'"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n--cpboundary7--\r\n"
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize(
    ("kind", "path", "recorded_kind"),
    [("test-results", JUNIT, "test-run"), ("scan", SARIF, "scan"), ("sbom", SBOM, "sbom")],
)
def test_an_uploaded_file_is_recorded_kept_and_downloaded_byte_identical(
    released: tuple[Path, Callers], cli: Cli, tmp_path: Path, kind: str, path: Path,
    recorded_kind: str,
) -> None:  # fmt: skip
    home, callers = released
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    with client(home) as api:
        answer = _upload(api, callers, kind, path)
        assert answer.status_code == 201, answer.text
        [doc] = answer.json()
        assert (doc["kind"], doc["sha256"], doc["recorded"]) == (recorded_kind, digest, True)
        assert doc["files"] == [{"name": path.name, "sha256": digest, "size": len(content)}]
        # The release cites the digest; the ledger entry says the file was kept.
        release = api.get(RELEASE, headers=callers.auth("reader")).json()
        assert digest in [e["sha256"] for e in release["evidence"]]
        entry = cli("ledger", "entries", "--start", doc["seq"], "--end", doc["seq"] + 1,
                    "--home", home)  # fmt: skip
        assert entry.code == 0, entry.err
        body = json.loads(json.loads(entry.out.splitlines()[0])["body"])
        assert body["data"]["files_kept"] is True

        downloaded = api.get(f"/api/v1/evidence/{digest}", headers=callers.auth("reader"))
        assert downloaded.status_code == 200, downloaded.text
        assert downloaded.content == content
        assert downloaded.headers["content-type"] == "application/octet-stream"
        assert downloaded.headers["content-length"] == str(len(content))
        assert downloaded.headers["x-content-type-options"] == "nosniff"
        assert downloaded.headers["content-disposition"].startswith("attachment; filename=")
        _problem(api.get(f"/api/v1/evidence/{digest}"), "unauthenticated")
        again = _upload(api, callers, kind, path)  # the same file again: nothing new
        assert again.status_code == 201
        assert again.json()[0]["recorded"] is False
    assert (home / "vault" / "sha256" / digest[:2] / digest[2:]).read_bytes() == content
    assert not list((home / "vault" / "tmp").iterdir())
    checked = cli("vault", "check", "--home", home, "-o", "json")
    assert checked.code == 0, checked.err
    assert json.loads(checked.out)["ok"] is True
    out = tmp_path / "copy"
    fetched = cli("evidence", "download", digest, "--out", out, "--home", home)
    assert fetched.code == 0, fetched.err
    assert out.read_bytes() == content


def test_the_cli_keeps_what_it_attests_and_answers_as_the_api_does(
    released: tuple[Path, Callers], cli: Cli
) -> None:
    home, callers = released
    done = cli("attest", "scan", SARIF, "--release", "payments/1.0", "--home", home, "-o", "json")
    assert done.code == 0, done.err
    printed = json.loads(done.out)
    with client(home) as api:
        again = _upload(api, callers, "scan", SARIF)
    assert again.status_code == 201, again.text
    assert again.json() == [{**printed, "recorded": False, "notes": []}]
    digest = printed["sha256"]
    assert FileVault(home / "vault").size(digest) == SARIF.stat().st_size


def test_an_oversized_part_is_413_and_nothing_is_recorded_or_kept(
    released: tuple[Path, Callers],
) -> None:
    home, callers = released
    with (home / "config.toml").open("a", encoding="utf-8") as config:
        config.write("\n[evidence.limits]\nscan = 4096\n")
    before = _size(home)
    with client(home) as api:
        big = api.post(
            f"{RELEASE}/evidence/scan",
            headers=callers.auth("pipeline"),
            files=[("files", ("big.sarif", b"{" + b" " * (3 * 1024 * 1024) + b"}"))],
        )
        doc = _problem(big, "too-large")
        assert "4,096-byte limit" in str(doc["detail"])
        assert "[evidence.limits] scan" in str(doc["hint"])
        assert _pointers(doc) == ["/files"]
        small = _upload(api, callers, "scan", SARIF)  # 7 KiB: over it too
        _problem(small, "too-large")
    assert _size(home) == before
    assert _kept(home) == []


def test_hostile_uploads_get_a_problem_and_record_and_keep_nothing(
    released: tuple[Path, Callers],
) -> None:
    home, callers = released
    auth = callers.auth("pipeline")
    url = f"{RELEASE}/evidence/scan"
    sarif = SARIF.read_bytes()
    before = _size(home)
    with client(home) as api:
        as_json = api.post(url, headers=auth, json={"files": ["x"]})
        _problem(as_json, "unsupported-media-type")
        truncated = api.post(
            url,
            headers={**auth, "content-type": "multipart/form-data; boundary=b1"},
            content=b'--b1\r\nContent-Disposition: form-data; name="files"; filename="a"\r\n'
            b"\r\nabc",
        )
        _problem(truncated, "invalid-request")
        garbage = api.post(
            url,
            headers={**auth, "content-type": "multipart/form-data; boundary=b1"},
            content=b"this is not a multipart body at all",
        )
        assert garbage.status_code == 400, garbage.text
        no_boundary = api.post(
            url, headers={**auth, "content-type": "multipart/form-data"}, content=b"x"
        )
        _problem(no_boundary, "invalid-request")
        unknown_field = api.post(url, headers=auth, files=[("actor", ("a.sarif", sarif))])
        assert _pointers(_problem(unknown_field, "invalid-request")) == ["/actor"]
        for name in (
            b"../../etc/passwd",
            b"..\\..\\boot.ini",
            b"/etc/cron.d/x",
            b"a\x1b[2Jb.sarif",
            b"bell\x07.sarif",
            b"nul\x00.sarif",
            b"rtl\xe2\x80\xae.sarif",
            b"..",
            b".",
            b"",
        ):
            body, content_type = _multipart(name, sarif)
            answer = api.post(url, headers={**auth, "content-type": content_type}, content=body)
            assert 400 <= answer.status_code < 500, (name, answer.text)
            assert answer.headers["content-type"] == MEDIA_TYPE
            if answer.status_code == 422:
                pointers = [e["pointer"] for e in answer.json()["errors"]]
                assert pointers == ["/files"], (name, answer.text)
        not_sarif = api.post(url, headers=auth, files=[("files", ("x.sarif", b'{"runs": 7}'))])
        _problem(not_sarif, "invalid-input")
        traversal = api.post(url, headers=auth, files=[("files", ("../../x.sarif", sarif))])
        _problem(traversal, "invalid-input")
        not_hex = api.get("/api/v1/evidence/not-a-digest", headers=callers.auth("reader"))
        assert _pointers(_problem(not_hex, "invalid-input")) == ["/digest"]
        nothing = api.post(url, headers=auth, files=[("format", (None, "sarif/2.1.0"))])
        _problem(nothing, "invalid-request")
        unknown_kind = api.post(
            f"{RELEASE}/evidence/passwd", headers=auth, files=[("files", ("a.sarif", sarif))]
        )
        _problem(unknown_kind, "invalid-input")
    assert _size(home) == before
    assert _kept(home) == []


def test_only_a_digest_the_ledger_cites_is_downloaded(released: tuple[Path, Callers]) -> None:
    home, callers = released
    uncited = FileVault(home / "vault").keep(b"a file no entry cites\n").sha256
    with client(home) as api:
        answer = api.get(f"/api/v1/evidence/{uncited}", headers=callers.auth("reader"))
        _problem(answer, "not-found")
        absent = api.get(f"/api/v1/evidence/{'0' * 64}", headers=callers.auth("reader"))
        _problem(absent, "not-found")


def test_a_file_altered_in_the_vault_is_never_served_whole(
    released: tuple[Path, Callers], cli: Cli, tmp_path: Path
) -> None:
    home, callers = released
    with client(home) as api:
        digest = _upload(api, callers, "scan", SARIF).json()[0]["sha256"]
        kept = FileVault(home / "vault").path_of(digest)
        original = kept.read_bytes()
        kept.write_bytes(original.replace(b"bandit", b"BANDIT"))  # same size, other bytes
        received: list[bytes] = []
        url = f"/api/v1/evidence/{digest}"
        with api.stream("GET", url, headers=callers.auth("reader")) as cut:
            assert cut.status_code == 200  # the headers went out before the content was read
            with pytest.raises(httpx.HTTPError):
                received.extend(cut.iter_bytes())
        assert received == []  # its one chunk was the last: held back, never sent
        kept.write_bytes(original + b"\n")  # another size: refused before streaming
        shorter = api.get(f"/api/v1/evidence/{digest}", headers=callers.auth("reader"))
        _problem(shorter, "integrity-failure")
    checked = cli("vault", "check", "--home", home, "-o", "json")
    assert checked.code == 4
    [finding] = json.loads(checked.out)["findings"]
    assert (finding["sha256"], finding["problem"], finding["name"]) == (
        digest,
        "altered",
        SARIF.name,
    )
    out = tmp_path / "copy"
    fetched = cli("evidence", "download", digest, "--out", out, "--home", home)
    assert fetched.code == 4
    assert not out.exists()
    assert not out.with_name("copy.part").exists()


def test_a_file_deleted_from_the_vault_is_unavailable(
    released: tuple[Path, Callers], cli: Cli
) -> None:
    home, callers = released
    with client(home) as api:
        digest = _upload(api, callers, "test-results", JUNIT).json()[0]["sha256"]
        FileVault(home / "vault").path_of(digest).unlink()
        gone = api.get(f"/api/v1/evidence/{digest}", headers=callers.auth("reader"))
        _problem(gone, "unavailable")
        assert gone.headers["retry-after"]
    checked = cli("vault", "check", "--home", home)
    assert checked.code == 4
    assert "MISSING" in checked.err
    assert digest in checked.err


def test_an_artifact_is_recorded_by_its_digest_as_attest_artifact_records_a_file(
    released: tuple[Path, Callers], cli: Cli, tmp_path: Path
) -> None:
    home, callers = released
    built = tmp_path / "payments-1.0.tar.gz"
    built.write_bytes(b"not really a tarball\n" * 100)
    digest = hashlib.sha256(built.read_bytes()).hexdigest()
    url = f"{RELEASE}/artifacts"
    body = {"name": built.name, "sha256": f"sha256:{digest.upper()}", "size": 2100}
    with client(home) as api:
        answer = api.post(url, headers=callers.auth("pipeline"), json=body)
        assert answer.status_code == 201, answer.text
        doc = answer.json()
        assert (doc["kind"], doc["sha256"], doc["name"], doc["recorded"]) == (
            "artifact", digest, built.name, True
        )  # fmt: skip
        assert (doc["release"], doc["actor"], doc["service"]) == ("payments/1.0", "ci", "payments")
        before = _size(home)
        bad_digest = api.post(url, headers=callers.auth("pipeline"), json={**body, "sha256": "x"})
        assert _pointers(_problem(bad_digest, "invalid-request")) == ["/sha256"]
        a_path = api.post(url, headers=callers.auth("pipeline"), json={**body, "name": "../x"})
        _problem(a_path, "invalid-input")
        reader = api.post(url, headers=callers.auth("reader"), json=body)
        _problem(reader, "insufficient-scope")
        assert _size(home) == before
    again = cli(
        "attest", "artifact", built, "--release", "payments/1.0", "--home", home, "-o", "json"
    )
    assert again.code == 0, again.err
    assert json.loads(again.out) | {"recorded": True} == doc


def test_an_oversized_upload_is_refused_while_it_is_still_arriving(
    released: tuple[Path, Callers],
) -> None:
    home, callers = released
    with (home / "config.toml").open("a", encoding="utf-8") as config:
        config.write("\n[evidence.limits]\nsbom = 65536\n")
    chunk, chunks = b" " * 65536, 800  # 50 MiB, under the server's body cap
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield (
            b'--b7\r\nContent-Disposition: form-data; name="files"; filename="big.json"\r\n\r\n{'
        )
        for _ in range(chunks):
            sent += 1
            yield chunk
        yield b"}\r\n--b7--\r\n"

    before = _size(home)
    with client(home) as api:
        headers = {**callers.auth("pipeline"), "content-type": "multipart/form-data; boundary=b7"}
        try:
            answer = api.post(f"{RELEASE}/evidence/sbom", headers=headers, content=body())
        except httpx.HTTPError:
            pass  # the server answered and closed while the client was still sending
        else:
            _problem(answer, "too-large")
        assert sent < chunks  # it never read the rest
    assert _size(home) == before
    assert _kept(home) == []
