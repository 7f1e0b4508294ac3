"""`$...$` and `$$...$$` as the `\\(...\\)` / `\\[...\\]` that Anki's MathJax reads.

mdit-py-plugins' dollarmath finds the math (so code spans and `\\$` are not math);
only its render rules are replaced: Anki wants MathJax delimiters, and the TeX
must arrive byte for byte (no stripping, only `<`, `>`, `&` escaped so the
field stays valid HTML).
"""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.dollarmath.index import math_inline_dollar

_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape_math(tex: str) -> str:
    """Escape only what would break the HTML; MathJax unescapes these itself."""
    return tex.translate(_HTML_ESCAPES)


def _inline(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return f"\\({escape_math(tokens[idx].content)}\\)"


def _display(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return f"\\[{escape_math(tokens[idx].content)}\\]"


def _display_block(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return f"\\[{escape_math(tokens[idx].content)}\\]\n"


_find_inline_math = math_inline_dollar(allow_space=False, allow_digits=True, allow_double=True)


def _inline_math_not_currency(state: StateInline, silent: bool) -> bool:
    """Inline math, but not `5$` or `$x$5` (currency, as Obsidian reads it).

    dollarmath's own allow_digits=False looks at `src[pos - 1]` even at pos 0,
    i.e. at the field's last character, so the digit check lives here.
    """
    start = state.pos
    if start > 0 and state.src[start - 1].isdigit():
        return False
    if not _find_inline_math(state, True):
        return False
    if state.pos < len(state.src) and state.src[state.pos].isdigit():
        state.pos = start
        return False
    if silent:
        return True
    state.pos = start
    return _find_inline_math(state, False)


def mathjax_plugin(md: MarkdownIt) -> None:
    """Obsidian's math rules: no `$ x $` (space inside) and no `$5 and $6` (currency);
    `$$...$$` inside a paragraph is display math."""
    dollarmath_plugin(md, allow_labels=False, allow_space=False, double_inline=True)
    md.inline.ruler.at("math_inline", _inline_math_not_currency)
    md.add_render_rule("math_inline", _inline)
    md.add_render_rule("math_inline_double", _display)
    md.add_render_rule("math_block", _display_block)
