"""Obsidian's `[[Note#Heading|alias]]` links and `![[file|200]]` embeds as inline tokens.

Parsing only: each becomes one token whose meta holds what was written and the
line it sits on (relative to the inline block). Resolving the target against the
vault happens afterwards (see renderer.py); being inline rules, neither form is
ever seen inside code or math.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from notecards.render.inline_dispatch import starts_on

_SIZE = re.compile(r"(?P<width>\d+)(?:x(?P<height>\d+))?")

# env key: {(needle, src): every offset of needle in src}, built on first need.
_ENV_OCCURRENCES = "notecards_occurrences"


@dataclass(frozen=True)
class WikiTarget:
    """`[[path#heading|label]]` split into its parts (heading/label may be empty)."""

    path: str
    heading: str
    label: str

    @property
    def text(self) -> str:
        """What Obsidian shows for the link: the alias, else `Note > Heading`, `Note > ^block`
        (`Note > A > B` for a heading inside a heading)."""
        if self.label:
            return self.label
        parts = (self.path, *self.heading.split("#"))
        return " > ".join(part.strip() for part in parts if part.strip())


def split_target(inner: str) -> WikiTarget:
    """Split the text between `[[` and `]]`; `\\|` (in tables) separates too."""
    inner = inner.replace("\\|", "|")
    target, _, label = inner.partition("|")
    path, _, heading = target.partition("#")
    return WikiTarget(path.strip(), heading.strip(), label.strip())


def image_size(label: str) -> tuple[str, str] | None:
    """`200` or `200x100` after the `|` of an image embed: (width, height)."""
    size = _SIZE.fullmatch(label)
    return (size["width"], size["height"] or "") if size else None


def occurrences(state: StateInline, needle: str) -> list[int]:
    """Every offset of `needle` in the inline text, ascending (overlaps included), found
    in one pass per field and kept in env: a rule that searched the text afresh from each
    of n openers would take n^2 steps."""
    memo = state.env.setdefault(_ENV_OCCURRENCES, {})
    key = (needle, state.src)
    if key not in memo:
        found, at = [], state.src.find(needle)
        while at >= 0:
            found.append(at)
            at = state.src.find(needle, at + 1)
        memo[key] = found
    return memo[key]


def find_in_src(state: StateInline, needle: str, start: int, end: int) -> int:
    """`state.src.find(needle, start, end)`, answered from `occurrences`."""
    found = occurrences(state, needle)
    index = bisect_left(found, start)
    if index < len(found) and found[index] + len(needle) <= end:
        return found[index]
    return -1


def _wiki(state: StateInline, silent: bool, *, embed: bool) -> bool:
    opener = "![[" if embed else "[["
    start = state.pos
    if not state.src.startswith(opener, start):
        return False
    inner_start = start + len(opener)
    end = find_in_src(state, "]]", inner_start, state.posMax)
    if end < 0 or _holds_bracket_or_newline(state.src, inner_start, end):
        return False
    inner = state.src[inner_start:end]
    if not inner.strip():
        return False
    if not silent:
        token = state.push("wiki_embed" if embed else "wikilink", "", 0)
        token.content = inner
        token.meta = {
            "target": split_target(inner),
            "line_offset": bisect_left(occurrences(state, "\n"), start),
        }
    state.pos = end + 2
    return True


def _holds_bracket_or_newline(src: str, start: int, end: int) -> bool:
    """Whether `src[start:end]` holds a `[` or a newline, in linear time over all openers: a
    `[` is looked for first, and is found by the next opener at the latest; a newline only
    where there is none, in text no other opener starts in."""
    return src.find("[", start, end) >= 0 or src.find("\n", start, end) >= 0


@starts_on("[")
def _wikilink(state: StateInline, silent: bool) -> bool:
    return _wiki(state, silent, embed=False)


@starts_on("!")
def _wiki_embed(state: StateInline, silent: bool) -> bool:
    return _wiki(state, silent, embed=True)


def wikilink_plugin(md: MarkdownIt) -> None:
    """Parse `[[...]]` and `![[...]]` ahead of markdown's own link and image rules."""
    md.inline.ruler.before("link", "wikilink", _wikilink)
    md.inline.ruler.before("image", "wiki_embed", _wiki_embed)
