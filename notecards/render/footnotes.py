"""An inline footnote written in a link's text (`[a^[note]](url)`): its reference right after
the link.

markdown-it's footnote plugin writes the reference's `<a>` inside the link's `<a>`, which HTML
cannot nest: Anki's editor (a browser) splits the two, leaving the `<sup>` empty inside the
link and the number bare after it, and no markdown renders to that. Right after the link, the
reference is valid HTML the editor keeps, looks the same, and comes home as `[a](url)[^1]`.
(A `[^1]` of a definition in a link's text is no footnote: the plugin reads no link there.)
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token


def _references_after_links(state: StateCore) -> None:
    for block in state.tokens:
        # (an inline footnote's reference needs its `^[`: other text has nothing to move)
        if block.type != "inline" or not block.children or "^[" not in block.content:
            continue
        kept: list[Token] = []
        moved: list[Token] = []  # the references of the link open here
        in_link = False
        for token in block.children:
            if in_link and token.type == "footnote_ref":
                moved.append(token)
                continue
            kept.append(token)
            if token.type == "link_open":
                in_link = True
            elif token.type == "link_close":
                in_link = False
                kept += moved
                moved = []
        block.children = kept + moved


def footnote_refs_plugin(md: MarkdownIt) -> None:
    """After the footnote plugin's tail, which builds the inline footnotes' own text (a link
    in one may hold another)."""
    md.core.ruler.after("footnote_tail", "notecards_footnote_refs", _references_after_links)
