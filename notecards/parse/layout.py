"""Where a file's frontmatter, fenced code and headings are, by line.

markdown-it finds fences and headings the way Obsidian does (CommonMark), so a
`START` inside a code example is never taken for a card, and O2A's context
breadcrumb uses the same headings Obsidian shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from markdown_it import MarkdownIt

from notecards.model import Problem
from notecards.parse.source import SourceText

_FRONTMATTER_OPEN = "---"
_FRONTMATTER_CLOSE = ("---", "...")
# Only the block structure is needed (fences, headings): skipping inline parsing saves ~2/3.
_MARKDOWN = MarkdownIt("commonmark").disable("inline")


@dataclass(frozen=True)
class Heading:
    line: int  # 1-based
    level: int
    title: str


@dataclass
class Layout:
    frontmatter: dict[str, Any] = field(default_factory=dict)
    frontmatter_lines: range = range(0)  # 1-based line numbers, fences included
    code_lines: frozenset[int] = frozenset()  # lines inside fenced code, fences included
    headings: tuple[Heading, ...] = ()
    problems: list[Problem] = field(default_factory=list)

    def is_text(self, line: int) -> bool:
        """Whether a line is ordinary text (not frontmatter, not fenced code)."""
        return line not in self.frontmatter_lines and line not in self.code_lines


def find_layout(source: SourceText, path: str) -> Layout:
    layout = Layout()
    _read_frontmatter(source, path, layout)
    masked = "\n".join(
        "" if line.number in layout.frontmatter_lines else line.text for line in source.lines
    )
    tokens = _MARKDOWN.parse(masked)
    code: set[int] = set()
    headings: list[Heading] = []
    for index, token in enumerate(tokens):
        if token.type == "fence" and token.map:
            code.update(range(token.map[0] + 1, token.map[1] + 1))
        elif token.type == "heading_open" and token.map:
            title = tokens[index + 1].content.strip()
            headings.append(Heading(token.map[0] + 1, int(token.tag[1]), title))
    layout.code_lines = frozenset(code)
    layout.headings = tuple(headings)
    return layout


def _read_frontmatter(source: SourceText, path: str, layout: Layout) -> None:
    lines = source.lines
    if not lines or lines[0].text.rstrip() != _FRONTMATTER_OPEN:
        return
    close = next(
        (ln for ln in lines[1:] if ln.text.rstrip() in _FRONTMATTER_CLOSE),
        None,
    )
    if close is None:
        return  # an opening `---` alone is a horizontal rule, not frontmatter
    layout.frontmatter_lines = range(1, close.number + 1)
    body = "\n".join(ln.text for ln in lines[1 : close.number - 1])
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = 2 + mark.line if mark is not None else 1
        problem = getattr(err, "problem", None) or "invalid YAML"
        layout.problems.append(Problem(path, line, f"frontmatter is not valid YAML: {problem}"))
        return
    if data is None:
        return
    if not isinstance(data, dict):
        layout.problems.append(Problem(path, 1, "frontmatter must be a YAML mapping (key: value)"))
        return
    layout.frontmatter = data
