"""The lines a `$$` block may close on (mathjax.py's `_closing_lines`), found by one search of
the source: each line whose text ends in `$$` once its trailing space is stripped."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock

from notecards.render.mathjax import _closing_lines

PIECES = ["$", "$$", " ", "\t", "\n", "\n\n", "\xa0", "\u2028", "\x1c", "\x0c", "x", "> ", "- "]


def _by_line(state: StateBlock) -> list[int]:
    """Each line sliced and stripped (as `str.rstrip` has space)."""
    ends = state.eMarks
    return [
        line
        for line, end in enumerate(ends)
        if state.src[ends[line - 1] + 1 if line else 0 : end].rstrip().endswith("$$")
    ]


@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
@example("$$\nx\n$$  \n\n \n$$$\n a $$ b $$\xa0\n$$")
def test_the_lines_are_those_each_line_read_alone_gives(text: str) -> None:
    state = StateBlock(text, MarkdownIt(), {}, [])
    assert _closing_lines(state) == _by_line(state)
