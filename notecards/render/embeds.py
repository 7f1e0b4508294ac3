"""What `![[Note]]`, `![[Note#Heading]]` and `![[Note#^block-id]]` show: Obsidian's rules.

- A whole note: its text without the frontmatter.
- `#Heading`: the heading's line and every line up to the next heading of the same or a
  higher level (`#A#B`: heading B within A's section). Headings are found as the parser finds
  them (not in fenced code); the name is matched as written, else ignoring case and spaces.
- `#^id`: the block whose last line ends with ` ^id`: its paragraph, or the list item with
  the lines indented under it; `^id` alone on a line names the block just above it (a table,
  a quote, a list: Obsidian's form for those).

What is left out of the embedded text: notecards' own syntax, which Obsidian would show as
text. Each card block (START..END), inline note (STARTI..ENDI), `FROZEN`, `TARGET DECK`,
`FILE TAGS` and `DELETE` line is blanked (its lines stay, empty, so every other line keeps its
number and a problem in the embedded text is reported at its own line): a card's question and
answer are that card's, and would give away its answer on another. An embed whose heading or
block lies inside a card block shows that card's text there, as written, without its START,
type and END lines: it was asked for. The `^id` markers themselves are hidden wherever they end
a paragraph, as in Obsidian's reading view (`block_id_plugin`).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from notecards.config import Syntax
from notecards.hashing import key
from notecards.parse import SourceText
from notecards.parse.blocks import Scan, markers_for, scan_lines
from notecards.parse.inline import InlinePlace
from notecards.parse.layout import Heading, find_layout

_BLOCK_ID = re.compile(r"[A-Za-z0-9-]+")
_LIST_ITEM = re.compile(r"(?P<indent>[ \t]*)(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
_BREAKS = ("softbreak", "hardbreak")
# Where a paragraph's ` ^id` can be: at the end of a line of the source, but for white space
# (a paragraph's text is its lines, stripped, and its last line ends where a source line does).
_ID_ENDING_A_LINE = re.compile(r"\^[A-Za-z0-9-]+\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Section:
    """The markdown an embed shows, and the file line its first line is."""

    text: str
    first_line: int

    @property
    def digest(self) -> str:
        """What the HTML of a card that embeds it follows from: the text. Not the line it
        starts on: a field with problems is never cached, so they point at today's lines."""
        return key(self.text)


class EmbeddedFile:
    """One markdown file, read for the embeds that name it. Its layout, card syntax, headings
    and block ids are found once, in one pass each; a section is then cut in time linear in
    its own length."""

    def __init__(self, text: str, path: str, syntax: Syntax):
        source = SourceText(text)
        layout = find_layout(source, path)
        scan = scan_lines(source, layout, path, markers_for(syntax))
        self._lines = [line.text for line in source.lines]
        self._layout = layout
        self._syntax = syntax
        self._blocks = [(b.start.number, b.end.number) for b in scan.blocks]  # in file order
        self._blanked = set(_syntax_lines(scan))
        self._inline: dict[int, list[InlinePlace]] = {}
        for inline in scan.inline:
            self._inline.setdefault(inline.line.number, []).append(inline.place)
        headings = layout.headings
        self._heading_lines = {heading.line for heading in headings}
        self._section_ends = _section_ends(headings)
        self._titles: dict[str, list[int]] = {}
        self._loose_titles: dict[str, list[int]] = {}
        for index, heading in enumerate(headings):
            self._titles.setdefault(heading.title, []).append(index)
            self._loose_titles.setdefault(_loose(heading.title), []).append(index)
        self._block_ids: dict[str, int] = {}
        for number, line in enumerate(self._lines, start=1):
            found = _block_id(line) if layout.is_text(number) else None
            if found is not None:
                self._block_ids.setdefault(found, number)

    def section(self, subpath: str) -> Section | str:
        """The section `subpath` (after the `#`, empty for the whole note) names, or why
        there is none (`has no heading 'X'`)."""
        parts = [part.strip() for part in subpath.split("#") if part.strip()]
        block = next((part[1:] for part in reversed(parts) if part.startswith("^")), None)
        if block is not None:
            found = self._block(block)
            if found is None:
                return f"has no block ^{block}"
            target = self._block_ids[block]
        elif parts:
            found = self._heading_section(parts)
            if isinstance(found, str):
                return found
            target = found[0]
        else:
            frontmatter = self._layout.frontmatter_lines
            found = (frontmatter[-1] + 1 if frontmatter else 1), len(self._lines)
            target = found[0]
        return self._cut(*found, target)

    # -- what the subpath names: first and last line (1-based, inclusive) ----------

    def _heading_section(self, names: list[str]) -> tuple[int, int] | str:
        """`#A#B`: heading B inside A's section."""
        headings = self._layout.headings
        low, high = 0, len(headings)  # the headings to look among: all, then a section's
        for name in names:
            index = self._heading_named(name, low, high)
            if index is None:
                return f"has no heading {name!r}"
            low, high = index + 1, self._section_ends[index]
        end = headings[high].line - 1 if high < len(headings) else len(self._lines)
        return headings[low - 1].line, end

    def _heading_named(self, name: str, low: int, high: int) -> int | None:
        """The first heading from `low` to `high` called `name`; failing that, the first
        equal to it ignoring case and runs of spaces."""
        for by_title, title in ((self._titles, name), (self._loose_titles, _loose(name))):
            indexes = by_title.get(title, [])
            at = bisect_left(indexes, low)
            if at < len(indexes) and indexes[at] < high:
                return indexes[at]
        return None

    def _block(self, block_id: str) -> tuple[int, int] | None:
        number = self._block_ids.get(block_id)
        if number is None:
            return None
        text = self._lines[number - 1]
        if text.strip() == f"^{block_id}":
            return self._block_above(number)
        item = _LIST_ITEM.match(text)
        if item:
            return number, self._item_end(number, len(item["indent"]))
        return self._paragraph_start(number), number

    def _block_above(self, id_line: int) -> tuple[int, int] | None:
        """The run of lines just above a lone `^id` line (blank lines between skipped), up to
        a heading (a block of its own)."""
        last = id_line - 1
        while last >= 1 and self._blank(last):
            last -= 1
        if last < 1:
            return None
        first = last
        while first > 1 and not self._blank(first - 1) and first - 1 not in self._heading_lines:
            first -= 1
        return first, last

    def _paragraph_start(self, line: int) -> int:
        """Up from a paragraph's last line to a blank line or a heading; or to a list item,
        the item the paragraph belongs to, which it then starts from."""
        first = line
        while first > 1 and not _LIST_ITEM.match(self._lines[first - 1]):
            above = first - 1
            if self._blank(above) or above in self._heading_lines:
                break
            first = above
        return first

    def _item_end(self, line: int, indent: int) -> int:
        """A list item's last line: the lines under it indented deeper, blank ones inside."""
        last = line
        for number in range(line + 1, len(self._lines) + 1):
            text = self._lines[number - 1]
            if not text.strip():
                continue
            if len(text) - len(text.lstrip(" \t")) <= indent:
                break
            last = number
        return last

    def _blank(self, line: int) -> bool:
        return self._layout.is_text(line) and not self._lines[line - 1].strip()

    # -- the section's text, notecards' syntax left out --------------------------

    def _cut(self, first: int, last: int, target: int) -> Section:
        """The lines' text with the syntax lines blank and the inline notes taken out. Where
        the line the embed names (`target`) is inside a card block: the block's text around
        it (not its START, type or END line), as written."""
        at = bisect_right(self._blocks, (target, len(self._lines) + 1)) - 1
        if at >= 0 and self._blocks[at][0] < target < self._blocks[at][1]:
            start, end = self._blocks[at]
            first, last = max(first, start + 2), min(last, end - 1)
            return Section("\n".join(self._lines[first - 1 : last]), first)
        lines = []
        for number in range(first, last + 1):
            if number in self._blanked:
                lines.append("")
            elif number in self._inline:
                lines.append(self._without_inline(number))
            else:
                lines.append(self._lines[number - 1])
        return Section("\n".join(lines), first)

    def _without_inline(self, number: int) -> str:
        text = self._lines[number - 1]
        begin, end = len(self._syntax.begin_inline), len(self._syntax.end_inline)
        kept, at = [], 0
        for place in self._inline[number]:
            kept.append(text[at : place.inner - begin])
            at = place.end_marker + end
        kept.append(text[at:])
        return "".join(kept)


def _syntax_lines(scan: Scan) -> Iterable[int]:
    """The lines of notecards' syntax: card blocks, frozen fields, file-level settings."""
    for block in scan.blocks:
        yield from range(block.start.number, block.end.number + 1)
    for frozen in scan.frozen:
        yield frozen.line.number
        yield from (line.number for line in frozen.body)
    for _, delete_line, id_line in scan.deletions:
        yield from (delete_line.number, id_line.number)
    for value in (scan.target_deck, scan.file_tags):
        if value:
            yield from range(value.line, value.last_line + 1)


def _section_ends(headings: tuple[Heading, ...]) -> list[int]:
    """For each heading, the index of the next one of its level or higher (or the count):
    one pass, with the headings still open on a stack."""
    ends = [len(headings)] * len(headings)
    open_: list[int] = []
    for index, heading in enumerate(headings):
        while open_ and headings[open_[-1]].level >= heading.level:
            ends[open_.pop()] = index
        open_.append(index)
    return ends


def _loose(title: str) -> str:
    return " ".join(title.split()).casefold()


def _block_id(text: str) -> str | None:
    """The id a line's ` ^id` (or lone `^id`) ends it with."""
    body = text.rstrip(" \t")
    caret = body.rfind("^")
    if caret < 0 or not _BLOCK_ID.fullmatch(body, caret + 1):
        return None
    if caret and body[caret - 1] not in " \t\n":  # (a paragraph's own line: `a\n^id`)
        return None
    return body[caret + 1 :]


def _hide_block_ids(state: StateCore) -> None:
    """A paragraph's closing ` ^id` is not shown, and a paragraph that is only `^id` (the
    form that names the block above it) is not written at all. An inline footnote's text
    (`^[^1]`) is no block of the note, so its `^1` is text; in a footnote's definition the
    backlink stands before its paragraph's end. The id is read in the paragraph's source, as
    Obsidian reads it: `\\^id` or `&#94;id` is text."""
    if not _ID_ENDING_A_LINE.search(state.src):  # (most fields: none; `^` is common in math)
        return
    tokens = state.tokens
    in_inline_note = False
    for index, token in enumerate(tokens):
        if token.type in ("footnote_open", "footnote_close"):
            in_inline_note = token.type == "footnote_open" and token.meta.get("label") is None
        if token.type != "inline" or not token.children or index == 0 or in_inline_note:
            continue
        if tokens[index - 1].type != "paragraph_open":
            continue
        children: list[Token] = token.children
        last = children[-1]
        found = _block_id(token.content)
        if found is None or last.type != "text" or not last.content.rstrip().endswith(found):
            continue
        stripped = last.content.rstrip(" \t").rpartition("^")[0].rstrip(" \t")
        last.content = stripped
        if not stripped:
            children.pop()
            while children and children[-1].type in _BREAKS:
                children.pop()
        if not children:
            close = index + 1
            while tokens[close].type == "footnote_anchor":
                close += 1
            tokens[index - 1].hidden = tokens[close].hidden = True


def block_id_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("notecards_block_ids", _hide_block_ids)
