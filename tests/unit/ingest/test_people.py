"""The people file reader and the strict YAML loader under it."""

from __future__ import annotations

import pytest

from changeproof.ingest.errors import ReadError
from changeproof.ingest.people import DeclaredActor, read_people
from changeproof.ingest.yamldoc import load_yaml


def test_entries_keep_their_values_and_lines() -> None:
    people = read_people(
        b"actors:\n"
        b"  - name: alice\n"
        b"    emails: [Alice@Example.com]\n"
        b"    github: Alice-GH\n"
        b"    roles: [developer]\n"
        b"  - name: bob\n",
        "people.yaml",
    )
    assert people == (
        DeclaredActor(0, 2, "alice", ("Alice@Example.com",), "Alice-GH", None, ("developer",), ()),
        DeclaredActor(1, 6, "bob", (), None, None, (), ()),
    )
    assert people[1].entry == "actors[1] (bob)"


def test_an_empty_list_is_a_valid_file() -> None:
    assert read_people(b"actors: []\n", "p.yaml") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"actors:\n  - name: bob\n    role: x\n", "p.yaml:3: actors[0] (bob): unknown key 'role'"),
        (b"actors: []\nextra: 1\n", "p.yaml:2: top level: unknown key 'extra'"),
        (b"actors:\n  - name: [bob]\n", "p.yaml:2: actors[0].name: input should be a valid string"),
        (b"actors:\n  - github: x\n", "p.yaml:2: actors[0]: missing key 'name'"),
        (b"actors:\n  - name: a\n    roles: x\n", "p.yaml:3: actors[0] (a).roles: input should be"),
        (b"actors: 1\n", "p.yaml:1: actors: input should be a valid list"),
        (b"actors:\n  - name: a\n    kind: robot\n", "p.yaml:3: actors[0] (a).kind: input"),
        (b"\xff", "p.yaml: not UTF-8 text (byte 0)"),
        (b"", "p.yaml: the file is empty"),
    ],
)
def test_shape_errors_name_the_file_line_and_entry(text: bytes, message: str) -> None:
    with pytest.raises(ReadError) as caught:
        read_people(text, "p.yaml")
    assert str(caught.value).startswith(message)


def test_several_problems_are_counted() -> None:
    with pytest.raises(ReadError, match=r"\(and 2 more problems\)"):
        read_people(b"actors:\n  - {a: 1, b: 2, name: x, c: 3}\n", "p.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"a: 1\nb: 2\na: 3\n", "f.yaml:3: duplicate key 'a' in the top-level mapping"),
        (b"a:\n  b: 1\n  b: 2\n", "f.yaml:3: duplicate key 'b' in a"),
        (b"a: &x 1\nb: *x\n", "f.yaml:1: anchors and aliases"),
        (b"a: *x\n", "f.yaml:1: anchors and aliases"),
        (b"<<: {a: 1}\n", "f.yaml:1: merge keys (<<) are not allowed"),
        (b"yes: 1\n", "f.yaml:1: a mapping key must be text"),
        (b"? [a]\n: 1\n", "f.yaml:1: a mapping key must be text"),
        (b"a: !!python/object/apply:os.system [x]\n", "f.yaml:1: tag tag:yaml.org,2002:python/"),
        (b"a: !!python/name:os.system x\n", "f.yaml:1:4: not valid YAML: could not determine"),
        (b"a: !!set {x: null}\n", "f.yaml:1: tag tag:yaml.org,2002:set is not allowed"),
        (b"a: 1\n---\nb: 2\n", "f.yaml:2:1: not valid YAML"),
        (b"[" * 100 + b"]" * 100, "f.yaml:1: nested more than 64 levels deep"),
    ],
)
def test_the_loader_refuses_what_could_mislead(text: bytes, message: str) -> None:
    with pytest.raises(ReadError) as caught:
        load_yaml(text, "f.yaml")
    assert str(caught.value).startswith(message)


def test_a_billion_laughs_is_refused_at_its_first_anchor() -> None:
    bomb = b'a: &a ["lol","lol"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nd: [*c,*c]\n'
    with pytest.raises(ReadError, match=r"f\.yaml:1: anchors and aliases"):
        load_yaml(bomb, "f.yaml")


def test_lines_point_at_values_or_their_nearest_container() -> None:
    document = load_yaml(b"\xef\xbb\xbfa:\n  - x\n  - y: 1\n", "f.yaml")
    assert document.value == {"a": ["x", {"y": 1}]}
    assert document.line(("a", 1, "y")) == 3
    assert document.line(("a", 1, "missing")) == 3
    assert document.line(()) == 1
