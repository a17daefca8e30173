"""The structure pass: policy YAML to plain data, refusing what YAML allows and a policy must not.

Refused, each with the line and key: files over 1 MiB or not UTF-8; anchors and aliases
(the billion-laughs bomb, and values that silently change in two places); duplicate keys
(YAML loaders keep the last one silently; the error names both lines); tags other than
the standard scalar, list and mapping ones (`!!python/object`, `!!binary`, `<<` merges);
keys that are lists or mappings; fractions and integers beyond 2**53 (the digest is
RFC 8785 JSON); nesting deeper than 64; a top level that is not a mapping.
"""

from __future__ import annotations

from typing import Final

import yaml

from changeproof.policy.errors import PolicyError, PolicyProblem, excerpt
from changeproof.policy.paths import KeyPath, key_text

__all__ = ["MAX_POLICY_BYTES", "read_yaml"]

MAX_POLICY_BYTES: Final = 1 << 20  # 1 MiB; a real policy is a few kilobytes
MAX_DEPTH: Final = 64
_SAFE_INT: Final = 2**53 - 1
_YAML: Final = "tag:yaml.org,2002:"
_SCALAR_TAGS: Final = frozenset(
    _YAML + t for t in ("str", "int", "float", "bool", "null", "timestamp")
)
_TAGS: Final = _SCALAR_TAGS | {_YAML + "map", _YAML + "seq"}
_YAML_WORDS: Final = 120  # characters of PyYAML's own message: its words and an excerpt


class _Refused(Exception):
    def __init__(self, problem: str, line: int, path: KeyPath) -> None:
        super().__init__(problem)
        self.problem, self.line, self.path = problem, line, path


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases before anything is expanded."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[str | int | None] = []

    def _here(self, index: object) -> KeyPath:
        parts = [*self._path, _component(index)]
        return tuple(p for p in parts if p is not None)

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        # `index` is really a key node, a list index or None; the stub says int.
        event: yaml.NodeEvent = self.peek_event()  # type: ignore[no-untyped-call]  # untyped stub
        line = 1 if event.start_mark is None else event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(
                f"aliases ('*{excerpt(str(event.anchor))}') are not allowed in a policy; "
                "write the value out",
                line,
                self._here(index),
            )
        if event.anchor is not None:
            raise _Refused(
                f"anchors ('&{excerpt(str(event.anchor))}') are not allowed in a policy; "
                "write values out",
                line,
                self._here(index),
            )
        if len(self._path) > MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep", line, self._here(index))
        self._path.append(_component(index))
        try:
            return super().compose_node(parent, index)
        finally:
            self._path.pop()


def _component(index: object) -> str | int | None:
    if isinstance(index, int):
        return index
    if isinstance(index, yaml.ScalarNode):
        return str(index.value)
    return None  # the top, or a mapping key being composed


def read_yaml(data: bytes, source: str) -> tuple[dict[str, object], dict[KeyPath, int]]:
    """Plain data (str keys; str, int, bool, None, dates, lists, dicts) and each key's line."""
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError.at(
            source, 1, None, f"the file is larger than {MAX_POLICY_BYTES} bytes (1 MiB)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise PolicyError.at(source, line, None, "the file is not UTF-8 text") from None
    text = text.removeprefix("\ufeff")
    loader: _StrictLoader | None = None
    try:
        loader = _StrictLoader(text)  # checks every character is one YAML accepts
        root = loader.get_single_node()
    except _Refused as e:
        raise PolicyError.at(source, e.line, key_text(e.path), e.problem) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        # PyYAML's words quote what it found (a tag, an escape): at most an excerpt of it.
        problem = excerpt(" ".join(str(p) for p in (e.context, e.problem) if p), _YAML_WORDS)
        raise PolicyError.at(
            source, None if mark is None else mark.line + 1, None, f"not valid YAML: {problem}"
        ) from None
    except yaml.reader.ReaderError as e:
        at = text[: int(e.position)].count("\n") + 1
        raise PolicyError.at(
            source, at, None, f"not valid YAML: {excerpt(str(e).splitlines()[0], _YAML_WORDS)}"
        ) from None
    except yaml.YAMLError as e:
        raise PolicyError.at(
            source, None, None, f"not valid YAML: {excerpt(str(e), _YAML_WORDS)}"
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        raise PolicyError.at(
            source, 1, None, "the file is empty; a policy needs at least version and environments"
        )
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        raise PolicyError.at(
            source,
            int(root.start_mark.line) + 1,
            None,
            f"the top level must be a mapping of keys (version, environments, ...), not {kind}",
        )
    reader = _Plain(source)
    document = reader.value(root, ())
    if reader.problems:
        raise PolicyError(sorted(reader.problems, key=lambda p: p.line or 0))
    assert isinstance(document, dict)  # the root is a mapping node
    return document, reader.lines


class _Plain:
    """Turns the composed (alias-free) node tree into plain data, noting problems and lines."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines: dict[KeyPath, int] = {}
        self.problems: list[PolicyProblem] = []
        self._constructor = yaml.constructor.SafeConstructor()

    def _problem(self, line: int, path: KeyPath, problem: str) -> None:
        self.problems.append(PolicyProblem(self.source, line, key_text(path), problem))

    def value(self, node: yaml.Node, path: KeyPath) -> object:
        line = int(node.start_mark.line) + 1
        self.lines.setdefault(path, line)
        if node.tag not in _TAGS:
            self._problem(line, path, _tag_problem(str(node.tag)))
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, (*path, n)) for n, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)  # the composer makes only these three
        return self._scalar(node, line, path)

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, object]:
        result: dict[str, object] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = int(key_node.start_mark.line) + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(line, path, "a key must be a name, not a list or a mapping")
                continue
            if key_node.tag not in _SCALAR_TAGS:
                self._problem(line, path, _tag_problem(str(key_node.tag)))
                continue
            key = str(key_node.value)
            here = (*path, key)
            if not _utf8(key):
                self._problem(line, path, "a key holds a character that is not valid Unicode")
                continue
            if key in first_line:
                self._problem(
                    line, here, f"duplicate key (first at line {first_line[key]}); keep one"
                )
                continue
            first_line[key] = line
            self.lines[here] = line
            result[key] = self.value(value_node, here)
        return result

    def _scalar(self, node: yaml.ScalarNode, line: int, path: KeyPath) -> object:
        try:
            value: object = self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError, AttributeError):
            # PyYAML's constructors raise these for values their tag cannot hold,
            # such as `!!int ten` or `!!timestamp 2026-02-30`.
            kind = str(node.tag).removeprefix(_YAML)
            self._problem(line, path, f"{excerpt(str(node.value))!r} is not a valid {kind}")
            return None
        if isinstance(value, float):
            self._problem(
                line,
                path,
                f"{excerpt(str(node.value))} is a fraction; a policy holds whole numbers or text",
            )
            return None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _SAFE_INT:
            self._problem(
                line, path, f"{excerpt(str(node.value))} is too large (at most 2**53 - 1)"
            )
            return None
        if isinstance(value, str) and not _utf8(value):
            self._problem(line, path, "the text holds a character that is not valid Unicode")
            return None
        return value


def _tag_problem(tag: str) -> str:
    if tag == _YAML + "merge":
        return "merge keys ('<<') are not allowed in a policy; write the keys out"
    return (
        f"the tag {excerpt(tag)!r} is not allowed; a policy holds only text, numbers, true/false, "
        "lists and mappings"
    )


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
