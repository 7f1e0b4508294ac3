"""markdown-it's inline parser, trying at each position only the rules that can start there.

Stock `ParserInline.tokenize`, at each position the `text` rule does not take, calls every
inline rule in turn until one matches: with our plugins up to nineteen calls at a `-` or `#`
that no rule takes. Nearly every rule returns False at once, touching nothing, unless the
character there is its own (`[` for a link, `$` for math): `InlineDispatch` skips those, so
the first rule that matches, and so every token, is the one the stock parser finds.

A rule says which characters it can start on with `starts_on` (markdown-it's and
mdit-py-plugins' rules are listed here); a rule that says nothing is tried wherever the
stock parser would try it, in the Ruler's order, so a rule added or replaced later is never
skipped. The `text` rule takes every character but the terminators, and where it is the
only rule left to try, its scan runs in the loop without the call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from markdown_it import MarkdownIt
from markdown_it.parser_inline import ParserInline, RuleFuncInline2Type, RuleFuncInlineType
from markdown_it.rules_inline import (
    StateInline,
    autolink,
    backtick,
    emphasis,
    entity,
    escape,
    fragments_join,
    html_inline,
    image,
    link,
    link_pairs,
    linkify,
    newline,
    strikethrough,
    text,
)
from markdown_it.token import Token
from markdown_it.utils import EnvType
from mdit_py_plugins.footnote.index import footnote_inline

from notecards.render.states import FastStateInline

# Each rule's first test is `src[pos]` against these. Not footnote_ref: before its test it
# records in env that the text may have footnotes, wherever it is tried.
_STARTS_ON: dict[Callable, frozenset[str]] = {
    linkify: frozenset(":"),
    newline: frozenset("\n"),
    escape: frozenset("\\"),
    backtick: frozenset("`"),
    strikethrough.tokenize: frozenset("~"),
    emphasis.tokenize: frozenset("_*"),
    link: frozenset("["),
    image: frozenset("!"),
    autolink: frozenset("<"),
    html_inline: frozenset("<"),
    entity: frozenset("&"),
    footnote_inline: frozenset("^"),
}


def starts_on(chars: str) -> Callable[[RuleFuncInlineType], RuleFuncInlineType]:
    """Declare that an inline rule returns False, changing nothing, at any position whose
    character is not one of `chars` (the rule itself is returned as it is)."""

    def declare(rule: RuleFuncInlineType) -> RuleFuncInlineType:
        _STARTS_ON[rule] = frozenset(chars)
        return rule

    return declare


def _declared(rule: Callable) -> frozenset[str] | None:
    """The characters a rule can start on; None: any (it declares none)."""
    return _STARTS_ON.get(rule)


_TEXT_ONLY = (text,)

# markdown-it's post-processing rules that read and write only the delimiters of the given
# markers (None: of any marker): with none of them in the text's delimiter lists, the rule
# changes nothing (each walks the lists, and the tokens' metadata for more lists, to find so).
_ACTS_ON_DELIMITERS: dict[Callable, frozenset[int] | None] = {
    link_pairs: None,
    strikethrough.postProcess: frozenset((ord("~"),)),
    emphasis.postProcess: frozenset((ord("*"), ord("_"))),
}


class _RulesByChar(dict):
    """char -> the rules, in the Ruler's order, that may match at a position holding it:
    those that declare it and those that declare nothing, up to the `text` rule where that
    takes the character (it always matches there, so no later rule is reached)."""

    def __init__(self, rules: Iterable[RuleFuncInlineType], terminators: re.Pattern[str]):
        super().__init__()
        self.rules = tuple(rules)
        self.terminators = terminators

    def __missing__(self, char: str) -> tuple[RuleFuncInlineType, ...]:
        chosen: list[RuleFuncInlineType] = []
        for rule in self.rules:
            if rule is text:
                if self.terminators.match(char) is None:
                    chosen.append(rule)
                    break
                continue
            declared = _declared(rule)
            if declared is None or char in declared:
                chosen.append(rule)
        self[char] = _TEXT_ONLY if chosen == [text] else tuple(chosen)
        return self[char]


class InlineDispatch(ParserInline):
    """A `ParserInline` taking over a configured one (its rulers, their rules and the
    terminators plugins added), that tokenizes as it does, trying fewer rules."""

    def __init__(self, parser: ParserInline):
        super().__init__()
        vars(self).update(vars(parser))
        self._by_char: _RulesByChar | None = None
        self._chain: list[RuleFuncInlineType] | None = None

    def _rules_by_char(self) -> _RulesByChar:
        """Rebuilt when the Ruler's chain or the terminators change (a rule enabled, added)."""
        chain = self.ruler.getRules("")
        by_char = self._by_char
        if (
            by_char is None
            or by_char.terminators is not self.terminator_re
            or chain is not self._chain
        ):
            by_char = self._by_char = _RulesByChar(chain, self.terminator_re)
            self._chain = chain
        return by_char

    def parse(self, src: str, md: MarkdownIt, env: EnvType, tokens: list[Token]) -> list[Token]:
        """As `ParserInline.parse`; a post-processing rule that acts only on delimiters is
        not called where the text has none of its own (most text: no emphasis, no `~`), and
        `fragments_join` is `_join_fragments`. The state's `push` is `FastStateInline`'s."""
        state = FastStateInline(src, md, env, tokens)
        self.tokenize(state)
        markers: set[int] | None = None  # of the delimiters, once a rule asks
        for rule in self.ruler2.getRules(""):
            if rule in _ACTS_ON_DELIMITERS:
                if markers is None:
                    markers = _delimiter_markers(state)
                acts_on = _ACTS_ON_DELIMITERS[rule]
                if not markers or (acts_on is not None and acts_on.isdisjoint(markers)):
                    continue
            else:
                markers = None  # (a rule of a plugin may add delimiters)
            _FASTER_RULES2.get(rule, rule)(state)
        return state.tokens

    def skipToken(self, state: StateInline) -> None:
        """As `ParserInline.skipToken`, trying only the rules that may start here."""
        pos = state.pos
        cache = state.cache
        if pos in cache:
            state.pos = cache[pos]
            return
        ok = False
        if state.level < state.md.options["maxNesting"]:
            for rule in self._rules_by_char()[state.src[pos]]:
                state.level += 1
                ok = rule(state, True)
                state.level -= 1
                if ok:
                    if state.pos <= pos:
                        raise RuntimeError("inline rule didn't increment state.pos")
                    break
        else:
            state.pos = state.posMax
        if not ok:
            state.pos += 1
        cache[pos] = state.pos

    def tokenize(self, state: StateInline) -> None:
        """As `ParserInline.tokenize`, trying only the rules that may start at each
        position; where that is the `text` rule alone, its scan inline."""
        by_char = self._rules_by_char()
        terminators = by_char.terminators
        end = state.posMax
        max_nesting = state.md.options["maxNesting"]
        while state.pos < end:
            pos = state.pos
            ok = False
            if state.level < max_nesting:
                rules = by_char[state.src[pos]]
                if rules is _TEXT_ONLY:  # the text rule, which always matches here
                    found = terminators.search(state.src, pos)
                    state.pos = found.start() if found else state.posMax
                    state.append_pending(state.src[pos : state.pos])
                    ok = True
                else:
                    for rule in rules:
                        ok = rule(state, False)
                        if ok:
                            if state.pos <= pos:
                                raise RuntimeError("inline rule didn't increment state.pos")
                            break
            if ok:
                if state.pos >= end:
                    break
                continue
            state.append_pending(state.src[state.pos])
            state.pos += 1
        if state.pending:
            state.pushPending()


def _delimiter_markers(state: StateInline) -> set[int]:
    """The markers of the delimiters the post-processing rules walk: the text's own and
    those of each opening token's (in its metadata)."""
    lists = [state.delimiters]
    if any(state.tokens_meta):  # (None for every token but an opening one)
        lists += [meta["delimiters"] for meta in state.tokens_meta if meta and "delimiters" in meta]
    return {delimiter.marker for delimiters in lists for delimiter in delimiters}


def _join_fragments(state: StateInline) -> None:
    """markdown-it's `fragments_join`: each token's level recounted from the nestings, and
    adjacent text tokens joined. The levels in one loop over the tokens, which stops at the
    first two text tokens in a row, rare where emphasis did not split the text: from there
    `fragments_join` does it all again (the levels it sets are the same)."""
    level = 0
    after_text = False
    for token in state.tokens:
        nesting = token.nesting
        if nesting < 0:
            level -= 1
        token.level = level
        if nesting > 0:
            level += 1
        if token.type == "text":
            if after_text:
                fragments_join(state)
                return
            after_text = True
        else:
            after_text = False


_FASTER_RULES2: dict[Callable, RuleFuncInline2Type] = {fragments_join: _join_fragments}
