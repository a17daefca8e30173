"""Write tests/fixtures/evidence-shapes.json: evidence bodies as each earlier reader wrote them.

    python tools/evidence_shapes.py [OUT]     # OUT: tests/fixtures/evidence-shapes.json

For each commit in COMMITS (the first that recorded evidence, and every later one that changed
a reader or the evidence service), the script extracts that commit's src/ into a scratch
folder (`git archive`), runs that code's readers in a subprocess (this script's `read` mode)
over the shared corpus (../shared/corpus, beside the repository) and the few payloads written
below (GitLab hooks, the generic review form, SLSA v0.2, a non-SLSA predicate,
pytest-json-report), and makes the body that commit's evidence service would have recorded:
reviews carry `webhook_signature` from NOT_BEFORE_SIGNATURE on. It keeps one body per shape
(the kind and the keys of its summary, its detail and each envelope), the smallest, noting
the commit that first wrote it. tests/unit/domain/test_evidence_documents.py decodes every
one with today's codec, back to the same canonical JSON, and validates it against the
published schema.

A witness, like tests/fixtures/ledger-v1: regenerate it to add the shapes of a new reader
version (add its commit to COMMITS), never to make an old shape disappear.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parent.parent
CORPUS: Final = ROOT.parent / "shared" / "corpus"
OUT: Final = ROOT / "tests" / "fixtures" / "evidence-shapes.json"
COMMITS: Final = (
    "a969aac",  # evidence recorded: SBOM, provenance and review readers
    "b6ee0d6",  # JUnit XML and SARIF
    "1f212b0",  # the service records whether a review's webhook signature was checked
    "a4d58dc",  # the provenance, review and SARIF readers split into modules
    "106aa87",
    "a601de2",
    "f7b9ae6",  # reviews name their change's base
    "a13df17",  # test runs name their suites
    "52a2289",  # SARIF suppression status
    "3ab1d05",  # the reader registry; pytest-json-report
    "41fcc99",
    "242c0e8",
)
NOT_BEFORE_SIGNATURE: Final = ("a969aac", "b6ee0d6")  # commits whose reviews carry none

_SHA, _BASE, _DIGEST = "a" * 40, "b" * 40, "c" * 64
INPUTS: Final[dict[str, dict[str, Any]]] = {
    "gitlab-system.json": {
        "object_kind": "merge_request",
        "user": {"id": 7, "username": "bob"},
        "project": {"path_with_namespace": "g/p"},
        "object_attributes": {
            "iid": 3,
            "action": "unapproved",
            "last_commit": {"id": _SHA},
            "author_id": 7,
            "system": True,
            "system_action": None,
            "updated_at": "2026-01-01 00:00:00 UTC",
        },
    },
    "gitlab-plain.json": {
        "object_kind": "merge_request",
        "user": {"id": 8, "username": "carol"},
        "project": {"path_with_namespace": "g/p"},
        "object_attributes": {"iid": 4, "action": "approval", "last_commit": {"id": _SHA}},
    },
    "generic-base.json": {
        "reviewer": "carol",
        "state": "approved",
        "reviewed_sha": _SHA,
        "author": "ada",
        "commits": [_SHA],
        "base_sha": _BASE,
        "submitted_at": "2026-11-25T12:00:00Z",
    },
    "generic-min.json": {"reviewer": "carol", "state": "changes_requested", "reviewed_sha": _SHA},
    "slsa02.json": {
        "_type": "https://in-toto.io/Statement/v0.1",
        "subject": [{"name": "a.tgz", "digest": {"sha256": _DIGEST}}],
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "predicate": {
            "builder": {"id": "https://b"},
            "buildType": "t",
            "invocation": {
                "configSource": {
                    "uri": "git+https://github.com/o/r@refs/heads/main",
                    "digest": {"sha1": _SHA},
                }
            },
            "metadata": {"buildInvocationID": "123"},
            "materials": [{"uri": "git+https://github.com/o/r", "digest": {"sha1": _SHA}}],
        },
    },
    "other-predicate.json": {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "a.tgz", "digest": {"sha256": _DIGEST, "sha512": _DIGEST * 2}}],
        "predicateType": "https://example.com/test-result/v1",
        "predicate": {"x": 1},
    },
    "pytest.json": {
        "created": 1.0,
        "duration": 0.5,
        "exitcode": 1,
        "root": "/x",
        "environment": {},
        "summary": {"total": 3},
        "collectors": [
            {"nodeid": "", "outcome": "passed", "result": []},
            {"nodeid": "t_bad.py", "outcome": "failed", "longrepr": "E   ImportError: no"},
        ],
        "tests": [
            {
                "nodeid": "t.py::a",
                "outcome": "failed",
                "setup": {"duration": 0.0, "outcome": "passed"},
                "call": {
                    "duration": 0.01,
                    "outcome": "failed",
                    "crash": {"message": "boom"},
                    "longrepr": "x",
                },
                "teardown": {"duration": 0.0, "outcome": "passed"},
            },
            {
                "nodeid": "t.py::b",
                "outcome": "skipped",
                "setup": {"duration": 0.0, "outcome": "skipped"},
            },
            {
                "nodeid": "t.py::c",
                "outcome": "error",
                "setup": {"duration": 0.0, "outcome": "failed"},
            },
        ],
    },
}


def _read(scratch: Path) -> list[dict[str, Any]]:
    """`read` mode: this process's changeproof (one old commit's) over every input."""
    found: list[dict[str, Any]] = []

    def module(name: str) -> Any:
        try:
            return importlib.import_module(f"changeproof.ingest.{name}")
        except ImportError:
            return None  # not written yet at this commit

    def attempt(name: str, data: bytes, read: Callable[..., Any], *args: Any, **kw: Any) -> None:
        try:
            r = read(*args, **kw)
        except Exception as e:
            if type(e).__name__ == "ReadError":
                return  # not a file this reader (of this commit) reads
            raise
        to = getattr(r.summary, "to_data", None)
        summary = to() if to else dict(r.summary)
        detail = r.detail.to_data() if to else dict(r.detail)
        found.append(
            {
                "input": name,
                "kind": str(r.kind),
                "format": r.format,
                "files": [
                    {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                ],
                "summary": summary,
                "detail": detail,
                "commits": list(r.commits),
                "artifact_digests": list(r.artifact_digests),
                "notes": list(r.notes),
            }
        )

    def files(folder: str, pattern: str = "*") -> list[tuple[str, bytes]]:
        return [
            (p.name, p.read_bytes())
            for p in sorted((CORPUS / folder).glob(pattern))
            if p.name != "GROUND_TRUTH.json"
        ]

    for name, doc in INPUTS.items():
        (scratch / name).write_text(json.dumps(doc), encoding="utf-8")
    mine = {name: (scratch / name).read_bytes() for name in INPUTS}
    junit, sarif, sbom, provenance, reviews, pytest_json = (
        module(m) for m in ("junit", "sarif", "sbom", "provenance", "reviews", "pytest_json")
    )
    if junit is not None:
        for name, data in files("junit", "*.xml"):
            attempt(name, data, junit.read_test_results, [(name, data)])
        some = files("junit", "*.xml")[:3]
        attempt("three.xml", b"".join(d for _, d in some), junit.read_test_results, some)
    if pytest_json is not None:
        data = mine["pytest.json"]
        attempt("pytest.json", data, pytest_json.read_pytest_json, [("pytest.json", data)])
    if sarif is not None:
        for name, data in files("sarif"):
            attempt(name, data, sarif.read_scan, data, name)
    for name, data in files("sbom"):
        attempt(name, data, sbom.read_sbom, data, name)
    key = (CORPUS / "intoto" / "corpus-ed25519.pub.pem").read_bytes()
    statements = [*files("slsa"), *files("intoto", "*.link")]
    statements += [(n, mine[n]) for n in ("slsa02.json", "other-predicate.json")]
    for name, data in statements:
        attempt(name, data, provenance.read_provenance, data, name)
        attempt(name, data, provenance.read_provenance, data, name, public_keys=[key])
    hooks = files("webhooks", "*review*")
    hooks += [(n, mine[n]) for n in INPUTS if n.startswith(("gitlab", "generic"))]
    for name, data in hooks:
        attempt(name, data, reviews.read_review, data, name)
    return found


def _shape(data: dict[str, Any]) -> str:
    envelopes = sorted(json.dumps(sorted(e)) for e in data["detail"].get("envelopes", []))
    keys = [data["kind"], sorted(data["summary"]), sorted(data["detail"]), envelopes]
    return json.dumps(keys)


def main(out: Path) -> int:
    shapes: dict[str, dict[str, Any]] = {}
    for commit in COMMITS:
        with tempfile.TemporaryDirectory(prefix="changeproof-shapes-") as scratch:
            tree = Path(scratch) / "tree"
            tree.mkdir()
            archive = subprocess.run(  # noqa: S603 - git on our own repository and commits
                ["git", "-C", str(ROOT), "archive", commit, "src"],  # noqa: S607
                capture_output=True,
                check=True,
            ).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(tree, filter="data")
            env = {**os.environ, "PYTHONPATH": str(tree / "src")}
            done = subprocess.run(  # noqa: S603 - this script, under that commit's code
                [sys.executable, __file__, "read", scratch],
                capture_output=True,
                check=True,
                env=env,
                cwd=scratch,
            )
        for reading in json.loads(done.stdout):
            name = reading.pop("input")
            if reading["kind"] == "review" and commit not in NOT_BEFORE_SIGNATURE:
                reading["summary"]["webhook_signature"] = "not checked"
            data = {"release": "payments/1.0.0", "sha256": reading["files"][0]["sha256"], **reading}
            key, size = _shape(data), len(json.dumps(data))
            known = shapes.get(key)
            if known is None or size < len(json.dumps(known["data"])):
                first = commit if known is None else known["first_written_by"]
                shapes[key] = {"first_written_by": first, "input": name, "data": data}
    bodies = sorted(
        shapes.values(), key=lambda s: (s["data"]["kind"], COMMITS.index(s["first_written_by"]))
    )
    out.write_text(json.dumps(bodies, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(bodies)} shapes to {out}")  # noqa: T201
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["read"]:
        json.dump(_read(Path(sys.argv[2])), sys.stdout)
        sys.exit(0)
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
