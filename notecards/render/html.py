"""markdown-it's HTML renderer, writing text and code as Anki's editor keeps them, in a
cheaper loop.

Writing the HTML was a fifth of a field's render: for each token a rule looked up twice, and
for each tag without a rule of its own (paragraphs, list items, emphasis) `renderToken` with
its string additions and an attribute list built even when there are none. The loop here
writes the same HTML byte for byte (tests/render/test_html.py holds it to markdown-it's):
one look-up per token, a text token escaped in place, a tag's attributes written only where
it has some.
"""

from __future__ import annotations

from collections.abc import Sequence

from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from notecards.render.anki_form import escape_text


class AnkiHTMLRenderer(RendererHTML):
    """`RendererHTML` whose text, inline code and indented code are escaped as a browser
    writes them (`anki_form.escape_text`: quotes as they are); other rules are as added."""

    def render(self, tokens: Sequence[Token], options: OptionsDict, env: EnvType) -> str:
        """The block tokens' HTML, as `RendererHTML.render` writes it."""
        out: list[str] = []
        rules = self.rules
        for index, token in enumerate(tokens):
            kind = token.type
            if kind == "inline":
                if token.children:
                    out.append(self.renderInline(token.children, options, env))
            elif (rule := rules.get(kind)) is not None:
                out.append(rule(tokens, index, options, env))
            elif not token.hidden:  # (a tight list's paragraph tags: nothing to write)
                out.append(self.renderToken(tokens, index, options, env))
        return "".join(out)

    def renderInline(self, tokens: Sequence[Token], options: OptionsDict, env: EnvType) -> str:
        """An inline token's children as HTML; text (most of them) escaped here, unless its
        rule was replaced."""
        out: list[str] = []
        rules = self.rules
        own_text = rules.get("text") == self.text
        for index, token in enumerate(tokens):
            kind = token.type
            if kind == "text" and own_text:
                out.append(escape_text(token.content))
            elif (rule := rules.get(kind)) is not None:
                out.append(rule(tokens, index, options, env))
            else:
                out.append(self.renderToken(tokens, index, options, env))
        return "".join(out)

    def renderToken(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        """A tag without a rule of its own, as `RendererHTML.renderToken` writes it: a
        block tag on a line of its own, except around inline content or its closing tag."""
        token = tokens[idx]
        if token.hidden:
            return ""
        nesting = token.nesting
        tag = f"</{token.tag}" if nesting == -1 else f"<{token.tag}"
        if token.attrs:
            tag += self.renderAttrs(token)
        if nesting == 0 and options["xhtmlOut"]:
            tag += " /"
        if not token.block:
            return tag + ">"
        if nesting != -1 and idx and tokens[idx - 1].hidden:
            tag = "\n" + tag  # after a hidden paragraph (a tight list's)
        if nesting == 1 and idx + 1 < len(tokens):
            following = tokens[idx + 1]
            if following.type == "inline" or following.hidden:
                return tag + ">"
            if following.nesting == -1 and following.tag == token.tag:
                return tag + ">"
        return tag + ">\n"

    @staticmethod
    def renderAttrs(token: Token) -> str:
        """` name="value"` for each attribute, in order, as `RendererHTML` writes them."""
        return "".join(
            f' {escapeHtml(name)}="{escapeHtml(str(value))}"' for name, value in token.attrs.items()
        )

    def text(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return escape_text(tokens[idx].content)

    def code_inline(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        return f"<code{self.renderAttrs(token)}>{escape_text(token.content)}</code>"

    def code_block(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        return f"<pre{self.renderAttrs(token)}><code>{escape_text(token.content)}</code></pre>\n"
