"""Obsidian callouts (`> [!note] Title`) as styled blocks instead of plain quotes.

A core rule between block and inline parsing rewrites the blockquote's tokens, so
the callout body is still ordinary markdown. Styles are inline: a card carries
them into Anki without any note-type CSS.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# `[!type]`, optional fold marker, optional title: the first line of the quote.
_CALLOUT_HEAD = re.compile(r"\[!(?P<kind>[A-Za-z][\w-]*)\][+-]?[ \t]*(?P<title>[^\n]*)\n?")

# Obsidian's colour families (its default theme), by callout type.
_COLOURS = {
    **dict.fromkeys(("note", "info", "todo"), "8, 109, 221"),
    **dict.fromkeys(("abstract", "summary", "tldr", "tip", "hint", "important"), "0, 191, 188"),
    **dict.fromkeys(("success", "check", "done"), "8, 185, 78"),
    **dict.fromkeys(("question", "help", "faq", "warning", "caution", "attention"), "236, 117, 0"),
    **dict.fromkeys(("failure", "fail", "missing", "danger", "error", "bug"), "233, 49, 71"),
    "example": "120, 82, 238",
    "quote": "158, 158, 158",
    "cite": "158, 158, 158",
}


def _style(kind: str) -> str:
    rgb = _COLOURS.get(kind, _COLOURS["note"])
    return (
        f"border-left: 4px solid rgb({rgb}); background: rgba({rgb}, 0.1); "
        "padding: 0.4em 0.8em; margin: 0.6em 0; border-radius: 4px;"
    )


def _closing_index(tokens: list[Token], open_idx: int) -> int:
    level = tokens[open_idx].level
    for idx in range(open_idx + 1, len(tokens)):
        if tokens[idx].type == "blockquote_close" and tokens[idx].level == level:
            return idx
    return len(tokens) - 1


def _title_tokens(title: str, kind: str, map_: list[int] | None, level: int) -> list[Token]:
    opener = Token("callout_title_open", "div", 1, level=level + 1, block=True)
    opener.attrs = {"class": "callout-title", "style": "font-weight: bold;"}
    inline = Token("inline", "", 0, map=map_, level=level + 2, block=True, children=[])
    inline.content = title or kind.capitalize()
    closer = Token("callout_title_close", "div", -1, level=level + 1, block=True)
    return [opener, inline, closer]


def _convert(tokens: list[Token], idx: int) -> tuple[list[Token], int] | None:
    """Turn the blockquote at idx into a callout if its first line is `[!type]`: the title
    tokens to follow it, and how many of the tokens after it they replace."""
    if idx + 2 >= len(tokens) or tokens[idx + 1].type != "paragraph_open":
        return None
    inline = tokens[idx + 2]
    head = _CALLOUT_HEAD.match(inline.content)
    if not head:
        return None
    kind = head["kind"].lower()
    quote = tokens[idx]
    quote.type, quote.tag = "callout_open", "div"
    quote.attrs = {"class": f"callout callout-{kind}", "data-callout": kind, "style": _style(kind)}
    closer = tokens[_closing_index(tokens, idx)]
    closer.type, closer.tag = "callout_close", "div"
    title = _title_tokens(head["title"].strip(), kind, inline.map, quote.level)
    inline.content = inline.content[head.end() :]
    if head[0].endswith("\n") and inline.map:  # the body starts a line below the head
        inline.map = [inline.map[0] + 1, inline.map[1]]  # a new list: the title keeps the old
    if inline.content.strip():
        return title, 0
    return title, 3  # the paragraph held only the head line


def _callouts(state: StateCore) -> None:
    """The tokens again, with callouts: a new list, as inserting title tokens into the old
    one would move every token after them, once per callout."""
    if ">" not in state.src:  # no blockquote, so no callout (most fields: a scan, no list)
        return
    tokens = state.tokens
    converted: list[Token] = []
    skip_to = 0
    for idx, token in enumerate(tokens):
        if idx < skip_to:
            continue
        converted.append(token)
        if token.type == "blockquote_open" and (callout := _convert(tokens, idx)):
            title, replaced = callout
            converted += title
            skip_to = idx + 1 + replaced
    state.tokens = converted


def callout_plugin(md: MarkdownIt) -> None:
    md.core.ruler.before("inline", "callouts", _callouts)
