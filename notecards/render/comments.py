"""Obsidian comments, `%%...%%`: hidden in Obsidian, so left out of the card.

Two rules, as Obsidian reads them: inline, `%%` up to the next `%%` within one paragraph (a
line, or several lines without a blank one); and a block, a line that starts with `%%` up to
the line that ends with the next `%%`, blank lines and any markdown in between. Both are
markdown-it rules, so a `%%` in a code span, fenced or indented code, or math is never seen:
those rules take their text first. A `%%` without a closer is text (Obsidian would hide the
rest of the note; a card never loses its text to a stray `%%`). Each closer is looked up in the
offsets of every `%%` of the text, found once per text: linear however many openers it has.
"""

from __future__ import annotations

from bisect import bisect_left

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline

from notecards.render.block_dispatch import starts_line_with
from notecards.render.inline_dispatch import starts_on
from notecards.render.wikilinks import find_in_src

_MARK = "%%"
# env key: {src: every offset of `%%` in src}, for the block rule.
_ENV_BLOCK_MARKS = "notecards_comment_marks"


def _marks(state: StateBlock) -> list[int]:
    memo = state.env.setdefault(_ENV_BLOCK_MARKS, {})
    if state.src not in memo:
        found, at = [], state.src.find(_MARK)
        while at >= 0:
            found.append(at)
            at = state.src.find(_MARK, at + 1)
        memo[state.src] = found
    return memo[state.src]


@starts_line_with("%")
def _block_comment(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """A comment that starts a line and ends a line: nothing is written for it. As a
    paragraph's terminator (`silent`) only one that runs over several lines, so that a line
    `%%note%%` inside a paragraph stays an inline comment and the paragraph stays whole."""
    if state.is_code_block(start):
        return False
    opener = state.bMarks[start] + state.tShift[start]
    if not state.src.startswith(_MARK, opener):
        return False
    marks = _marks(state)
    index = bisect_left(marks, opener + len(_MARK))
    if index == len(marks):
        return False
    closer = marks[index]
    close_line = bisect_left(state.eMarks, closer, start)
    if close_line >= end or state.src[closer + len(_MARK) : state.eMarks[close_line]].strip():
        return False
    if silent:
        return close_line > start
    state.line = close_line + 1
    return True


@starts_on(_MARK[0])
def _inline_comment(state: StateInline, silent: bool) -> bool:
    start = state.pos
    if not state.src.startswith(_MARK, start):
        return False
    closer = find_in_src(state, _MARK, start + len(_MARK), state.posMax)
    if closer < 0:
        return False
    state.pos = closer + len(_MARK)
    if state.pos >= state.posMax:  # the text ends with it: no space left at the end
        state.pending = state.pending.rstrip(" \t")
    return True


def comment_plugin(md: MarkdownIt) -> None:
    """The block rule after fenced code and `$$` math (which keep their `%%`); both rules
    write no token."""
    alt = ["paragraph", "reference", "blockquote", "list"]
    md.block.ruler.after("fence", "obsidian_comment", _block_comment, {"alt": alt})
    md.inline.ruler.before("escape", "obsidian_comment", _inline_comment)
