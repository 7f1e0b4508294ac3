"""O2A's "Custom Regexps": a note type's regexp turns every match into a note.

O2A compiles each regexp as a JavaScript RegExp with flags `gm` and tries it four
times (with a trailing `Tags:` group and/or ID, then without), skipping matches
that lie inside text already taken (blocks, math, code, file-level lines). This
module does the same over the file's text with `\\n` line endings, so a vault's
regexps find the same notes in notecards as in O2A. Each regexp has a time limit per file
(`REGEXP_SECONDS`): one that runs out is a problem at that file, and the file's other notes
are found all the same.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING

from notecards.config import compile_js_regexp
from notecards.parse.source import SourceText
from notecards.problems import Problem

if TYPE_CHECKING:  # the `regex` package is imported by the first custom regexp
    import regex

# What O2A appends to a user's regexp to find an existing note's tags and ID.
TAGS_SUFFIX = r"(Tags: .*)"
ID_SUFFIX = r"\n?(?:<!--)?(?:ID: (\d+).*)"
TAG_PREFIX = "Tags: "

# CPU seconds one custom regexp may spend on one file, its four tries together: a regexp
# can backtrack for longer than anyone waits (`^(a|a)+$` on a line of 30 `a`s and a `b`).
REGEXP_SECONDS = 2.0

# O2A's spans in which a regexp match is ignored (math and code).
_INLINE_MATH = re.compile(r"(?<!\$)\$((?=[\S])(?=[^$])[\s\S]*?\S)\$")
_IGNORED = (
    _INLINE_MATH,
    re.compile(r"\$\$([\s\S]*?)\$\$"),
    re.compile(r"(?<!`)`(?=[^`])[\s\S]*?`"),
    re.compile(r"```[\s\S]*?```"),
)
# Up to the end of the last `$` that can close inline math.
_UP_TO_LAST_MATH_END = re.compile(r"[\s\S]*\S\$")


@dataclass(frozen=True)
class RegexMatch:
    """One note found by a custom regexp, with offsets into the `\\n` text."""

    note_type: str
    groups: tuple[str, ...]  # field texts, in field order
    group_spans: tuple[tuple[int, int] | None, ...]  # each group's text; None: not matched
    tags: tuple[str, ...]
    note_id: int | None
    start: int
    end: int
    id_start: int | None  # where the ID text begins, when the match has one
    tags_span: tuple[int, int] | None  # the tags' text after `Tags: `, when the match has it
    suffix_start: int  # where the user's regexp stopped matching (a Tags group would start)


def ignored_spans(lf_text: str) -> list[tuple[int, int]]:
    """The spans of `_IGNORED`. Inline math is searched only up to the last `$` that can
    close it: from a `$` after that, its lazy `[\\s\\S]*?` would read to the end of the text
    for nothing, once per such `$` (n^2 steps on lines of `$a`)."""
    math_end = _UP_TO_LAST_MATH_END.match(lf_text)
    spans = [m.span() for m in _INLINE_MATH.finditer(lf_text, 0, math_end.end() if math_end else 0)]
    return spans + [m.span() for pattern in _IGNORED[1:] for m in pattern.finditer(lf_text)]


class _Taken:
    """Spans a match may not lie inside (O2A's test, with one character of leeway each side),
    indexed by start: a bisect per match, not a look at every span."""

    def __init__(self, spans: list[tuple[int, int]]):
        spans = sorted(spans)
        self.starts = [start for start, _ in spans]
        # the furthest end of any span that starts at or before this one
        self.reach = list(accumulate((end for _, end in spans), max))

    def hold(self, span: tuple[int, int]) -> bool:
        """Whether some span holds `span` (starts at most one before, ends at most one after)."""
        index = bisect_right(self.starts, span[0] + 1) - 1
        return index >= 0 and self.reach[index] >= span[1] - 1


class _OutOfTime(Exception):
    """A regexp used up its time on this file."""

    def __init__(self, at: int):
        self.at = at  # the offset the search that ran out had started from


def find_regex_notes(
    source: SourceText,
    regexps: dict[str, str],
    taken: list[tuple[int, int]],
    keeps: Callable[[str, tuple[str, ...]], bool],
    path: str,
) -> tuple[list[RegexMatch], list[Problem]]:
    """Notes for each note type's regexp (JavaScript source), in O2A's order, and a problem
    for each regexp that ran out of time on this file (its notes there are dropped).

    `taken` spans (offsets into `source.lf_text`) grow as matches are found;
    `keeps(note_type, groups)` drops a match (as O2A does for a Cloze match
    without any cloze) and frees its span again.
    """
    text = source.lf_text
    spans = list(taken) + ignored_spans(text)
    found: list[RegexMatch] = []
    problems: list[Problem] = []
    for note_type, pattern in regexps.items():
        try:
            notes, new_spans = _notes_of(note_type, pattern, text, spans, keeps)
        except _OutOfTime as stop:
            message = (
                f"custom regexp for {note_type!r} ran out of time (over {REGEXP_SECONDS:g} s)"
                f" on this file: {pattern}"
            )
            problems.append(Problem.at(path, source.line_at_lf(stop.at).number, message))
            continue
        found += notes
        spans += new_spans
    return found, problems


def _notes_of(
    note_type: str,
    pattern: str,
    text: str,
    spans: list[tuple[int, int]],
    keeps: Callable[[str, tuple[str, ...]], bool],
) -> tuple[list[RegexMatch], list[tuple[int, int]]]:
    """One regexp's four tries over the text: its notes and their spans. A try's matches
    never overlap and come in order, so among this try's own spans only the last kept one
    can hold a later match; the spans of earlier tries are indexed once per try."""
    deadline = time.process_time() + REGEXP_SECONDS
    notes: list[RegexMatch] = []
    new_spans: list[tuple[int, int]] = []
    for with_id in (True, False):
        for with_tags in (True, False):
            # `()`: where the user's part ends, as the place a note without tags takes them
            suffix = "()" + (TAGS_SUFFIX if with_tags else "") + (ID_SUFFIX if with_id else "")
            taken = _Taken(spans + new_spans)
            last: tuple[int, int] | None = None
            for match in _all_matches(compile_js_regexp(pattern + suffix), text, deadline):
                span = match.span()
                if taken.hold(span) or (last is not None and span[1] <= last[1] + 1):
                    continue
                note = _to_regex_match(note_type, match, with_tags, with_id)
                if keeps(note_type, note.groups):
                    new_spans.append(span)
                    last = span
                    notes.append(note)
    return notes, new_spans


def _all_matches(pattern: regex.Pattern[str], text: str, deadline: float) -> list[regex.Match]:
    """Every match, or `_OutOfTime` once the search passes the deadline."""
    matches: list[regex.Match] = []
    try:
        for match in pattern.finditer(text, timeout=max(deadline - time.process_time(), 0)):
            matches.append(match)
    except TimeoutError:
        raise _OutOfTime(matches[-1].end() if matches else 0) from None
    return matches


def _to_regex_match(
    note_type: str, match: regex.Match, with_tags: bool, with_id: bool
) -> RegexMatch:
    count = len(match.groups()) - with_id - with_tags - 1  # the user's own groups
    groups = [group or "" for group in match.groups()[:count]]
    spans = [match.span(n) if match.start(n) >= 0 else None for n in range(1, count + 1)]
    note_id = id_start = tags_span = None
    if with_id:
        note_id, id_start = int(match.group(len(match.groups()))), match.start(len(match.groups()))
    tags: tuple[str, ...] = ()
    if with_tags:
        text = match.group(count + 2)[len(TAG_PREFIX) :]
        tags = tuple(t for t in text.split(" ") if t)
        tags_span = (match.end(count + 2) - len(text), match.end(count + 2))
    start = match.start()
    while start < match.end() and match.string[start] == "\n":
        start += 1
    return RegexMatch(
        note_type,
        tuple(groups),
        tuple(spans),
        tags,
        note_id,
        start,
        match.end(),
        id_start,
        tags_span,
        match.start(count + 1),
    )
