"""A field edited in the vault and in Anki since the last sync: both edits kept where they
do not overlap, a conflict (with its places, for a message) where they do."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import Match

from merge3 import Merge3

# The units of the finer merge: a word, a run of spaces, a line break, a punctuation mark.
_TOKEN = re.compile(r"\w+|[^\S\n]+|\n|[^\w\s]")
# A line with its `\n` (the parser splits on `\n` alone); the last one may lack it.
_LINE = re.compile(r"[^\n]*\n|[^\n]+")


@dataclass(frozen=True)
class ConflictRegion:
    """One place both sides changed: the lines there, in the base and as each side has them."""

    line: int  # 1-based line of the base (the markdown last pushed) where it starts
    base: str
    vault: str
    anki: str


@dataclass(frozen=True)
class Conflict:
    """The field's edits overlap: nothing is merged; each place, for a message."""

    regions: tuple[ConflictRegion, ...]


class EditMatcher(difflib.SequenceMatcher):
    """difflib's matcher, made to find the edit a person made (for merge3, and for the words
    an edit changes).

    The start and the end the two sequences share match as they are: difflib alone takes
    the longest match it finds first, and in text that repeats (a table, alike list lines)
    that may be the same stretch shifted by a row, which turns one edit into an insertion
    and a deletion far apart, and merges two such edits into text neither side wrote. And
    without difflib's heuristic for long sequences (over 200 units, a unit in more than 1%
    of them cannot start a match), which in a long paragraph takes every space for noise.
    """

    def __init__(self, isjunk, a: Sequence[str], b: Sequence[str]) -> None:
        super().__init__(isjunk, a, b, autojunk=False)

    def get_matching_blocks(self) -> list[Match]:
        a, b = self.a, self.b
        start, most = 0, min(len(a), len(b))
        while start < most and a[start] == b[start]:
            start += 1
        end = 0
        while end < most - start and a[-1 - end] == b[-1 - end]:
            end += 1
        middle = difflib.SequenceMatcher(
            None, a[start : len(a) - end], b[start : len(b) - end], autojunk=False
        )
        blocks = [Match(0, 0, start)] if start else []
        blocks += [Match(i + start, j + start, n) for i, j, n in middle.get_matching_blocks() if n]
        if end:
            blocks.append(Match(len(a) - end, len(b) - end, end))
        return [*blocks, Match(len(a), len(b), 0)]


def merge_field(base: str, vault: str, anki: str) -> str | Conflict:
    """The field with the vault's and Anki's edits of `base` both in it, or the Conflict.

    How it decides: first line by line (merge3 over the three texts' lines). A line only one
    side changed takes that side's lines; lines both sides changed alike are taken once.
    Where both sides changed the same lines differently, those lines are merged again in
    smaller units (words, runs of spaces, line breaks, punctuation marks): edits with
    unchanged text between them both land (a typo fixed on one side in a paragraph the
    other side extended). Edits to the same word, or that touch with nothing unchanged
    between them (one side deleting a line the other side edited), are a conflict; any
    conflict gives every region back, and no text.
    """
    base_lines, vault_lines, anki_lines = (_LINE.findall(text) for text in (base, vault, anki))
    merge = Merge3(base_lines, vault_lines, anki_lines, sequence_matcher=EditMatcher)
    merged: list[str] = []
    regions: list[ConflictRegion] = []
    for kind, *where in merge.merge_regions():
        if kind == "unchanged":
            merged += base_lines[where[0] : where[1]]
        elif kind in ("a", "same"):
            merged += vault_lines[where[0] : where[1]]
        elif kind == "b":
            merged += anki_lines[where[0] : where[1]]
        else:
            z1, z2, a1, a2, b1, b2 = where
            texts = (
                "".join(base_lines[z1:z2]),
                "".join(vault_lines[a1:a2]),
                "".join(anki_lines[b1:b2]),
            )
            finer = _merged_tokens(*texts)
            if finer is None:
                regions.append(ConflictRegion(z1 + 1, *texts))
            else:
                merged.append(finer)
    return Conflict(tuple(regions)) if regions else "".join(merged)


def _merged_tokens(base: str, vault: str, anki: str) -> str | None:
    """The three texts merged in `_TOKEN` units, or None where edits overlap."""
    tokens = [_TOKEN.findall(text) for text in (base, vault, anki)]
    merged: list[str] = []
    for kind, *groups in Merge3(*tokens, sequence_matcher=EditMatcher).merge_groups():
        if kind == "conflict":
            return None
        merged += groups[0]
    return "".join(merged)
