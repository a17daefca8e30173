"""Evidence bound to a release through the CLI: real tool outputs, binding rules, idempotency,
and bad input that records nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from changeproof.bootstrap import open_instance
from changeproof.domain.errors import InputError, UsageError
from changeproof.domain.releases import ReleaseRef
from tests.conftest import Cli, ints
from tests.integration.gitrepo import GitRepo

RELEASE = "payments/1.0"


@pytest.fixture
def released(home: Path, tmp_path: Path, cli: Cli) -> tuple[Path, GitRepo]:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("PAY-1 base", {"app.py": "print('hi')\n"})
    repo.commit("PAY-2 more", {"app.py": "print('hello')\n"}, author="Bob <bob@example.com>")
    created = cli(
        "release",
        "create",
        "--service",
        "payments",
        "--name",
        "1.0",
        "--repo",
        repo.path,
        "--to",
        "main",
        "--home",
        home,
    )
    assert created.code == 0, created.err
    return home, repo


def _attest(cli: Cli, home: Path, kind: str, *args: str | Path) -> dict[str, object]:
    result = cli("attest", kind, *args, "--release", RELEASE, "--home", home, "-o", "json")
    assert result.code == 0, result.err
    doc: dict[str, object] = json.loads(result.out)
    return doc


def _size(home: Path) -> int:
    return ints(home, "SELECT tree_size FROM ledger_head")[0]


def _pytest_junit(tmp_path: Path) -> Path:
    module = tmp_path / "test_generated.py"
    module.write_text(
        "import pytest\n"
        "def test_pass():\n    assert True\n"
        "def test_fail():\n    assert 1 == 2\n"
        "@pytest.fixture\ndef broken():\n    raise RuntimeError('fixture')\n"
        "def test_error(broken):\n    pass\n"
        "@pytest.mark.skip(reason='later')\ndef test_skip():\n    pass\n"
    )
    out = tmp_path / "junit.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(module),
            f"--junitxml={out}",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore",
        ],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    return out


def test_test_results_from_a_real_pytest_run_and_idempotency(
    released: tuple[Path, GitRepo], cli: Cli, tmp_path: Path
) -> None:
    home, _ = released
    junit = _pytest_junit(tmp_path)
    first = _attest(cli, home, "test-results", junit)
    assert first["kind"] == "test-run"
    assert first["sha256"] == hashlib.sha256(junit.read_bytes()).hexdigest()
    assert first["recorded"] is True
    summary = first["summary"]
    assert isinstance(summary, dict)
    assert (summary["tests"], summary["failures"], summary["errors"], summary["skipped"]) == (
        4,
        1,
        1,
        1,
    )
    size = _size(home)
    again = _attest(cli, home, "test-results", junit)
    assert again["recorded"] is False
    assert again["seq"] == first["seq"]
    assert _size(home) == size

    shown = json.loads(cli("release", "show", RELEASE, "--home", home, "-o", "json").out)
    assert [(e["kind"], e["seq"]) for e in shown["evidence"]] == [("test-run", first["seq"])]


def _pytest_json_report(tmp_path: Path) -> Path:
    module = tmp_path / "test_refunds.py"
    module.write_text(
        "import pytest\n"
        "def test_refund():\n    assert True\n"
        "def test_rounding():\n    assert round(2.675, 2) == 2.68\n"
        "@pytest.fixture\ndef ledger():\n    raise RuntimeError('no ledger')\n"
        "def test_posting(ledger):\n    pass\n"
        "@pytest.mark.skip(reason='later')\ndef test_sandbox():\n    pass\n"
    )
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(module), "--json-report",
         f"--json-report-file={out}", "-q", "-p", "no:cacheprovider", "-W", "ignore"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert out.is_file(), done.stdout + done.stderr
    return out


TESTS_PASSED_POLICY = """
version: 1
environments:
  production:
    controls:
      - tests-passed
"""


def test_a_pytest_json_report_is_recorded_and_its_failures_fail_tests_passed(
    released: tuple[Path, GitRepo], cli: Cli, tmp_path: Path
) -> None:
    home, _ = released
    report = _pytest_json_report(tmp_path)
    first = _attest(cli, home, "test-results", report, "--format", "pytest-json")
    assert (first["kind"], first["format"], first["recorded"]) == ("test-run", "pytest-json", True)
    assert first["sha256"] == hashlib.sha256(report.read_bytes()).hexdigest()
    summary = first["summary"]
    assert isinstance(summary, dict)
    assert (summary["tests"], summary["failures"], summary["errors"], summary["skipped"]) == (
        4,
        1,
        1,
        1,
    )
    assert (summary["dialect"], summary["suite_names"]) == ("pytest-json", ["test_refunds.py"])
    # Recognised from the content without --format: the same evidence, recorded once.
    again = _attest(cli, home, "test-results", report)
    assert (again["recorded"], again["seq"], again["format"]) == (
        False,
        first["seq"],
        "pytest-json",
    )

    policy = tmp_path / "policy.yaml"
    policy.write_text(TESTS_PASSED_POLICY)
    gated = cli("gate", "--release", RELEASE, "--env", "production", "--policy", policy,
                "--home", home, "-o", "json")  # fmt: skip
    assert gated.code == 1, gated.err
    (control,) = [c for c in json.loads(gated.out)["controls"] if c["id"] == "tests-passed"]
    assert control["status"] == "fail"
    assert "1 test failed: test_refunds.py::test_rounding" in control["reason"]
    assert "1 test errored: test_refunds.py::test_posting" in control["reason"]
    assert f"(test run {first['seq']}, pytest-json)" in control["reason"]


def test_test_results_of_two_formats_or_an_unknown_one_record_nothing(
    released: tuple[Path, GitRepo], cli: Cli, tmp_path: Path
) -> None:
    home, _ = released
    junit = tmp_path / "junit.xml"
    junit.write_text('<testsuite name="s"><testcase classname="c" name="t"/></testsuite>')
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"exitcode": 0, "tests": []}))
    before = _size(home)
    mixed = cli("attest", "test-results", junit, report, "--release", RELEASE, "--home", home)
    assert mixed.code == 2
    assert f"{report}: is pytest-json-report JSON, but {junit} is JUnit XML" in mixed.err
    unknown = cli("attest", "test-results", junit, "--format", "cobol", "--release", RELEASE,
                  "--home", home)  # fmt: skip
    assert unknown.code == 2
    assert "unknown format 'cobol' for test-results" in unknown.err
    assert "pytest-json" in unknown.err
    assert _size(home) == before


def test_a_reader_is_given_only_the_options_it_declares(
    released: tuple[Path, GitRepo], tmp_path: Path
) -> None:
    home, _ = released
    sarif = tmp_path / "empty.sarif"
    sarif.write_text(json.dumps({"version": "2.1.0", "runs": []}))
    key = tmp_path / "key.pem"
    key.write_text("not read by a scan")
    before = _size(home)
    with open_instance(home) as instance:
        evidence, release = instance.evidence, ReleaseRef.parse(RELEASE)
        with pytest.raises(UsageError, match=r"the SARIF 2\.1\.0 reader takes no public keys"):
            evidence.attest("scan", [sarif], release, actor="ci", public_keys=[key])
        with pytest.raises(UsageError, match="the SBOM JSON reader takes no required signature"):
            evidence.attest("sbom", [sarif], release, actor="ci", require_signature=True)
        with pytest.raises(InputError, match="no evidence reader for 'coverage'"):
            evidence.attest("coverage", [sarif], release, actor="ci")
    assert _size(home) == before


def test_scan_from_a_real_bandit_run(
    released: tuple[Path, GitRepo], cli: Cli, tmp_path: Path
) -> None:
    home, _ = released
    code = tmp_path / "weak.py"
    code.write_text(
        "import hashlib\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n"
    )
    sarif = tmp_path / "bandit.sarif"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "bandit"),
            "-q",
            "-f",
            "sarif",
            "-o",
            str(sarif),
            str(code),
        ],
        capture_output=True,
        check=False,
    )
    doc = _attest(cli, home, "scan", sarif)
    summary = doc["summary"]
    assert isinstance(summary, dict)
    assert str(summary["tool"]).startswith("Bandit")
    assert summary["results"] >= 1
    assert summary["by_level"]["error"] >= 1
    assert summary["suppressed"] == 0


def _artifact(cli: Cli, home: Path, path: Path, release: str = RELEASE) -> dict[str, object]:
    result = cli("attest", "artifact", path, "--release", release, "--home", home, "-o", "json")
    assert result.code == 0, result.err
    doc: dict[str, object] = json.loads(result.out)
    return doc


def _statement(subject_digest: str, commit: str | None = None) -> dict[str, object]:
    predicate: dict[str, object] = {
        "buildDefinition": {
            "buildType": "https://example.com/build/v1",
            "externalParameters": {},
            "resolvedDependencies": (
                [
                    {
                        "uri": "git+https://example.com/payments@refs/heads/main",
                        "digest": {"gitCommit": commit},
                    }
                ]
                if commit
                else []
            ),
        },
        "runDetails": {"builder": {"id": "https://ci.example.com/builder"}},
    }
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "payments.tar.gz", "digest": {"sha256": subject_digest}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": predicate,
    }


def test_provenance_binds_to_the_release_artifact_and_refuses_another_release(
    released: tuple[Path, GitRepo], cli: Cli, tmp_path: Path
) -> None:
    home, repo = released
    build = tmp_path / "payments.tar.gz"
    build.write_bytes(b"the build")
    recorded = _artifact(cli, home, build)
    assert recorded["release"] == RELEASE
    assert _artifact(cli, home, build)["recorded"] is False
    digest = hashlib.sha256(b"the build").hexdigest()
    statement = tmp_path / "provenance.json"
    statement.write_text(json.dumps(_statement(digest, repo.head())))
    doc = _attest(cli, home, "provenance", statement)
    assert doc["summary"]["subjects"] == [{"name": "payments.tar.gz", "digest": {"sha256": digest}}]  # type: ignore[index]
    assert doc["summary"]["builder"] == "https://ci.example.com/builder"  # type: ignore[index]

    other = tmp_path / "other.tar.gz"
    other.write_bytes(b"another build")
    created = cli(
        "release",
        "create",
        "--service",
        "payments",
        "--name",
        "2.0",
        "--repo",
        repo.path,
        "--from",
        "main",
        "--to",
        "main",
        "--home",
        home,
    )
    assert created.code == 0, created.err
    _artifact(cli, home, other, "payments/2.0")
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps(_statement(hashlib.sha256(b"another build").hexdigest())))
    before = _size(home)
    refused = cli("attest", "provenance", foreign, "--release", RELEASE, "--home", home)
    assert refused.code == 2
    assert "recorded for release payments/2.0, not payments/1.0" in refused.err
    assert _size(home) == before


def test_evidence_about_a_commit_outside_the_release_is_refused(
    released: tuple[Path, GitRepo], cli: Cli, tmp_path: Path
) -> None:
    home, repo = released
    outside = repo.commit("PAY-3 not released yet")
    review = tmp_path / "review.json"
    review.write_text(
        json.dumps(
            {"reviewer": "carol", "state": "approved", "reviewed_sha": outside, "author": "ada"}
        )
    )
    before = _size(home)
    refused = cli("attest", "review", review, "--release", RELEASE, "--home", home)
    assert refused.code == 2
    assert f"is about commit {outside[:12]}, which is not in release {RELEASE}" in refused.err
    assert _size(home) == before

    inside = repo.head("main~1")
    review.write_text(
        json.dumps(
            {"reviewer": "carol", "state": "approved", "reviewed_sha": inside, "author": "ada"}
        )
    )
    doc = _attest(cli, home, "review", review)
    assert doc["summary"]["reviewer"] == "carol"  # type: ignore[index]
    assert doc["summary"]["reviewed_sha"] == inside  # type: ignore[index]


def test_a_webhook_with_a_bad_signature_records_nothing(
    released: tuple[Path, GitRepo], cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, repo = released
    review = tmp_path / "review.json"
    review.write_text(
        json.dumps(
            {"reviewer": "carol", "state": "approved", "reviewed_sha": repo.head(), "author": "ada"}
        )
    )
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    good = "sha256=" + hmac.new(b"s3cret", review.read_bytes(), hashlib.sha256).hexdigest()
    before = _size(home)
    bad = cli(
        "attest",
        "review",
        review,
        "--release",
        RELEASE,
        "--signature",
        "sha256=" + "0" * 64,
        "--secret-env",
        "HOOK_SECRET",
        "--home",
        home,
    )
    assert bad.code == 2
    assert "signature" in bad.err
    assert _size(home) == before
    ok = cli(
        "attest",
        "review",
        review,
        "--release",
        RELEASE,
        "--signature",
        good,
        "--secret-env",
        "HOOK_SECRET",
        "--home",
        home,
    )
    assert ok.code == 0, ok.err


def test_a_signed_dsse_envelope_is_checked_against_the_given_key(
    released: tuple[Path, GitRepo], cli: Cli, tmp_path: Path
) -> None:
    home, _ = released
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "builder.pub.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    payload = json.dumps(_statement("ab" * 32)).encode()
    kind = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(kind), kind.encode(), len(payload), payload)
    envelope = {
        "payloadType": kind,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(key.sign(pae)).decode()}],
    }
    signed = tmp_path / "signed.dsse.json"
    signed.write_text(json.dumps(envelope))
    doc = _attest(cli, home, "provenance", signed, "--public-key", pem)
    assert doc["summary"]["signature_verified"] is True  # type: ignore[index]

    stranger = tmp_path / "stranger.pub.pem"
    stranger.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    before = _size(home)
    refused = cli(
        "attest",
        "provenance",
        signed,
        "--public-key",
        stranger,
        "--require-signature",
        "--release",
        "payments/1.0",
        "--home",
        home,
    )
    assert refused.code == 2
    assert str(signed) in refused.err
    assert _size(home) == before
    # Without --require-signature the envelope is read, and says it was not verified.
    unsigned_ok = cli(
        "attest",
        "provenance",
        signed,
        "--public-key",
        stranger,
        "--release",
        RELEASE,
        "--home",
        home,
        "-o",
        "json",
    )
    assert unsigned_ok.code == 0, unsigned_ok.err
    assert json.loads(unsigned_ok.out)["recorded"] is False  # same file, already recorded


@pytest.mark.parametrize(
    ("kind", "content", "words"),
    [
        (
            "test-results",
            '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            "<testsuite>&b;</testsuite>",
            "",
        ),
        ("test-results", "<nothing/>", ""),
        ("scan", '{"version": "2.2", "runs": []}', "2.2"),
        ("sbom", '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [', ""),
        ("review", '{"reviewer": "x"}', ""),
    ],
    ids=["billion-laughs", "no-testsuite", "sarif-2.2", "truncated-json", "incomplete-review"],
)
def test_hostile_or_malformed_files_are_exit_2_and_record_nothing(
    released: tuple[Path, GitRepo], cli: Cli, tmp_path: Path, kind: str, content: str, words: str
) -> None:
    home, _ = released
    bad = tmp_path / "bad-evidence"
    bad.write_text(content)
    before = _size(home)
    result = cli("attest", kind, bad, "--release", RELEASE, "--home", home)
    assert result.code == 2
    assert str(bad) in result.err
    assert words in result.err
    assert _size(home) == before


def test_a_file_over_the_size_cap_is_refused_before_it_is_read(
    released: tuple[Path, GitRepo], cli: Cli, tmp_path: Path
) -> None:
    home, _ = released
    big = tmp_path / "huge.sarif"
    with big.open("wb") as handle:
        handle.truncate(110 * 1024 * 1024)
    before = _size(home)
    result = cli("attest", "scan", big, "--release", RELEASE, "--home", home)
    assert result.code == 2
    assert "larger than the 104,857,600-byte limit" in result.err  # a scan's default
    assert _size(home) == before


def test_evidence_for_an_unknown_release_is_refused(
    released: tuple[Path, GitRepo], cli: Cli, tmp_path: Path
) -> None:
    home, _ = released
    junit = tmp_path / "j.xml"
    junit.write_text('<testsuite name="s" tests="1"><testcase name="t" classname="c"/></testsuite>')
    result = cli("attest", "test-results", junit, "--release", "payments/9.9", "--home", home)
    assert result.code == 2
    assert "no release payments/9.9" in result.err
    assert cli("ledger", "rebuild", "--check", "--home", home).code == 0
