"""Where a file's frontmatter, fenced code and headings are, by line.

Fences and headings are found the way Obsidian does (CommonMark), so a `START`
inside a code example is never taken for a card, and O2A's context breadcrumb uses
the same headings Obsidian shows. A line scan answers for ordinary files; markdown-it
(the reference) parses any file holding a construct the scan does not model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from notecards.config.bounded_yaml import YamlProblem, load_yaml
from notecards.parse.source import SourceText
from notecards.problems import Problem

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

_FRONTMATTER_OPEN = "---"
_FRONTMATTER_CLOSE = ("---", "...")


@cache
def _block_parser() -> MarkdownIt:
    """CommonMark's block parser, built on first need: a run that takes every file from the
    parse cache never imports markdown-it. Only the block structure is needed (fences,
    headings): skipping inline parsing saves ~2/3."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").disable("inline")


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
    line_scanned: bool = False  # fences and headings found by `scan_blocks`, not markdown-it

    def is_text(self, line: int) -> bool:
        """Whether a line is ordinary text (not frontmatter, not fenced code)."""
        return line not in self.frontmatter_lines and line not in self.code_lines


def find_layout(source: SourceText, path: str) -> Layout:
    layout = Layout()
    _read_frontmatter(source, path, layout)
    masked = ["" if line.number in layout.frontmatter_lines else line.text for line in source.lines]
    found = scan_blocks(masked)
    layout.line_scanned = found is not None
    if found is None:
        found = markdown_blocks(masked)
    code, headings = found
    layout.code_lines = frozenset(code)
    layout.headings = tuple(headings)
    return layout


def markdown_blocks(lines: list[str]) -> tuple[set[int], list[Heading]]:
    """Fenced code lines and headings as markdown-it's CommonMark parser finds them."""
    tokens = _block_parser().parse("\n".join(lines))
    code: set[int] = set()
    headings: list[Heading] = []
    for index, token in enumerate(tokens):
        if token.type == "fence" and token.map:
            code.update(range(token.map[0] + 1, token.map[1] + 1))
        elif token.type == "heading_open" and token.map:
            title = tokens[index + 1].content.strip()
            headings.append(Heading(token.map[0] + 1, int(token.tag[1]), title))
    return code, headings


# A line that may open, close or sit inside a block construct: after any indent and
# list / blockquote markers, a fence, a `#`, or `<` (an HTML block).
_MAYBE_BLOCK = re.compile(
    r"[ \t]*(?P<containers>(?:(?:>|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$))[ \t]*)*)"
    r"(?P<lead>```|~~~|#|<)"
)
_SETEXT_UNDERLINE = re.compile(r" {0,3}(?:=+|-+)[ \t]*")
_ATX = re.compile(r" {0,3}(?P<marks>#{1,6})(?P<rest>[ \t].*)?")
_FENCE = re.compile(r"(?P<marks>`{3,}|~{3,})(?P<info>.*)")
_ONE_LINE_COMMENT = re.compile(r" {0,3}<!--.*-->.*")
# The characters a line that either regexp above matches starts with: a line that starts
# with none (most do: prose) is passed over without them.
_MAY_START = frozenset(" \t>-+*0123456789`~#<=")


def scan_blocks(lines: list[str]) -> tuple[set[int], list[Heading]] | None:
    """`markdown_blocks` for the common case, ~20x faster: a line scan for top-level
    fences and ATX headings.

    Returns None (ask markdown-it) when a line could mean something this scan does not
    model: a fence or heading inside a list item or blockquote, an indented fence, a
    setext underline, an HTML block, tabs in an indent, a lone `\\r` or NUL.
    """
    # markdown-it ends an unclosed fence before a blank last line
    text_lines = lines[:-1] if lines and not lines[-1].strip(" \t") else lines
    joined = "".join(text_lines)
    if "\r" in joined or "\0" in joined:
        return None  # markdown-it reads a lone `\r` as a line break and NUL as U+FFFD
    code: set[int] = set()
    headings: list[Heading] = []
    index, count = 0, len(text_lines)
    while index < count:
        line = text_lines[index]
        index += 1
        if not line or line[0] not in _MAY_START:
            continue
        if _SETEXT_UNDERLINE.fullmatch(line) and index > 1 and text_lines[index - 2].strip(" \t"):
            return None
        match = _MAYBE_BLOCK.match(line)
        if match is None:
            continue
        if match.group("containers") or "\t" in line[: match.end()]:
            if _could_be_block(line[match.start("lead") :]):
                return None
            continue
        if fence := _FENCE.fullmatch(line):
            marks = fence.group("marks")
            if marks[0] == "`" and "`" in fence.group("info"):
                continue  # inline code, not a fence
            end = _closing_fence(text_lines, index, marks)
            if end is None:
                return None
            code.update(range(index, end + 1))
            index = end
        elif heading := _ATX.fullmatch(line):
            title = _heading_title(heading.group("rest") or "")
            headings.append(Heading(index, len(heading.group("marks")), title))
        elif line.lstrip(" ").startswith(("```", "~~~")) or line.startswith("    "):
            if _could_be_block(line.lstrip(" ")):
                return None
        elif line.lstrip(" ").startswith("<") and not _ONE_LINE_COMMENT.fullmatch(line):
            return None
    return code, headings


def is_setext_underline(line: str) -> bool:
    """Whether a line would underline a setext heading, with text on the line above it."""
    return _SETEXT_UNDERLINE.fullmatch(line) is not None


def _could_be_block(rest: str) -> bool:
    """Whether text after an indent or container marker could open a fence, heading or
    HTML block (`#tag` and inline text cannot)."""
    return rest.startswith(("```", "~~~", "<")) or bool(re.match(r"#{1,6}(?:[ \t]|$)", rest))


def _closing_fence(lines: list[str], first: int, marks: str) -> int | None:
    """The 1-based number of the line closing a top-level fence whose content starts at
    0-based `first` (the last line when it is never closed); None when a tab makes the
    indent of a would-be closing line unclear."""
    for index in range(first, len(lines)):
        line = lines[index]
        body = line.lstrip(" \t")
        if not body.startswith(marks[0]):
            continue
        indent = line[: len(line) - len(body)]
        if "\t" in indent:
            return None
        if len(indent) >= 4:
            continue
        run = len(body) - len(body.lstrip(marks[0]))
        if run >= len(marks) and not body[run:].strip(" \t"):
            return index + 1
    return len(lines)


def _heading_title(rest: str) -> str:
    """An ATX heading's text: trailing spaces and a closing `#` run removed (CommonMark)."""
    rest = rest.rstrip(" \t")
    without_closing = rest.rstrip("#")
    if without_closing and without_closing[-1] in " \t":
        rest = without_closing
    return rest.strip()


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
    try:  # the settings' bounded reader: a note is as hostile as a settings file
        data = load_yaml(body, first_line=2).data
    except YamlProblem as err:
        layout.problems.append(Problem.at(path, err.line, f"frontmatter: {err.message}"))
        return
    if data is None:
        return
    if not isinstance(data, dict):
        layout.problems.append(
            Problem.at(path, 1, "frontmatter must be a YAML mapping (key: value)")
        )
        return
    layout.frontmatter = data
