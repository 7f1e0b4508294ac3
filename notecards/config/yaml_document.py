"""What the bounded YAML reader (bounded_yaml.py) measures against, and what it hands back.

The reader's front (bounded_yaml.py, no PyYAML) and its PyYAML half (yaml_loader.py, imported by
the front only when a text is read) both use these; here, the PyYAML half need not import the
front that imports it.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from yaml.nodes import Node

MAX_CHARS = 1 << 20  # 1 MiB; a settings file is a few KiB
MAX_ALIASES = 1_000
# Values as written (before aliases): PyYAML takes ~50 µs a token, so this bounds the time a
# file of many small values takes (a long one, like a CSS blob, is one value and reads fast).
MAX_VALUES = 20_000
MAX_DEPTH = 50  # levels of nesting; settings use five, and each costs the composer 3 frames
# The document's size with every alias written out: one per value plus each scalar's length,
# so four times the file limit (a file without aliases stays under it).
MAX_EXPANDED = 4 * MAX_CHARS

LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # half of a UTF-16 pair: no character at all


class YamlProblem(Exception):
    """Why a YAML text cannot be read, at a line of its file."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line, self.message = line, message


@dataclass(frozen=True)
class YamlDocument:
    """What a YAML text holds, and its node tree for the line of any value in it."""

    data: Any
    node: Node | None
    first_line: int = 1  # the file's line the text starts at

    def line_of(self, path: Sequence[Hashable]) -> int:
        """The line of the value at `path` (mapping keys, list indexes): its key's line in a
        mapping, its own in a list; the closest enclosing one's when the path is not there."""
        from yaml.constructor import SafeConstructor  # (PyYAML: only where YAML is read)
        from yaml.nodes import MappingNode, ScalarNode, SequenceNode

        node = self.node
        if node is None:
            return self.first_line
        line = node.start_mark.line + self.first_line
        keys = SafeConstructor()
        for step in path:
            if isinstance(node, MappingNode):
                # the last match: keys merged in with `<<` come first, and the mapping's own win
                found = [
                    (key, value)
                    for key, value in node.value
                    if isinstance(key, ScalarNode) and _same(keys.construct_object(key), step)
                ]
                if not found:
                    return line
                key_node, node = found[-1]
                line = key_node.start_mark.line + self.first_line
            elif (
                isinstance(node, SequenceNode) and isinstance(step, int) and step < len(node.value)
            ):
                node = node.value[step]
                line = node.start_mark.line + self.first_line
            else:
                return line
        return line


def _same(key: Any, step: Hashable) -> bool:
    """Key equality without YAML's `1 == True`: a path step is a key as built."""
    return type(key) is type(step) and key == step
