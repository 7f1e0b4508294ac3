"""A markdown file's text as numbered lines, with offsets into the text as decoded.

Every other parser module works on these lines, so that line numbers and
write-back offsets come from one place and CRLF files need no special case.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import cached_property, partial
from itertools import accumulate
from typing import NamedTuple


class Line(NamedTuple):
    """One line: `text` without its line ending; offsets index the decoded text.
    (A named tuple: a file has thousands of lines and this is ~3x cheaper to make.)"""

    number: int  # 1-based
    text: str
    start: int  # offset of the first character
    end: int  # offset just past the line ending (== start of the next line)


_new_line = partial(tuple.__new__, Line)  # Line(*fields) without the Python-level __new__


class SourceText:
    """The decoded text of one file, split into lines on `\\n` (a `\\r` before it is
    part of the ending). Lone `\\r` and other Unicode breaks stay inside a line,
    as Obsidian treats them."""

    def __init__(self, text: str):
        self.text = text
        chunks = text.split("\n")
        last = chunks.pop()  # after the final `\n`: a line only when it holds text
        # Each line's end is the next one's start; made in C, not a loop of tuple calls
        # (a 20,000-file vault makes 300,000 lines).
        ends = list(accumulate(map((1).__add__, map(len, chunks)), initial=0))
        if "\r" in text:
            bodies = [chunk[:-1] if chunk.endswith("\r") else chunk for chunk in chunks]
        else:
            bodies = chunks
        numbers = range(1, len(chunks) + 1)
        self.lines: list[Line] = list(
            map(_new_line, zip(numbers, bodies, ends[:-1], ends[1:], strict=True))
        )
        if last:
            self.lines.append(Line(len(chunks) + 1, last, ends[-1], len(text)))

    @cached_property
    def newline(self) -> str:
        """The file's dominant line ending ("\\n" for a file without any)."""
        return dominant_newline(self.text)

    @cached_property
    def lf_text(self) -> str:
        """The text with every line ending as `\\n`: what O2A-style regexps see."""
        return "\n".join(line.text for line in self.lines) + (
            "\n" if self.lines and self.text.endswith("\n") else ""
        )

    @cached_property
    def _lf_starts(self) -> list[int]:
        starts, offset = [], 0
        for line in self.lines:
            starts.append(offset)
            offset += len(line.text) + 1
        return starts

    def lf_span(self, first: int, last: int) -> tuple[int, int]:
        """`lf_text` offsets from the start of line `first` to the end of line `last`'s text."""
        start = self._lf_starts[first - 1]
        return start, self._lf_starts[last - 1] + len(self.lines[last - 1].text)

    def line_at_lf(self, lf_offset: int) -> Line:
        """The line holding an offset into `lf_text`."""
        index = max(bisect_right(self._lf_starts, lf_offset) - 1, 0)
        return self.lines[min(index, len(self.lines) - 1)]

    def offset_from_lf(self, lf_offset: int) -> int:
        """Map an offset into `lf_text` back to an offset into the decoded text."""
        if not self.lines:
            return 0
        index = max(bisect_right(self._lf_starts, lf_offset) - 1, 0)
        line = self.lines[index]
        column = lf_offset - self._lf_starts[index]
        if column > len(line.text):  # the `\n` itself: just past the line's body
            return line.end
        return line.start + column


def dominant_newline(text: str) -> str:
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"
