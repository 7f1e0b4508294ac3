"""The parse of a file right after its new IDs went in, derived from its parse before.

Parsing again every file that just got an ID (so that the next run finds it in the parse
cache) cost a first build of 20,000 one-card files about a fifth of its time. An ID line
put above a block's END moves the lines and offsets below it and gives the note its ID,
nothing else, where the file is plain enough for that to be sure: only block notes get IDs
(every new note of the file gets one), the file parsed without a problem, holds no
frontmatter, and its fences and headings are found by the line scan (markdown-it, which
the parse falls back to otherwise, may read an HTML comment line as ending a paragraph or
list above it), and no custom regexp may match across the new lines. Anywhere else the
answer is None, and the caller parses the new text.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import accumulate

from notecards.config import VaultConfig
from notecards.model import Deletion, IdSlot, Note, ParsedVault, TextSpan
from notecards.parse import SourceText
from notecards.parse.blocks import id_of, markers_for
from notecards.parse.layout import scan_blocks


@dataclass(frozen=True)
class IdLine:
    """`text` (an ID line, with its newline) inserted at `offset` of the old text, giving
    the note that starts on `note_line` the ID `note_id`."""

    offset: int
    text: str
    note_line: int
    note_id: int


def parse_with_ids(
    before: ParsedVault, new_text: str, inserted: Sequence[IdLine], config: VaultConfig
) -> ParsedVault | None:
    """What `parse_file(new_text)` gives, from `before` (the parse of the text the ID lines
    went into); None where that is not sure (the caller parses `new_text`)."""
    if config.custom_regexps or before.problems or not inserted:
        return None
    inserted = sorted(inserted, key=lambda line: line.offset)
    notes = {note.start_line: note for note in before.notes}
    given = {line.note_line for line in inserted}
    if len(given) != len(inserted) or any(
        note.id_slot is not None and note.start_line not in given for note in before.notes
    ):
        return None  # a new note left without its ID keeps a slot the shift cannot tell
    source = SourceText(new_text)
    if not _id_lines_above_ends(source, inserted, notes, config):
        return None
    texts = [line.text for line in source.lines]
    if texts and texts[0].rstrip() == "---":
        return None  # frontmatter, maybe: its lines are masked from the scan below
    if scan_blocks(texts) is None:
        return None
    shift = _Shift(inserted, notes)
    by_line = {line.note_line: line for line in inserted}
    return ParsedVault(
        notes=[_shifted_note(note, shift, by_line.get(note.start_line)) for note in before.notes],
        deletions=[
            Deletion(
                d.note_id,
                d.path,
                shift.line(d.line),
                *map(shift.offset, (d.start_offset, d.end_offset)),
            )
            for d in before.deletions
        ],
    )


def _id_lines_above_ends(
    source: SourceText, inserted: Sequence[IdLine], notes: dict[int, Note], config: VaultConfig
) -> bool:
    """Whether each ID line went in as a line of its own right above the END of its note, a
    block that had no ID, and reads as nothing but an ID line."""
    markers = markers_for(config.syntax)
    lines, moved = source.lines, 0
    for count, line in enumerate(inserted):
        note = notes.get(line.note_line)
        if note is None or note.kind != "block" or note.id_slot is None:
            return False
        if line.offset != note.id_slot.offset or line.text != note.id_slot.text.format(
            id=line.note_id
        ):
            return False
        number = note.end_line + count  # the ID line's in the new text; END is next
        if number >= len(lines):
            return False
        new, end = lines[number - 1], lines[number]
        if (new.start, new.end) != (line.offset + moved, line.offset + moved + len(line.text)):
            return False
        if id_of(new.text) != line.note_id or not markers.end.fullmatch(end.text):
            return False
        if any(m.fullmatch(new.text) for m in (markers.start, markers.end, markers.delete)):
            return False
        moved += len(line.text)
    return True


class _Shift:
    """Old line numbers and offsets to new ones: each ID line moves its note's END line
    and everything after it down one line and `len(text)` characters (an offset at the
    insertion point itself, which is before the ID line, stays)."""

    def __init__(self, inserted: Sequence[IdLine], notes: dict[int, Note]):
        self._ends = [notes[line.note_line].end_line for line in inserted]
        self._offsets = [line.offset for line in inserted]
        self._moved = [0, *accumulate(len(line.text) for line in inserted)]

    def line(self, number: int) -> int:
        return number + bisect_right(self._ends, number)

    def offset(self, offset: int) -> int:
        return offset + self._moved[bisect_left(self._offsets, offset)]

    def span(self, span: TextSpan) -> TextSpan:
        return replace(span, start=self.offset(span.start), end=self.offset(span.end))


def _shifted_note(note: Note, shift: _Shift, given: IdLine | None) -> Note:
    end_line = shift.line(note.end_line)
    slot = note.id_slot
    return replace(
        note,
        fields=dict(note.fields),
        appendix=dict(note.appendix),
        note_id=given.note_id if given else note.note_id,
        start_line=shift.line(note.start_line),
        end_line=end_line,
        id_slot=None if given or slot is None else IdSlot(shift.offset(slot.offset), slot.text),
        id_line=end_line - 1 if given else note.id_line and shift.line(note.id_line),
        field_lines={name: shift.line(number) for name, number in note.field_lines.items()},
        field_spans={name: shift.span(span) for name, span in note.field_spans.items()},
        tags_span=note.tags_span and shift.span(note.tags_span),
    )
