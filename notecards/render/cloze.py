"""Cloze deletions as O2A writes them (`{x}`, `{2:x}`, `{c2|x}`, `==x==`) and highlights.

Both are markdown-it inline rules, so braces and `==` inside math and code are
never seen (those rules consume them first) and the text inside a cloze is still
markdown. Anki's own `{{c1::x}}` passes through untouched.

Numbering follows O2A (its cloze_sync suite): an explicit number is used as
written; unnumbered clozes count up from 1 per field on their own, whatever
explicit numbers the field has. O2A turns `==x==` into `{x}` before numbering,
so `==c1::x==` keeps its quirk `{{c1:::x}}` (the id prefix eats one colon).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from notecards.render.inline_dispatch import starts_on
from notecards.render.wikilinks import find_in_src

_ID_PREFIX = re.compile(r"c?(\d+)[:|]")

# env key: True while rendering a field of a cloze note type.
ENV_IS_CLOZE = "notecards_cloze"
# env key: the number an unnumbered cloze gets next (text embedded in the field goes on with it).
ENV_NEXT_NUMBER = "notecards_cloze_next"
# env key: {(state, close, posMax): {position: what a walk from there found}}.
_ENV_WALKS = "notecards_cloze_walks"


def _find_closing(state: StateInline, start: int, close: str) -> int:
    """Index of `close` at this nesting level (math, code, links skipped whole), or -1.

    A walk steps token by token (skipToken, memoised by markdown-it per position), so from
    the same position it always goes the same way: each position passed is remembered with
    what the walk found, and a later walk that reaches it stops there. Without that, n
    openers with no closer would walk the rest of the text n times.
    """
    walks = state.env.setdefault(_ENV_WALKS, {}).setdefault((state, close, state.posMax), {})
    old_pos = state.pos
    state.pos = start
    passed = []
    found = -1
    while state.pos < state.posMax:
        if state.pos in walks:
            found = walks[state.pos]
            break
        if state.src.startswith(close, state.pos):
            found = state.pos
            break
        passed.append(state.pos)
        state.md.inline.skipToken(state)
    walks.update(dict.fromkeys(passed, found))
    state.pos = old_pos
    return found


def _next_number(state: StateInline, body_start: int) -> tuple[int, int]:
    """(cloze number, where the cloze text starts) for a cloze body at body_start."""
    explicit = _ID_PREFIX.match(state.src, body_start, state.posMax)
    if explicit:
        return int(explicit[1]), explicit.end()
    number = state.env.get(ENV_NEXT_NUMBER, 1)
    state.env[ENV_NEXT_NUMBER] = number + 1
    return number, body_start


def _push_wrapped(
    state: StateInline, kind: str, tag: str, body: tuple[int, int], meta: dict
) -> None:
    """Emit kind_open, the body's own inline tokens, kind_close."""
    body_start, body_end = body
    opener = state.push(f"{kind}_open", tag, 1)
    opener.meta = meta
    old_max = state.posMax
    state.pos, state.posMax = body_start, body_end
    state.md.inline.tokenize(state)
    state.posMax = old_max
    state.push(f"{kind}_close", tag, -1)


@starts_on("{")
def _curly_cloze(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if src[start] != "{" or not state.env.get(ENV_IS_CLOZE):
        return False
    if src.startswith("{{", start):
        # Anki's own cloze: its braces stay text; only a scan skips it whole.
        end = find_in_src(state, "}}", start + 2, state.posMax) if silent else -1
        if end < 0:
            # A text token, not `state.pending += "{{"`, which copies all pending text each
            # time; markdown-it joins adjacent text tokens into one afterwards. Not when
            # silent: that is a scan (of a link's or highlight's text), which writes nothing.
            if not silent:
                state.push("text", "", 0).content = "{{"
            state.pos = start + 2
        else:
            state.pos = end + 2
        return True
    end = _find_closing(state, start + 1, "}")
    if end <= start + 1:
        return False
    if not silent:
        number, body_start = _next_number(state, start + 1)
        _push_wrapped(state, "cloze", "", (body_start, end), {"number": number})
    state.pos = end + 1
    return True


@starts_on("=")
def _highlight(state: StateInline, silent: bool) -> bool:
    """`==x==`: a highlight, or a cloze in cloze note types when the vault says so."""
    src, start = state.src, state.pos
    if not src.startswith("==", start):
        return False
    body_start = start + 2
    if body_start >= state.posMax or src[body_start] in " \t\n=":
        return False
    end = _find_closing(state, body_start, "==")
    if end < 0 or src[end - 1] in " \t\n":
        return False
    if not silent:
        as_cloze = state.md.options.get("highlights_to_cloze") and state.env.get(ENV_IS_CLOZE)
        if as_cloze:
            number, body_start = _next_number(state, body_start)
            _push_wrapped(state, "cloze", "", (body_start, end), {"number": number})
        else:
            _push_wrapped(state, "mark", "mark", (body_start, end), {})
    state.pos = end + 2
    return True


def _render_cloze_open(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return f"{{{{c{tokens[idx].meta['number']}::"


def _render_cloze_close(self, tokens: Sequence[Token], idx: int, options, env) -> str:
    return "}}"


def cloze_plugin(md: MarkdownIt, *, curly: bool, highlights_to_cloze: bool) -> None:
    """Install `==highlight==` always, and the cloze forms the vault's settings enable.

    Cloze forms apply only where `env[ENV_IS_CLOZE]` is true (cloze note types), so
    one MarkdownIt serves every note type.
    """
    md.options["highlights_to_cloze"] = highlights_to_cloze
    md.inline.ruler.before("emphasis", "highlight", _highlight)
    if curly:
        md.inline.ruler.before("emphasis", "curly_cloze", _curly_cloze)
    md.add_render_rule("cloze_open", _render_cloze_open)
    md.add_render_rule("cloze_close", _render_cloze_close)
