"""Block rules tried only at the lines where they can start: the same tokens, less work.

markdown-it's block parser asks each rule of a chain, in order, whether a block starts at the
line, at every line where a block may start and, for each further line of a paragraph, list,
quote or table, whether it ends it there. Most rules can only start at a line whose first
character (after its indent) is theirs: a heading at `#`, a fence at a backtick or `~`; the
others fail at once, each after a logging call, and that was a third of a field's render time.

`DispatchingRuler` holds the rules as markdown-it's `Ruler` does (same order, same chains, same
enabling and disabling), but each chain it hands out is one rule: it looks at the line's first
character and tries, in the chain's order, only the rules that can accept it; a line that is
empty or indented as code (4 columns past the block's indent) tries them all, as markdown-it
does. A rule declares the characters it can accept at a line not indented as code, the
character at `bMarks + tShift`, which every rule reads first (`FIRST_CHARACTERS`, or
`starts_line_with` on notecards' own rules); a rule without a declaration (a table, found by
its next line; a setext heading or a paragraph, by any text) is tried at every line, so a
rule added later is never skipped, only not sped up. tests/render/test_block_dispatch.py shows
the tokens are those of markdown-it's own parser.

Three rules that pass the first character test at most lines they are tried at have a second,
`LINE_PATTERNS`: a pattern the line (from that character to its end) matches wherever the
rule can accept it, tried in the dispatch, in C, before the rule's call and its logging: a
thematic break's three markers (a list item's `- ` is none), a list's marker and the space
after it (a `**bold**` line has none), a table's `|` (its header row holds one). A setext
heading is tried only where a later line can underline it (`_setext_heading`): markdown-it
tries it at each paragraph, reading the paragraph's lines twice.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from typing import TypeVar

from markdown_it import MarkdownIt, rules_block
from markdown_it.parser_block import RuleFuncBlockType
from markdown_it.ruler import Rule, Ruler
from markdown_it.rules_block import StateBlock
from mdit_py_plugins.footnote.index import footnote_def

_RuleT = TypeVar("_RuleT", bound=Callable[..., bool])

# markdown-it's and mdit-py-plugins' rules: the first characters each accepts at a line not
# indented as code (read from their sources: each returns False, having changed nothing, when
# `state.src[bMarks + tShift]` is another one).
FIRST_CHARACTERS: dict[Callable[..., bool], frozenset[str]] = {
    rules_block.code: frozenset(),  # only at code indent, where every rule is tried
    rules_block.fence: frozenset("`~"),
    rules_block.blockquote: frozenset(">"),
    rules_block.hr: frozenset("*-_"),
    rules_block.list_block: frozenset("*+-0123456789"),
    rules_block.reference: frozenset("["),
    rules_block.html_block: frozenset("<"),
    rules_block.heading: frozenset("#"),
    footnote_def: frozenset("["),  # `[^label]:`
}
_DECLARED = "notecards_first_characters"  # the attribute `starts_line_with` sets

# What a line not indented as code (its first character past the indent, to its end) matches
# at its start wherever the rule can accept it (read from the rules: each returns False,
# having changed nothing, at a line that does not; the patterns may accept more).
LINE_PATTERNS: dict[Callable[..., bool], re.Pattern[str]] = {
    rules_block.hr: re.compile(r"([-*_])[ \t]*\1[ \t]*\1"),  # three markers, spaces between
    rules_block.list_block: re.compile(r"[-*+](?:[ \t]|\Z)|[0-9]{1,9}[.)](?:[ \t]|\Z)"),
    rules_block.table: re.compile(r"[^|]*\|"),  # the header row's `|` (its delimiter row is next)
}
# env key: {src: the lines of src that end as a setext underline can}, built on first need.
_ENV_UNDERLINES = "notecards_underline_lines"
# A setext underline's end: `=` or `-`, then only spaces and tabs to the line's end. One
# pattern each: a pattern that starts with a character set is tried at every character (7 us
# a field), one that starts with a character skips to it.
_UNDERLINE_ENDS = (re.compile(r"-[ \t]*$", re.MULTILINE), re.compile(r"=[ \t]*$", re.MULTILINE))


def starts_line_with(characters: str) -> Callable[[_RuleT], _RuleT]:
    """Declare, on a block rule, the only first characters of a line it can accept where
    the line is not indented as code: it must return False, changing nothing, at any other."""

    def declare(rule: _RuleT) -> _RuleT:
        setattr(rule, _DECLARED, frozenset(characters))
        return rule

    return declare


def first_characters(rule: Callable[..., bool]) -> frozenset[str] | None:
    """The first characters the rule declares it can accept; None: it is tried at every line."""
    declared = getattr(rule, _DECLARED, None)
    return declared if declared is not None else FIRST_CHARACTERS.get(rule)


def _underline_lines(state: StateBlock) -> list[int]:
    """The lines of the source that end in `=` or `-` (then spaces or tabs), ascending: a
    container's marker (`>`, a list's indent) is never part of that end, so one pass over
    the raw source serves every nesting level."""
    memo = state.env.setdefault(_ENV_UNDERLINES, {})
    lines = memo.get(state.src)
    if lines is None:
        ends = state.eMarks  # (each line's end is where `$` matches; one match a line at most)
        found = (match for end in _UNDERLINE_ENDS for match in end.finditer(state.src))
        lines = memo[state.src] = sorted(bisect_left(ends, match.end()) for match in found)
    return lines


def _setext_heading(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """markdown-it's setext heading rule, not tried where no line after `start` (and before
    `end`) can be its underline: it reads the paragraph's lines, each with the checks for a
    block that ends it, only to fail, and the paragraph rule reads them again. (A failing
    `lheading` also leaves `parentType` at "paragraph": only a list tried as a paragraph's
    terminator reads it, and each caller of those sets it first.)"""
    lines = _underline_lines(state)
    index = bisect_right(lines, start)
    if index == len(lines) or lines[index] >= end:
        return False
    return rules_block.lheading(state, start, end, silent)


# The rules dispatched in place of markdown-it's (the same tokens, tried where they can be).
_GUARDED: dict[Callable[..., bool], RuleFuncBlockType] = {rules_block.lheading: _setext_heading}


def _dispatching(chain: list[RuleFuncBlockType]) -> RuleFuncBlockType:
    """One rule that tries, in order, the rules of `chain` that can start at the line, and
    says whether one did (as markdown-it's loops over a chain stop at the first that does)."""
    chain = [_GUARDED.get(rule, rule) for rule in chain]
    accepts = [(rule, first_characters(rule), LINE_PATTERNS.get(rule)) for rule in chain]
    every = tuple((rule, None) for rule in chain)
    by_character: dict[str, tuple[tuple[RuleFuncBlockType, re.Pattern[str] | None], ...]] = {}

    def dispatch(state: StateBlock, line: int, end: int, silent: bool) -> bool:
        start = state.bMarks[line] + state.tShift[line]
        stop = state.eMarks[line]
        if start >= stop or state.sCount[line] - state.blkIndent >= 4:
            tried = every
        else:
            character = state.src[start]
            tried = by_character.get(character)
            if tried is None:
                tried = tuple(
                    (rule, pattern)
                    for rule, chars, pattern in accepts
                    if chars is None or character in chars
                )
                by_character[character] = tried
        for rule, pattern in tried:
            if (pattern is None or pattern.match(state.src, start, stop)) and rule(
                state, line, end, silent
            ):
                return True
        return False

    return dispatch


class DispatchingRuler(Ruler[RuleFuncBlockType]):
    """markdown-it's block `Ruler`, whose every chain is one dispatching rule (see above)."""

    def __init__(self, rules: Iterable[Rule[RuleFuncBlockType]] = ()) -> None:
        super().__init__()
        self.__rules__.extend(rules)
        # chain name: the one rule that dispatches it, as `Ruler` compiled it into `_compiled`
        # (every change to the rules drops `Ruler`'s compiled chains; the next compile is a
        # new dict). Asked for at every paragraph, list and nested block: two look-ups.
        self._dispatching: dict[str, list[RuleFuncBlockType]] = {}
        self._compiled: dict[str, list[RuleFuncBlockType]] | None = None

    def getRules(self, chainName: str = "") -> list[RuleFuncBlockType]:  # noqa: N802 (markdown-it's name)
        held = self._dispatching.get(chainName)
        if held is None or self.__cache__ is not self._compiled:  # new, or the rules changed
            held = self._dispatch(chainName)
        return held

    def _dispatch(self, chainName: str) -> list[RuleFuncBlockType]:  # noqa: N803
        chain = super().getRules(chainName)  # (compiled anew if the rules changed)
        if self.__cache__ is not self._compiled:
            self._compiled, self._dispatching = self.__cache__, {}
        held = self._dispatching[chainName] = [_dispatching(chain)] if chain else []
        return held


def block_dispatch_plugin(md: MarkdownIt) -> None:
    """Give `md` a block parser that tries a rule only where it can start; its rules, and
    those plugins add later, are kept as they are."""
    md.block.ruler = DispatchingRuler(md.block.ruler.__rules__)
