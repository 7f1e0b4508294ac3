"""An edit made in Anki, placed on the field's markdown as small as it was made.

The edit is the difference between two markdown texts the converter made from Anki's HTML:
what notecards pushed, and what Anki holds now. The vault's markdown says what the first says,
but in the author's own spelling (`*` list markers, wrapped lines, `_` for `*`, spaces), so
the converter's text cannot simply replace it: that would rewrite every line the author
spelled otherwise. Instead the edit becomes a diff-match-patch patch, each hunk with a little
context, and lands on the vault's text where that context is found again.
"""

from __future__ import annotations

import re

from diff_match_patch import diff_match_patch

from notecards.pull.merge import EditMatcher

# Letters and digits: what the author's spelling never changes (markers, spaces, `*`/`_` and
# line breaks are all outside it), so an edit placed right changes the same words.
_WORD = re.compile(r"[^\W_]+")


class _Patcher(diff_match_patch):
    """diff-match-patch with the settings that make a hunk land on drifted text and never
    in the wrong place, and one fix to where it lands.

    - `Patch_Margin` 8 (default 4): 4 characters of context each side are too few to pin an
      edit in prose ("the " is everywhere); 8 keeps the hunk short enough that the author's
      spelling in it (a list marker, a wrap) stays a small share of it.
    - `Match_MaxBits` 64 (default 32): room for that context around an edit of a few words,
      and for the context to grow until it is unique in the text (Python's ints have no
      width, so the bitap search takes any size).
    - `Match_Threshold` 0.4 (default 0.5): a hunk's context may differ from the vault's text
      in 4 characters of 10 (a wrapped line and its indent, other markers), not in half.
    - `Match_Distance` 200 (default 1000): each hunk is looked for where the text it edits is
      in the vault's markdown (mapped through a diff of the two texts, not the converter's
      position), so a match 80 characters from there already costs the whole threshold: a
      repeated phrase elsewhere in the field is never taken for it.
    - `Patch_DeleteThreshold` 0.4 (default 0.5): a long deletion (over 64 characters) lands
      only on text that is at least 60% the text removed in Anki.
    """

    def __init__(self) -> None:
        super().__init__()
        self.Patch_Margin = 8
        self.Match_MaxBits = 64
        self.Match_Threshold = 0.4
        self.Match_Distance = 200
        self.Patch_DeleteThreshold = 0.4

    def diff_xIndex(self, diffs: list[tuple[int, str]], loc: int) -> int:
        """Where `loc` in the first text of `diffs` is in the second. Where text both share
        ends, it stays right after that text; diff-match-patch's own puts it past what only
        the second text has there, so a word replaced at the end of a line the author
        wrapped took the line break with it, and words added after a word went after the
        author's trailing spaces."""
        chars1 = chars2 = 0
        for op, data in diffs:
            if op == self.DIFF_EQUAL and chars1 + len(data) >= loc:
                return chars2 + loc - chars1
            if op == self.DIFF_DELETE and chars1 + len(data) > loc:
                return chars2  # inside text the second one lacks: where that text was
            chars1 += 0 if op == self.DIFF_INSERT else len(data)
            chars2 += 0 if op == self.DIFF_DELETE else len(data)
        return chars2 + loc - chars1


def place_edit(converted_before: str, converted_after: str, markdown: str) -> str | None:
    """`markdown` with the edit from `converted_before` to `converted_after` applied, or
    None when a hunk of it finds no place there, or lands where it would change other words
    than the edit changed.

    A markdown with CRLF line endings is patched as LF and given back in CRLF (a line the
    edit adds gets them too). A markdown equal to `converted_before` gives `converted_after`.
    """
    before, after = _lf(converted_before), _lf(converted_after)
    crlf = "\r\n" in markdown and markdown.count("\r\n") == markdown.count("\n")
    text = _lf(markdown) if crlf else markdown
    placed = after if text == before else _patched(before, after, text)
    if placed is None:
        return None
    return placed.replace("\n", "\r\n") if crlf else placed


def _patched(before: str, after: str, text: str) -> str | None:
    patcher = _Patcher()
    patches = patcher.patch_make(before, after)
    # Where each hunk is expected in `text`: its place in `before`, mapped through the
    # author's spelling, moved by what the hunks before it added or removed.
    drift = patcher.diff_main(before, text, False)
    moved = 0
    for patch in patches:
        patch.start2 = patcher.diff_xIndex(drift, patch.start1) + moved
        moved += patch.length2 - patch.length1
    placed, applied = patcher.patch_apply(patches, text)
    if not all(applied) or _word_changes(text, placed) != _word_changes(before, after):
        return None
    return placed


def _word_changes(old: str, new: str) -> list[tuple[list[str], list[str]]]:
    """The words each change between two texts removes and adds, in order."""
    a, b = _WORD.findall(old), _WORD.findall(new)
    matcher = EditMatcher(None, a, b)
    return [(a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")
