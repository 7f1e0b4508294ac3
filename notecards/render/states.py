"""markdown-it's block and inline parser states, whose `push` makes its token without the
dataclass's `__init__`: the same tokens, for less.

Every token of a field is made by a state's `push` (or, for text, `pushPending`): 60 a field
of the generated vault. markdown-it's `Token(type, tag, nesting)` runs the dataclass's
`__init__`, which calls `__post_init__`, which calls `convert_attrs`, which makes a second
empty `attrs` dict; `make_token` sets the same fields to the same values directly, about half
the cost. An emphasis marker's neighbours are classed (punctuation, white space) once per
character, not by two Unicode look-ups each time. tests/render/test_states.py holds the
tokens to markdown-it's, field by field.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace
from markdown_it.parser_block import ParserBlock
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.state_inline import Scanned
from markdown_it.token import Token
from markdown_it.utils import EnvType

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

_new = object.__new__


def make_token(ttype: str, tag: str, nesting: Literal[-1, 0, 1], level: int, block: bool) -> Token:
    """`Token(ttype, tag, nesting)` with its `level` and `block` set: every other field as
    the dataclass defaults it (new dicts for `attrs` and `meta`)."""
    token: Token = _new(Token)
    token.type = ttype
    token.tag = tag
    token.nesting = nesting
    token.attrs = {}
    token.map = None
    token.level = level
    token.children = None
    token.content = ""
    token.markup = ""
    token.info = ""
    token.meta = {}
    token.block = block
    token.hidden = False
    return token


class FastStateBlock(StateBlock):
    """`StateBlock` whose `push` makes its token with `make_token`."""

    def push(self, ttype: str, tag: str, nesting: Literal[-1, 0, 1]) -> Token:
        """As `StateBlock.push`: the token at the level before an opening tag's (after a
        closing one's)."""
        if nesting < 0:
            self.level -= 1
        token = make_token(ttype, tag, nesting, self.level, True)
        if nesting > 0:
            self.level += 1
        self.tokens.append(token)
        return token


@lru_cache(maxsize=4096)
def _char_kind(character: str) -> tuple[bool, bool]:
    """Whether a character is punctuation, and whether it is white space, as
    `StateInline.scanDelims` reads them."""
    punctuation = isMdAsciiPunct(ord(character)) or isPunctChar(character)
    return punctuation, isWhiteSpace(ord(character))


class FastParserBlock(ParserBlock):
    """A `ParserBlock` taking over a configured one (its ruler and rules), that parses in a
    `FastStateBlock`."""

    def __init__(self, parser: ParserBlock):
        super().__init__()
        vars(self).update(vars(parser))

    def parse(
        self, src: str, md: MarkdownIt, env: EnvType, outTokens: list[Token]
    ) -> list[Token] | None:
        """As `ParserBlock.parse`."""
        if not src:
            return None
        state = FastStateBlock(src, md, env, outTokens)
        self.tokenize(state, state.line, state.lineMax)
        return state.tokens


class FastStateInline(StateInline):
    """`StateInline` whose `push` and `pushPending` make their tokens with `make_token`."""

    def pushPending(self) -> Token:  # noqa: N802 (markdown-it's name)
        """As `StateInline.pushPending`: the pending text as a text token."""
        token = make_token("text", "", 0, self.pendingLevel, False)
        token.content = self.pending
        self.tokens.append(token)
        self.pending = ""
        return token

    def push(self, ttype: str, tag: str, nesting: Literal[-1, 0, 1]) -> Token:
        """As `StateInline.push`: pending text first; an opening tag starts a new list of
        delimiters (in its metadata), a closing one goes back to the list before."""
        if self.pending:
            self.pushPending()
        token_meta = None
        if nesting < 0:
            self.level -= 1
            self.delimiters = self._prev_delimiters.pop()
        token = make_token(ttype, tag, nesting, self.level, False)
        if nesting > 0:
            self.level += 1
            self._prev_delimiters.append(self.delimiters)
            self.delimiters = []
            token_meta = {"delimiters": self.delimiters}
        self.pendingLevel = self.level
        self.tokens.append(token)
        self.tokens_meta.append(token_meta)
        return token

    def scanDelims(self, start: int, canSplitWord: bool) -> Scanned:  # noqa: N802, N803
        """As `StateInline.scanDelims`: the run of markers at `start`, whether it can open
        and whether it can close (the text's ends count as white space)."""
        src, maximum = self.src, self.posMax
        marker = src[start]
        pos = start
        while pos < maximum and src[pos] == marker:
            pos += 1
        last_punctuation, last_space = _char_kind(src[start - 1] if start > 0 else " ")
        next_punctuation, next_space = _char_kind(src[pos] if pos < maximum else " ")
        left_flanking = not (
            next_space or (next_punctuation and not (last_space or last_punctuation))
        )
        right_flanking = not (
            last_space or (last_punctuation and not (next_space or next_punctuation))
        )
        can_open = left_flanking and (canSplitWord or not right_flanking or last_punctuation)
        can_close = right_flanking and (canSplitWord or not left_flanking or next_punctuation)
        return Scanned(can_open, can_close, pos - start)
