"""The inline `$` rule scans a formula once: what it leaves in markdown-it's state (tokens,
pending text, position) is what scanning silently first, then emitting, left."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from notecards.render.mathjax import _find_inline_math, _inline_math_not_currency

PIECES = ["$", "$$", "5", "x", " ", "\\", "*", "`", "a b", "$x$", "$$x$$"]


def _scanned_twice(state: StateInline, silent: bool) -> bool:
    """The rule as it was: a silent scan to see past the formula, then an emitting one."""
    start = state.pos
    if state.src[start] != "$" or (start > 0 and state.src[start - 1].isdigit()):
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


def _run(rule, src: str, pos: int, pending: str, silent: bool) -> tuple:
    state = StateInline(src, MarkdownIt("commonmark"), {}, [])
    state.pos, state.pending, state.pendingLevel = pos, pending, 0
    state.level = 1  # not the pending text's level: `push` sets pendingLevel to it
    found = rule(state, silent)
    tokens = [token.as_dict() for token in state.tokens]
    return found, state.pos, state.pending, state.pendingLevel, tokens, state.tokens_meta


@settings(max_examples=400)
@given(
    st.lists(st.sampled_from(PIECES), min_size=1).map("".join),
    st.data(),
    st.sampled_from(["", "text before "]),
    st.booleans(),
)
def test_one_scan_leaves_the_state_two_scans_left(
    src: str, data: st.DataObject, pending: str, silent: bool
) -> None:
    pos = data.draw(st.integers(0, len(src) - 1))
    expected = _run(_scanned_twice, src, pos, pending, silent)
    assert _run(_inline_math_not_currency, src, pos, pending, silent) == expected


def test_currency_after_a_formula_gives_back_the_text_before_it() -> None:
    found, pos, pending, _, tokens, _ = _run(_inline_math_not_currency, "$x$5", 0, "cost ", False)
    assert (found, pos, pending, tokens) == (False, 0, "cost ", [])
