"""docs/schemas/release.schema.json, the contract of `release show --output json`, held to the
real thing: a document from a real repository (a merge, a rename, a binary file, a revert, a
co-author, tickets from a subject, a body and a branch, a commit with none) with evidence of
every kind must match it, and the same document with any documented field dropped or renamed
must not. The field tables in docs/releases.md and docs/evidence.md must name exactly the
schema's fields, so the page, the schema and the output cannot drift apart unnoticed.

jsonschema is not a dependency, so `violations` below checks the subset of JSON Schema 2020-12
the schema uses; a test fails if the schema starts using a keyword outside that subset. When
jsonschema happens to be installed, it validates too.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Final

import pytest

from changeproof.cli.main import run
from tests.integration.gitrepo import GitRepo

ROOT: Final = Path(__file__).resolve().parents[2]
SCHEMA_FILE: Final = ROOT / "docs" / "schemas" / "release.schema.json"
RELEASES_MD: Final = ROOT / "docs" / "releases.md"
EVIDENCE_MD: Final = ROOT / "docs" / "evidence.md"
DRAFT_2020_12: Final = "https://json-schema.org/draft/2020-12/schema"
RELEASE: Final = "payments/2.0"

# The keywords `violations` understands; annotations ($schema, title …) change nothing.
KEYWORDS: Final = frozenset(
    {
        "$schema",
        "$id",
        "$ref",
        "$defs",
        "title",
        "description",
        "type",
        "enum",
        "const",
        "pattern",
        "minimum",
        "required",
        "properties",
        "additionalProperties",
        "items",
        "uniqueItems",
        "allOf",
        "if",
        "then",
    }
)

# Heading of a field table in the docs -> the schema object it documents ("" is the root).
TABLES: Final = {
    RELEASES_MD: {
        "The release object": "",
        "The commit object": "commit",
        "The ticket_ref object": "ticket_ref",
        "The change object": "change",
        "The evidence entry": "evidence",
    },
    EVIDENCE_MD: {
        "The test-run summary": "test_run_summary",
        "The scan summary": "scan_summary",
        "The sbom summary": "sbom_summary",
        "The provenance summary": "provenance_summary",
        "The review summary": "review_summary",
    },
}

Schema = Mapping[str, object]

_TYPES: Final[dict[str, Callable[[object], bool]]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _node(value: object) -> Schema:
    assert isinstance(value, dict), f"not a schema object: {value!r}"
    return value


def _resolve(schema: Schema, root: Schema) -> Schema:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    assert isinstance(ref, str)
    assert ref.startswith("#/$defs/"), f"only local $defs references are read: {ref}"
    return _resolve(_node(_node(root["$defs"])[ref.removeprefix("#/$defs/")]), root)


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b  # JSON's true is not 1


def violations(value: object, schema: Schema, root: Schema, at: str = "$") -> list[str]:
    """Where `value` breaks `schema` (the subset of JSON Schema in KEYWORDS); [] when it holds."""
    s = _resolve(schema, root)
    kinds = s.get("type")
    if kinds is not None:
        names = [kinds] if isinstance(kinds, str) else list(_list(kinds))
        if not any(_TYPES[str(name)](value) for name in names):
            return [f"{at}: expected {' or '.join(map(str, names))}, found {value!r:.60}"]
    found: list[str] = []
    if "enum" in s and not any(_same(value, option) for option in _list(s["enum"])):
        found.append(f"{at}: {value!r:.60} is not one of {s['enum']}")
    if "const" in s and not _same(value, s["const"]):
        found.append(f"{at}: {value!r:.60} is not {s['const']!r}")
    if isinstance(value, str) and "pattern" in s and not re.search(str(s["pattern"]), value):
        found.append(f"{at}: {value!r:.60} does not match {s['pattern']}")
    minimum = s.get("minimum")
    if isinstance(value, int) and isinstance(minimum, int) and value < minimum:
        found.append(f"{at}: {value} is less than {minimum}")
    if isinstance(value, dict):
        found += _object_violations(value, s, root, at)
    if isinstance(value, list):
        if "items" in s:
            for i, item in enumerate(value):
                found += violations(item, _node(s["items"]), root, f"{at}[{i}]")
        if s.get("uniqueItems") is True:
            encoded = [json.dumps(item, sort_keys=True) for item in value]
            if len(set(encoded)) != len(encoded):
                found.append(f"{at}: items are not unique")
    for part in _list(s.get("allOf", [])):
        found += violations(value, _node(part), root, at)
    if "if" in s and not violations(value, _node(s["if"]), root, at):
        found += violations(value, _node(s.get("then", {})), root, at)
    return found


def _object_violations(value: dict[str, object], s: Schema, root: Schema, at: str) -> list[str]:
    found = [
        f"{at}: {key!r} is missing" for key in _list(s.get("required", [])) if key not in value
    ]
    properties = _node(s.get("properties", {}))
    extra = s.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            found += violations(item, _node(properties[key]), root, f"{at}.{key}")
        elif extra is False:
            found.append(f"{at}: {key!r} is not a documented field")
        elif isinstance(extra, dict):
            found += violations(item, extra, root, f"{at}.{key}")
    return found


def _list(value: object) -> list[object]:
    assert isinstance(value, list), f"expected a list in the schema, found {value!r}"
    return value


def _subschemas(schema: Schema) -> Iterator[tuple[str, Schema]]:
    """Every schema object inside `schema`, with where it is, `schema` itself first."""
    stack: list[tuple[str, Schema]] = [("#", schema)]
    while stack:
        where, node = stack.pop()
        yield where, node
        for keyword in ("properties", "$defs"):
            for name, sub in _node(node.get(keyword, {})).items():
                stack.append((f"{where}/{keyword}/{name}", _node(sub)))
        stack.extend(
            (f"{where}/{keyword}", _node(node[keyword]))
            for keyword in ("items", "additionalProperties", "if", "then")
            if isinstance(node.get(keyword), dict)
        )
        for i, sub in enumerate(_list(node.get("allOf", []))):
            stack.append((f"{where}/allOf/{i}", _node(sub)))


def _documented(
    value: object, schema: Schema, root: Schema, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path to an object, required field) for every documented field present in `value`."""
    s = _resolve(schema, root)
    if isinstance(value, list) and isinstance(s.get("items"), dict):
        for i, item in enumerate(value):
            yield from _documented(item, _node(s["items"]), root, (*path, i))
    if not isinstance(value, dict):
        return
    layers = [s] + [
        _node(_node(part).get("then", {}))
        for part in _list(s.get("allOf", []))
        if not violations(value, _node(_node(part)["if"]), root)
    ]
    required = {str(key) for layer in layers for key in _list(layer.get("required", []))}
    for key in sorted(required & value.keys()):
        yield path, key
    for layer in layers:
        for key, sub in _node(layer.get("properties", {})).items():
            if key in value:
                yield from _documented(value[key], _node(sub), root, (*path, key))


def _at(document: object, path: tuple[str | int, ...]) -> dict[str, object]:
    for step in path:
        if isinstance(step, int):
            assert isinstance(document, list)
        else:
            assert isinstance(document, dict)
        document = document[step]  # type: ignore[index]  # narrowed by the asserts above
    assert isinstance(document, dict)
    return document


def _table_fields(page: Path, heading: str) -> set[str]:
    """The backticked names in the first column of the first table under `heading`."""
    lines = page.read_text(encoding="utf-8").splitlines()
    titles = [re.sub(r"^#+\s+", "", line).replace("`", "").strip() for line in lines]
    starts = [i for i, line in enumerate(lines) if line.startswith("#") and titles[i] == heading]
    assert starts, f"{page.name} has no heading {heading!r}"
    rows: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    assert len(rows) > 2, f"{page.name}: no field table under {heading!r}"
    first_cells = [row.split("|")[1] for row in rows[2:]]
    return {name for cell in first_cells for name in re.findall(r"`([a-z_][a-z0-9_]*)`", cell)}


@pytest.fixture(scope="module")
def schema() -> Schema:
    loaded = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _cli(*args: str | Path) -> str:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = run([str(a) for a in args])
    assert code == 0, f"changeproof {' '.join(map(str, args))}: {stderr.getvalue()}"
    return stdout.getvalue()


def _evidence_files(where: Path, head: str, artifact: Path) -> dict[str, Path]:
    """One small file of every evidence kind, about `head` and `artifact`."""
    where.mkdir()
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    documents: dict[str, str] = {
        "test-results": (
            '<testsuites name="pytest tests"><testsuite name="pytest" tests="3">'
            '<testcase classname="t" name="ok" time="0.5"/>'
            '<testcase classname="t" name="bad"><failure message="no"/></testcase>'
            '<testcase classname="t" name="later"><skipped/></testcase>'
            "</testsuite></testsuites>"
        ),
        "scan": json.dumps(
            {
                "version": "2.1.0",
                "runs": [
                    {
                        "tool": {"driver": {"name": "Scanner", "version": "1.0"}},
                        "versionControlProvenance": [
                            {"repositoryUri": "https://example.com/r", "revisionId": head}
                        ],
                        "results": [
                            {"ruleId": "R1", "level": "error", "message": {"text": "weak hash"}},
                            {"ruleId": "R2", "message": {"text": "assert"}, "suppressions": [{}]},
                        ],
                    }
                ],
            }
        ),
        "sbom": json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "metadata": {
                    "component": {
                        "type": "application",
                        "name": "payments",
                        "hashes": [{"alg": "SHA-256", "content": digest}],
                    }
                },
                "components": [
                    {
                        "type": "library",
                        "name": "pip",
                        "version": "24.0",
                        "purl": "pkg:pypi/pip@24.0",
                        "licenses": [{"license": {"id": "MIT"}}],
                    },
                    {
                        "type": "library",
                        "name": "vendored",
                        "licenses": [{"license": {"name": "Own"}}],
                    },
                ],
            }
        ),
        "provenance": json.dumps(
            {
                "_type": "https://in-toto.io/Statement/v1",
                "subject": [{"name": artifact.name, "digest": {"sha256": digest}}],
                "predicateType": "https://slsa.dev/provenance/v1",
                "predicate": {
                    "buildDefinition": {
                        "buildType": "https://example.com/build/v1",
                        "externalParameters": {
                            "source": {
                                "uri": "git+https://example.com/acme/payments@refs/heads/main",
                                "digest": {"gitCommit": head},
                            }
                        },
                    },
                    "runDetails": {"builder": {"id": "https://example.com/runner"}},
                },
            }
        ),
        "review": json.dumps(
            {"reviewer": "carol", "state": "approved", "reviewed_sha": head, "author": "ada"}
        ),
    }
    files: dict[str, Path] = {}
    for kind, text in documents.items():
        files[kind] = where / f"{kind}.evidence"
        files[kind].write_text(text, encoding="utf-8")
    return files


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """`release show -o json` of a release built from a real repository, with evidence."""
    base = tmp_path_factory.mktemp("release-schema")
    repo = GitRepo(base / "repo")
    repo.commit("PAY-1 start", {"refunds.py": "a\nb\n", "logo.png": b"\x89PNG\x00\x01"})
    repo.git("tag", "v1.0")
    repo.commit("Reject negative refunds\n\nFixes #12", {"refunds.py": "a\nB\nc\n"})
    repo.git("mv", "refunds.py", "payouts.py")
    repo.git("commit", "-q", "-m", "rename refunds to payouts")
    repo.commit("PAY-2 new logo", {"logo.png": b"\x89PNG\x00\x02"})
    reverted = repo.commit(
        "PAY-3 round\n\nCo-authored-by: Grace Hopper <grace@example.com>", {"money.py": "x\n"}
    )
    repo.git("checkout", "-q", "-b", "feature/pay-4-limits")
    repo.commit("limits", {"limits.py": "1\n"}, author="Grace Hopper <grace@example.com>")
    repo.git("checkout", "-q", "main")
    repo.git(
        "merge",
        "-q",
        "--no-ff",
        "feature/pay-4-limits",
        "-m",
        "Merge branch 'feature/pay-4-limits'",
    )
    repo.git("revert", "--no-edit", reverted)
    head = repo.head()
    artifact = base / "payments-2.0.tar.gz"
    artifact.write_bytes(b"payments 2.0\n")

    home = base / "instance"
    _cli("init", "--home", home, "--actor", "tester", "--origin", "test.example/schema")
    _cli(
        "release",
        "create",
        "--service",
        "payments",
        "--name",
        "1.0",
        "--repo",
        repo.path,
        "--to",
        "v1.0",
        "--home",
        home,
    )
    _cli(
        "release",
        "create",
        "--service",
        "payments",
        "--name",
        "2.0",
        "--repo",
        repo.path,
        "--to",
        "main",
        "--tickets",
        "jira:PAY,github",
        "--home",
        home,
    )
    _cli("attest", "artifact", artifact, "--release", RELEASE, "--home", home)
    for kind, path in _evidence_files(base / "evidence", head, artifact).items():
        _cli("attest", kind, path, "--release", RELEASE, "--home", home)
    shown = json.loads(_cli("release", "show", RELEASE, "--home", home, "--output", "json"))
    assert isinstance(shown, dict)
    return shown


def test_the_schema_is_draft_2020_12_and_uses_only_keywords_the_checker_reads(
    schema: Schema,
) -> None:
    assert schema["$schema"] == DRAFT_2020_12
    for where, node in _subschemas(schema):
        unknown = sorted(set(node) - KEYWORDS)
        assert not unknown, f"{where} uses {unknown}: teach `violations` them first"
        if "$ref" in node:
            assert set(node) == {"$ref"}, f"{where}: $ref beside other keywords"
            _resolve(node, schema)  # resolves, or fails
        if "pattern" in node:
            re.compile(str(node["pattern"]))
        properties = _node(node.get("properties", {}))
        missing = set(map(str, _list(node.get("required", [])))) - set(properties)
        assert not missing, f"{where} requires fields it does not describe: {missing}"
        if node.get("type") == "object" and properties:
            assert node.get("additionalProperties") is False, f"{where} allows undocumented fields"


def test_a_real_release_document_matches_the_schema(
    document: dict[str, object], schema: Schema
) -> None:
    assert violations(document, schema, schema) == []


def test_the_real_document_exercises_every_part_of_the_schema(document: dict[str, object]) -> None:
    commits = document["commits"]
    evidence = document["evidence"]
    assert isinstance(commits, list)
    assert isinstance(evidence, list)
    assert {e["kind"] for e in evidence} == {"test-run", "scan", "sbom", "provenance", "review"}
    changes = [change for c in commits for change in c["changes"]]
    assert any(change["added"] is None for change in changes), "no binary file"
    assert any(change["old_path"] is not None for change in changes), "no rename"
    assert any(c["merge"] and c["changes"] == [] for c in commits), "no merge"
    assert any(c["reverts"] for c in commits), "no revert"
    assert any(c["co_authors"] for c in commits), "no co-author"
    sources = {ref["source"] for c in commits for ref in c["ticket_refs"]}
    assert sources == {"subject", "body", "branch"}
    assert any(ref["closes"] for c in commits for ref in c["ticket_refs"]), "no closing keyword"
    assert document["untracked_commits"], "no commit without a ticket"
    assert document["from_source"] == "last-created"


def test_dropping_or_renaming_any_documented_field_breaks_the_schema(
    document: dict[str, object], schema: Schema
) -> None:
    fields = list(_documented(document, schema, schema))
    assert len(fields) > 200, "the walk should reach every object of the document"
    unnoticed: list[str] = []
    for path, key in fields:
        for change in ("drop", "rename"):
            mutated = copy.deepcopy(document)
            target = _at(mutated, path)
            value = target.pop(key)
            if change == "rename":
                target[f"{key}_renamed"] = value
            if not violations(mutated, schema, schema):
                unnoticed.append(f"{change} {'/'.join(map(str, (*path, key)))}")
    assert unnoticed == []


@pytest.mark.parametrize(
    ("page", "heading", "definition"),
    [(page, heading, name) for page, tables in TABLES.items() for heading, name in tables.items()],
    ids=lambda value: value.name if isinstance(value, Path) else str(value),
)
def test_the_docs_tables_name_exactly_the_schema_fields(
    page: Path, heading: str, definition: str, schema: Schema
) -> None:
    node = schema if not definition else _node(_node(schema["$defs"])[definition])
    documented = _table_fields(page, heading)
    assert documented == set(_node(node["properties"]))


def test_jsonschema_agrees_when_it_is_installed(
    document: dict[str, object], schema: Schema
) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not a dependency")
    validator = jsonschema.Draft202012Validator
    validator.check_schema(schema)
    assert [error.message for error in validator(schema).iter_errors(document)] == []
