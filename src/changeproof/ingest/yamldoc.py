"""Loading YAML documents people hand us, strictly, and knowing where each value sits.

One document; mapping keys are text and appear once; no anchors or aliases (no
billion-laughs bomb, no value that silently means another); only the safe schema's
scalars. Every error names the file and line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from changeproof.ingest.errors import ReadError

__all__ = ["YamlDocument", "YamlPath", "load_yaml"]

YamlPath = tuple[str | int, ...]
_MAX_DEPTH: Final = 64
_PLAIN_TAGS: Final = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


@dataclass(frozen=True, slots=True)
class YamlDocument:
    value: object
    lines: Mapping[YamlPath, int]  # the 1-based line where each value starts

    def line(self, path: Sequence[str | int]) -> int | None:
        """The line of the value at `path`, else of the nearest value that encloses it."""
        here = tuple(path)
        while here not in self.lines and here:
            here = here[:-1]
        return self.lines.get(here)


class _Refused(Exception):
    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, refusing anchors and aliases before it composes them."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in types-PyYAML
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused("anchors and aliases (&name, *name) are not allowed", _line(event))
        return super().compose_node(parent, index)


def load_yaml(data: bytes, source: str) -> YamlDocument:
    """Parse one UTF-8 YAML document (an optional BOM is dropped)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ReadError(source, f"not UTF-8 text (byte {e.start})") from e
    loader = _StrictLoader(text)
    lines: dict[YamlPath, int] = {}
    try:
        node = loader.get_single_node()
        value = None if node is None else _build(loader, node, (), lines)
    except _Refused as e:
        raise ReadError(source, e.problem, line=e.line) from e
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "not valid YAML"
        line, column = (None, None) if mark is None else (mark.line + 1, mark.column + 1)
        raise ReadError(source, f"not valid YAML: {problem}", line=line, column=column) from e
    except yaml.YAMLError as e:
        raise ReadError(source, f"not valid YAML: {e}") from e
    finally:
        loader.dispose()
    return YamlDocument(value, lines)


def _build(loader: _StrictLoader, node: Node, path: YamlPath, lines: dict[YamlPath, int]) -> object:
    if len(path) > _MAX_DEPTH:
        raise _Refused(f"nested more than {_MAX_DEPTH} levels deep", _line(node))
    lines[path] = _line(node) or 1
    if isinstance(node, MappingNode | SequenceNode) and node.tag not in _PLAIN_TAGS:
        raise _Refused(f"tag {node.tag} is not allowed", _line(node))
    if isinstance(node, MappingNode):
        mapping: dict[str, object] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused("merge keys (<<) are not allowed", _line(key_node))
            key = loader.construct_object(key_node) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                raise _Refused(
                    "a mapping key must be text (quote keys such as yes, no, on, 1)",
                    _line(key_node),
                )
            if key in mapping:
                raise _Refused(f"duplicate key {key!r} in {_spell(path)}", _line(key_node))
            mapping[key] = _build(loader, value_node, (*path, key), lines)
        return mapping
    if isinstance(node, SequenceNode):
        return [_build(loader, item, (*path, n), lines) for n, item in enumerate(node.value)]
    return loader.construct_object(node)


def _spell(path: YamlPath) -> str:
    """`actors[2].roles`, or `the top-level mapping`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "the top-level mapping"


def _line(marked: object) -> int | None:
    mark = getattr(marked, "start_mark", None)
    line = getattr(mark, "line", None)
    return line + 1 if isinstance(line, int) else None
