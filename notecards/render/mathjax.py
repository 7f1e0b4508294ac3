"""`$...$` and `$$...$$` as the `\\(...\\)` / `\\[...\\]` that Anki's MathJax reads.

mdit-py-plugins' dollarmath finds the math (so code spans and `\\$` are not math);
only its render rules are replaced: Anki wants MathJax delimiters, and the TeX
must arrive byte for byte, in the form Anki's editor keeps: only `<`, `>`, `&` (and a
no-break space) escaped so the field stays valid HTML, and no newline right inside the
delimiters (the editor drops those when it opens the note, see `anki_form.py`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_block_dollar, math_inline_dollar

from notecards.render.anki_form import escape_text
from notecards.render.block_dispatch import starts_line_with
from notecards.render.inline_dispatch import starts_on

# env key: {src: the lines of src that end in `$$`}, built on first need.
_ENV_CLOSING_LINES = "notecards_math_closing_lines"
# env key: how many formulas the field's HTML holds (each one `\\(` or `\\[` and its closer).
ENV_FORMULAS = "notecards_formulas"


def escape_math(tex: str) -> str:
    """Escape only what would break the HTML (MathJax unescapes these itself), and drop the
    newlines next to the delimiters, as Anki's editor does."""
    return escape_text(tex).strip("\n")


def _formula(env: dict, opener: str, tex: str, closer: str) -> str:
    env[ENV_FORMULAS] = env.get(ENV_FORMULAS, 0) + 1
    return f"{opener}{escape_math(tex)}{closer}"


def _inline(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return _formula(env, "\\(", tokens[idx].content, "\\)")


def _display(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return _formula(env, "\\[", tokens[idx].content, "\\]")


def _display_block(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return _formula(env, "\\[", tokens[idx].content, "\\]\n")


_find_inline_math = math_inline_dollar(allow_space=False, allow_digits=True, allow_double=True)


@starts_on("$")
def _inline_math_not_currency(state: StateInline, silent: bool) -> bool:
    """Inline math, but not `5$` or `$x$5` (currency, as Obsidian reads it).

    dollarmath's own allow_digits=False looks at `src[pos - 1]` even at pos 0,
    i.e. at the field's last character, so the digit check lives here.
    """
    start = state.pos
    if state.src[start] != "$":  # dollarmath's own first test: the rule is tried at every
        return False  # character that may start a construct
    if start > 0 and state.src[start - 1].isdigit():
        return False
    # One scan that emits the formula's token (a second, silent one to look past it first
    # read every formula twice); on `$x$5` the token, and the text `push` flushed before
    # it, are taken back.
    tokens, metas = len(state.tokens), len(state.tokens_meta)
    pending, pending_level = state.pending, state.pendingLevel
    if not _find_inline_math(state, silent):
        return False
    if state.pos < len(state.src) and state.src[state.pos].isdigit():
        del state.tokens[tokens:], state.tokens_meta[metas:]
        state.pending, state.pendingLevel, state.pos = pending, pending_level, start
        return False
    return True


_find_block_math = math_block_dollar(allow_labels=False, allow_blank_lines=True)
# A line's closing `$$`: only space (as `str.isspace` has it) after it, to the line's end.
_CLOSING_END = re.compile(r"\$\$\s*$", re.MULTILINE)


def _closing_lines(state: StateBlock) -> list[int]:
    """The lines that end in `$$` (trailing space aside), ascending; a container's marker
    (`>`, a list indent) is never part of that end, so one pass over the raw lines serves
    every nesting level. Found by one search of the source (a slice and a strip of every
    line cost 1% of a field's render): a match starts on its line, and `\\s` is the space
    `str.strip` takes; what the match goes on over (blank lines) holds no `$$`."""
    memo = state.env.setdefault(_ENV_CLOSING_LINES, {})
    if state.src not in memo:
        ends = state.eMarks
        found = _CLOSING_END.finditer(state.src)
        memo[state.src] = [bisect_left(ends, match.start()) for match in found]
    return memo[state.src]


@starts_line_with("$")  # (what it changes elsewhere is the memo of closing lines)
def _block_math_that_can_close(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """dollarmath's `$$` block, not tried where no line from `start` to `end` ends in `$$`:
    it would read every line to `end` looking for one, so n openers without a closer would
    read n^2 lines."""
    closers = _closing_lines(state)
    index = bisect_left(closers, start)
    if index == len(closers) or closers[index] >= end:
        return False
    return _find_block_math(state, start, end, silent)


def mathjax_plugin(md: MarkdownIt) -> None:
    """Obsidian's math rules: no `$ x $` (space inside) and no `$5 and $6` (currency);
    `$$...$$` inside a paragraph is display math."""
    dollarmath_plugin(md, allow_labels=False, allow_space=False, double_inline=True)
    md.inline.ruler.at("math_inline", _inline_math_not_currency)
    md.block.ruler.at("math_block", _block_math_that_can_close)
    md.add_render_rule("math_inline", _inline)
    md.add_render_rule("math_inline_double", _display)
    md.add_render_rule("math_block", _display_block)
