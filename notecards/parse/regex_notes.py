"""O2A's "Custom Regexps": a note type's regexp turns every match into a note.

O2A compiles each regexp as a JavaScript RegExp with flags `gm` and tries it four
times (with a trailing `Tags:` group and/or ID, then without), skipping matches
that lie inside text already taken (blocks, math, code, file-level lines). This
module does the same over the file's text with `\\n` line endings, so a vault's
regexps find the same notes in notecards as in O2A.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from notecards.parse.source import SourceText

# What O2A appends to a user's regexp to find an existing note's tags and ID.
TAGS_SUFFIX = r"(Tags: .*)"
ID_SUFFIX = r"\n?(?:<!--)?(?:ID: (\d+).*)"
TAG_PREFIX = "Tags: "

# O2A's spans in which a regexp match is ignored (math and code).
_IGNORED = (
    re.compile(r"(?<!\$)\$((?=[\S])(?=[^$])[\s\S]*?\S)\$"),
    re.compile(r"\$\$([\s\S]*?)\$\$"),
    re.compile(r"(?<!`)`(?=[^`])[\s\S]*?`"),
    re.compile(r"```[\s\S]*?```"),
)


@dataclass(frozen=True)
class RegexMatch:
    """One note found by a custom regexp, with offsets into the `\\n` text."""

    note_type: str
    groups: tuple[str, ...]  # field texts, in field order
    group_starts: tuple[int, ...]  # where each group's text starts
    tags: tuple[str, ...]
    note_id: int | None
    start: int
    end: int
    id_start: int | None  # where the ID text begins, when the match has one


def ignored_spans(lf_text: str) -> list[tuple[int, int]]:
    return [m.span() for pattern in _IGNORED for m in pattern.finditer(lf_text)]


def _contained(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """O2A's test: inside a taken span, with one character of leeway each side."""
    return any(span[0] >= start - 1 and span[1] <= end + 1 for start, end in spans)


def find_regex_notes(
    source: SourceText,
    regexps: dict[str, re.Pattern[str]],
    taken: list[tuple[int, int]],
    keeps: Callable[[str, tuple[str, ...]], bool],
) -> Iterator[RegexMatch]:
    """Yield notes for each note type's regexp, in O2A's order.

    `taken` spans (offsets into `source.lf_text`) grow as matches are found;
    `keeps(note_type, groups)` drops a match (as O2A does for a Cloze match
    without any cloze) and frees its span again.
    """
    text = source.lf_text
    spans = list(taken) + ignored_spans(text)
    for note_type, regexp in regexps.items():
        for with_id in (True, False):
            for with_tags in (True, False):
                suffix = (TAGS_SUFFIX if with_tags else "") + (ID_SUFFIX if with_id else "")
                pattern = re.compile(regexp.pattern + suffix, regexp.flags)
                for match in list(pattern.finditer(text)):
                    if _contained(match.span(), spans):
                        continue
                    found = _to_regex_match(note_type, match, with_tags, with_id)
                    if keeps(note_type, found.groups):
                        spans.append(match.span())
                        yield found


def _to_regex_match(note_type: str, match: re.Match, with_tags: bool, with_id: bool) -> RegexMatch:
    groups = [group or "" for group in match.groups()]
    starts = [max(match.start(n), match.start()) for n in range(1, len(groups) + 1)]
    note_id = id_start = None
    if with_id:
        note_id = int(groups.pop())
        id_start = match.start(len(groups) + 1)
    tags: tuple[str, ...] = ()
    if with_tags:
        tags = tuple(t for t in groups.pop()[len(TAG_PREFIX) :].split(" ") if t)
    start = match.start()
    while start < match.end() and match.string[start] == "\n":
        start += 1
    return RegexMatch(
        note_type,
        tuple(groups),
        tuple(starts[: len(groups)]),
        tags,
        note_id,
        start,
        match.end(),
        id_start,
    )
