"""Tags as notecards reads them: space-separated words, Obsidian `#tags`, YAML lists.

Anki tags cannot hold spaces and use `::` for hierarchy where Obsidian uses `/`.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable

# `#tag` at the start of the text or after whitespace; Obsidian tags need a
# non-digit (so `#1` is not a tag) and may nest with `/`.
_OBSIDIAN_TAG = re.compile(r"(?<!\S)#(?P<tag>[\w/\-]*[^\W\d][\w/\-]*)")
# Spans where `#` is never a tag: fenced code, display and inline math; and inline code,
# `(`+)[\s\S]*?\1`, found by `_CodeSpans`.
_NOT_TEXT = re.compile(
    r"(?P<fence>^(?:```|~~~)[\s\S]*?(?:^(?:```|~~~)|\Z))"
    r"|\$\$[\s\S]*?\$\$"
    r"|(?<![\\$])\$(?=\S)[^$\n]*?(?<=\S)\$",
    re.MULTILINE,
)
_BACKTICKS = re.compile(r"`+")
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def split_tags(text: str) -> list[str]:
    return [tag for word in text.split() if (tag := to_anki_tag(word))]


def to_anki_tag(tag: str) -> str:
    """`#a/b` -> `a::b`: Obsidian's nesting as Anki's hierarchy, each part in the form Anki
    stores it (NFC, no ASCII control characters, trimmed, an empty part named `blank`), so
    that the tag read back from Anki is the tag the vault holds, never an edit made there."""
    tag = tag.strip().lstrip("#")
    if not tag:
        return ""
    return "::".join(_anki_part(part) for part in tag.replace("/", "::").split("::"))


def _anki_part(part: str) -> str:
    part = unicodedata.normalize("NFC", _ASCII_CONTROL.sub("", part)).strip()
    return part or "blank"


def frontmatter_tags(value: object) -> list[str]:
    """Obsidian's `tags:` property: a list, or a string of comma/space-separated tags."""
    if value is None:
        return []
    items = value if isinstance(value, list) else re.split(r"[,\s]+", str(value))
    return [tag for item in items if item is not None for tag in split_tags(str(item))]


def strip_obsidian_tags(text: str) -> tuple[str, list[str]]:
    """Remove `#tag`s from a field's text (O2A's "Add Obsidian Tags") and return them.

    The whitespace around a tag stays, as O2A leaves it. Unlike O2A, `#` inside
    code or math, a heading's `# `, and `#` in the middle of a word are left alone.
    """
    protected = _protected_spans(text)
    starts = [start for start, _ in protected]
    tags: list[str] = []
    pieces: list[str] = []
    last = 0
    for match in _OBSIDIAN_TAG.finditer(text):
        inside = bisect_right(starts, match.start()) - 1  # spans never overlap
        if inside >= 0 and match.start() < protected[inside][1]:
            continue
        tags.append(to_anki_tag(match.group("tag")))
        pieces.append(text[last : match.start()])
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces), tags


def _protected_spans(text: str) -> list[tuple[int, int]]:
    """The spans of code and math, as one regexp with inline code as its second alternative
    would find them (where a fence and inline code start at the same place, the fence)."""
    code = _CodeSpans(text)
    spans = []
    other, inline = _NOT_TEXT.search(text), code.first_from(0)
    while other or inline:
        if other and (inline is None or other.start() <= inline[0]):
            spans.append(other.span())
        else:
            spans.append(inline)
        end = spans[-1][1]
        if other and other.start() < end:
            other = _NOT_TEXT.search(text, end)
        if inline and inline[0] < end:
            inline = code.first_from(end)
    return spans


class _CodeSpans:
    """Inline code as the regexp `(`+)[\\s\\S]*?\\1` finds it, from the runs of backticks.

    The regexp tries the whole run of backticks first and one fewer after each failure,
    reading the rest of the text for each count: n^3 steps on a run of n. What it ends up
    with: as many as a later run can close (then the first such run closes it), else half
    the run (closed by its other half); a lone backtick with none after is no code.
    """

    def __init__(self, text: str):
        self.text = text
        runs = [m.span() for m in _BACKTICKS.finditer(text)]
        self.starts = [start for start, _ in runs]
        self.ends = [end for _, end in runs]
        self.lengths = [end - start for start, end in runs]
        self.longest_from = [*self.lengths, 0]  # the longest run from this one on
        for index in reversed(range(len(self.lengths))):
            self.longest_from[index] = max(self.lengths[index], self.longest_from[index + 1])
        self._longest: list[list[int]] = []  # [k][i]: the longest of runs i .. i + 2**k - 1

    def first_from(self, pos: int) -> tuple[int, int] | None:
        """The span of the first inline code that starts at or after pos."""
        at = self.text.find("`", pos)
        if at < 0:
            return None
        run = bisect_right(self.starts, at) - 1
        here = self.ends[run] - at  # backticks from `at` to the end of its run
        later = self.longest_from[run + 1]
        if later > here // 2:
            count = min(here, later)
            return at, self.starts[self._first_run_of(count, run + 1)] + count
        if here >= 2:
            return at, at + here // 2 * 2
        return None  # one backtick, and none after it

    def _first_run_of(self, count: int, first: int) -> int:
        """The first run from `first` on with at least `count` backticks (there is one):
        a binary search over maxima of 2**k runs, built on first need."""
        if self.lengths[first] >= count:
            return first
        if not self._longest:
            self._longest.append(self.lengths)
            while 2 ** len(self._longest) <= len(self.lengths):
                row, half = self._longest[-1], 2 ** (len(self._longest) - 1)
                self._longest.append([max(a, b) for a, b in zip(row, row[half:], strict=False)])
        index = first
        for level in reversed(range(len(self._longest))):
            row = self._longest[level]
            if index < len(row) and row[index] < count:
                index += 2**level
        return index


def dedupe(tags: Iterable[str]) -> tuple[str, ...]:
    """Keep the first of each tag, in order (Anki compares tags case-insensitively)."""
    seen: set[str] = set()
    result: list[str] = []
    for tag in tags:
        if tag and tag.lower() not in seen:
            seen.add(tag.lower())
            result.append(tag)
    return tuple(result)
