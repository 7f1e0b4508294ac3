"""Where a line's inline notes are: `STARTI ... ENDI` anywhere in the line, several per line.

O2A finds them with `STARTI(.*?)ENDI` (no `s` flag: one line), so they sit in list items,
callouts and sentences as well as at the start of a line. notecards reads the same places,
but not inside a code span (Obsidian shows that as code), and the markers only as words
(`RESTARTING` opens nothing, `ENDING` ends nothing), where O2A reads them inside words too.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

_BACKTICKS = re.compile(r"`+")
# After a begin marker, what makes it the start of a note (`STARTI [`): without an end
# marker on its line, it is a warning; without this, a marker that is a common word (`Q`)
# leaves ordinary text alone.
_OPENS = re.compile(r"\s*\[")


@dataclass(frozen=True)
class InlineMarkers:
    """The begin and end markers of one Syntax, as patterns that match them only as words."""

    begin_text: str
    begin: re.Pattern
    end: re.Pattern
    backticks: bool  # a marker holds a backtick, which opens no code span


def inline_markers(begin: str, end: str) -> InlineMarkers:
    """The markers as words; only the end marker may touch the word before it (`ThatENDI`),
    as the last word of a note runs into it in O2A's files."""
    return InlineMarkers(
        begin,
        re.compile(_word_edges(begin, left=True)),
        re.compile(_word_edges(end, left=False)),
        "`" in begin + end,
    )


def _word_edges(marker: str, *, left: bool) -> str:
    """`marker` as a regexp that is not part of a longer word: no letter or digit touches an
    edge that is one (`STARTING` is text). ASCII words for an ASCII edge, so that text in a
    script without spaces (`问题STARTI`) can touch the marker."""

    def word(char: str) -> str:
        return "[A-Za-z0-9_]" if char.isascii() else r"\w"

    pattern = re.escape(marker)
    if left and re.match(r"\w", marker[0]):
        pattern = f"(?<!{word(marker[0])})" + pattern
    if re.match(r"\w", marker[-1]):
        pattern += f"(?!{word(marker[-1])})"
    return pattern


@dataclass(frozen=True)
class InlinePlace:
    """One inline note in a line, as columns of the line's text."""

    inner: int  # just past the begin marker
    end_marker: int  # the end marker (a new ID goes just before it)


@dataclass
class LineInline:
    """What one line holds: its inline notes, and whether a begin marker that starts a note
    (a `[` after it) has no end marker on the line."""

    places: list[InlinePlace] = field(default_factory=list)
    unclosed: bool = False


def code_spans(text: str) -> list[tuple[int, int]]:
    """The code spans of one line, as CommonMark reads them: a run of n backticks up to the
    next run of exactly n (a backslash before a run takes its first backtick out of it);
    a run that no later run closes is text. Linear: for each length, where the search for a
    closing run stands only moves forward."""
    runs = [match.span() for match in _BACKTICKS.finditer(text)]
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    next_of: dict[int, int] = {}  # length -> position in by_length[length] to look from
    spans = []
    index = 0
    while index < len(runs):
        start, end = runs[index]
        index += 1
        if _escaped(text, start):
            start += 1
        candidates = by_length.get(end - start, [])
        at = next_of.get(end - start, 0)
        while at < len(candidates) and candidates[at] < index:
            at += 1
        next_of[end - start] = at
        if at < len(candidates):
            closer = candidates[at]
            spans.append((start, runs[closer][1]))
            index = closer + 1
    return spans


def _escaped(text: str, at: int) -> bool:
    """Whether an odd run of backslashes ends just before `at`."""
    count = 0
    while at - count > 0 and text[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def find_inline(text: str, markers: InlineMarkers) -> LineInline:
    """The inline notes in one line: each begin marker up to the next end marker, outside
    code spans. A begin marker before the end marker of an earlier one starts afresh (the
    earlier one never closed); with the same text for both markers, one closes what the one
    before it opened."""
    found = LineInline()
    if markers.begin_text not in text:
        return found
    begin, end = markers.begin, markers.end
    plain = text
    if markers.backticks:  # the markers' own backticks are their text, not code
        for pattern in (begin, end):
            plain = pattern.sub(lambda match: match[0].replace("`", " "), plain)
    code = code_spans(plain)
    starts = [start for start, _ in code]

    def in_code(at: int) -> bool:
        index = bisect_right(starts, at) - 1
        return index >= 0 and at < code[index][1]

    tokens: dict[int, tuple[int, bool, bool]] = {}  # column -> (end, begins, ends)
    for match in begin.finditer(text):
        tokens[match.start()] = (match.end(), True, False)
    for match in end.finditer(text):
        _, begins, _ = tokens.get(match.start(), (0, False, False))
        tokens[match.start()] = (match.end(), begins, True)
    opened: int | None = None  # column just past the begin marker of the open note
    past = 0  # a marker that overlaps the one before it is that marker's text
    for at in sorted(tokens):
        token_end, begins, ends = tokens[at]
        if at < past or in_code(at):
            continue
        past = token_end
        if ends and opened is not None:
            found.places.append(InlinePlace(opened, at))
            opened = None
        elif begins:
            if opened is not None and _OPENS.match(text, opened):
                found.unclosed = True
            opened = token_end
    if opened is not None and _OPENS.match(text, opened):
        found.unclosed = True
    return found
