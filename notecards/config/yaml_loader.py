"""PyYAML's safe loader within bounded_yaml's limits: the part of reading YAML that needs PyYAML,
imported only when a text is read (a command whose vault has none never imports PyYAML)."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from notecards.config.yaml_document import (
    LONE_SURROGATE,
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_EXPANDED,
    MAX_VALUES,
    YamlDocument,
    YamlProblem,
)

_MERGE = "tag:yaml.org,2002:merge"


def load_bounded(text: str, first_line: int) -> YamlDocument:
    """The document, measured against the limits before anything is built from it; raises
    YamlProblem, at the file's line, for what PyYAML refuses too."""
    try:
        return _load(text, first_line)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + first_line if mark is not None else first_line
        raise YamlProblem(line, f"not valid YAML: {err.problem or err.context}") from err
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + first_line
        message = f"not valid YAML: the character U+{err.character:04X} is not allowed"
        raise YamlProblem(line, message) from err


def _load(text: str, first_line: int) -> YamlDocument:
    loader = _BoundedLoader(text, first_line)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(None, None, first_line)
        _measure(node, loader)
        return YamlDocument(loader.construct_document(node), node, first_line)
    finally:
        loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing while it composes what would recurse or never end."""

    def __init__(self, text: str, first_line: int):
        super().__init__(text)
        self.first_line = first_line
        self._depth = 0
        self._aliases = 0
        self._values = 0
        self._open_anchors: list[str | None] = []

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        line = self.file_line(event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YamlProblem(line, f"more than {MAX_ALIASES:,} aliases (the limit)")
            if event.anchor in self._open_anchors:
                message = f"alias *{event.anchor} stands inside its own anchor: it never ends"
                raise YamlProblem(line, message)
            return super().compose_node(parent, index)
        self._values += 1
        if self._values > MAX_VALUES:
            raise YamlProblem(line, f"more than {MAX_VALUES:,} values (the limit)")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlProblem(line, f"nested more than {MAX_DEPTH} levels deep (the limit)")
        anchor = getattr(event, "anchor", None)
        self._open_anchors.append(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._open_anchors.pop()

    def file_line(self, mark: yaml.Mark) -> int:
        """A mark's line in the file (not `line`: PyYAML's reader keeps its position there)."""
        return mark.line + self.first_line

    def fetch_flow_collection_start(self, TokenClass: type) -> None:
        """PyYAML's scanner looks over every open `[` and `{` at each token it reads, which is
        quadratic in the nesting: refuse it at the limit, before the cost can grow."""
        super().fetch_flow_collection_start(TokenClass)
        if self.flow_level > MAX_DEPTH:
            line = self.file_line(self.get_mark())
            raise YamlProblem(line, f"nested more than {MAX_DEPTH} levels deep (the limit)")

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        """PyYAML's, with a tagged scalar it cannot convert (`!!int x`, a bad date, an int
        of 5,000 digits) said at its line instead of escaping as a Python error."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, AttributeError, OverflowError, LookupError) as err:
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            shown = _clip(str(node.value))
            message = f"not valid YAML: {shown!r} is not a {tag}"
            raise YamlProblem(self.file_line(node.start_mark), message) from err


def _measure(root: Node, loader: _BoundedLoader) -> None:
    """Refuse a document too large or too deep once its aliases are expanded, a key written
    twice in one mapping, or a lone surrogate (`"\\ud800"`), which is no character.

    Iterative and memoised per node: an alias is its anchor's node again, so the billion
    values of a bomb are a few hundred nodes here; nodes are finished in document order.
    """
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, depth)
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in measured:
            continue
        children = _children(node)
        if not children_done:
            _check_node(node, loader)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
            continue
        line = loader.file_line(node.start_mark)
        size = 1 + (len(node.value) if isinstance(node, ScalarNode) else 0)
        size += sum(measured[id(child)][0] for child in children)
        depth = 1 + max((measured[id(child)][1] for child in children), default=0)
        if size > MAX_EXPANDED:
            message = f"its aliases expand it past the limit of {MAX_EXPANDED:,} (4 MiB)"
            raise YamlProblem(line, message)
        if depth > MAX_DEPTH:
            raise YamlProblem(line, f"nested more than {MAX_DEPTH} levels deep (the limit)")
        measured[id(node)] = (size, depth)


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _check_node(node: Node, loader: _BoundedLoader) -> None:
    if isinstance(node, ScalarNode):
        if found := LONE_SURROGATE.search(node.value):
            message = f"not valid YAML: {found.group()!r} is half a character (a lone surrogate)"
            raise YamlProblem(loader.file_line(node.start_mark), message)
    elif isinstance(node, MappingNode):
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE:
                continue  # a complex key is refused when built; `<<` may override
            key = loader.construct_object(key_node)
            line = loader.file_line(key_node.start_mark)
            if key in first_line:
                message = f"duplicate key {_clip(str(key))!r} (first at line {first_line[key]})"
                raise YamlProblem(line, message)
            first_line[key] = line


def _clip(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
