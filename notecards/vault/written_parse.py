"""The parse of a file right after its new IDs went in, derived from its parse before.

Parsing again every file that just got an ID (so that the next run finds it in the parse
cache) cost a first build of 20,000 one-card files about a fifth of its time, and checking
the new text with the line scan more than half of what was left. An ID line put above a
block's END moves the lines and offsets below it and gives the note its ID, nothing else,
where the file is plain enough for that to be sure, which the edits and the parse before
tell alone: only block notes get IDs (every new note of the file gets one), the file parsed
without a problem, holds no frontmatter, its fences and headings were found by the line
scan (markdown-it, which the parse falls back to otherwise, may read an HTML comment line as
ending a paragraph or list above it; the ID line itself is one the scan passes over, and
an END below it that could underline a setext heading is refused), each note's Tags line (if
any) is the last line of text above the ID line (a second, empty `Tags:` below it is read as
the trailer only without an ID), and no custom regexp may match across the new lines.
Anywhere else the answer is None, and the caller parses the new text.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from notecards.config import VaultConfig
from notecards.model import Deletion, IdSlot, Note, ParsedVault, TextSpan
from notecards.parse.blocks import id_of, markers_for
from notecards.parse.layout import is_setext_underline


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
    if config.custom_regexps or before.problems or not inserted or not before.line_scanned:
        return None
    inserted = sorted(inserted, key=lambda line: line.offset)
    notes = {note.start_line: note for note in before.notes}
    given = {line.note_line for line in inserted}
    if len(given) != len(inserted) or any(
        note.id_slot is not None and note.start_line not in given for note in before.notes
    ):
        return None  # a new note left without its ID keeps a slot the shift cannot tell
    if new_text[: new_text.find("\n") + 1 or len(new_text)].rstrip() == "---":
        return None  # frontmatter, maybe: whether it reads so again is the parser's to say
    if not _id_lines_above_ends(new_text, inserted, notes, config):
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
        line_scanned=True,
    )


def _id_lines_above_ends(
    text: str, inserted: Sequence[IdLine], notes: dict[int, Note], config: VaultConfig
) -> bool:
    """Whether each ID line went in as a line of its own right above the END of its note, a
    block that had no ID, and reads as nothing but an ID line; whether the note's Tags line
    (if any) is the last line of text above it, and its END no setext underline."""
    markers = markers_for(config.syntax)
    moved = 0
    for line in inserted:
        note = notes.get(line.note_line)
        if note is None or note.kind != "block" or note.id_slot is None:
            return False
        if line.offset != note.id_slot.offset or line.text != note.id_slot.text.format(
            id=line.note_id
        ):
            return False
        start = line.offset + moved  # of the ID line in the new text; END is next
        end_start = start + len(line.text)
        if (start and text[start - 1] != "\n") or text[start:end_start] != line.text:
            return False
        new = line.text.removesuffix("\n").removesuffix("\r")
        if new == line.text or id_of(new) != line.note_id:
            return False
        if any(m.fullmatch(new) for m in (markers.start, markers.end, markers.delete)):
            return False
        end_stop = text.find("\n", end_start)
        end = text[end_start : len(text) if end_stop < 0 else end_stop].removesuffix("\r")
        if not markers.end.fullmatch(end) or is_setext_underline(end):
            return False
        tags = note.tags_span
        if tags is not None and tags.end < line.offset and text[tags.end + moved : start].strip():
            return False  # text (a second Tags line) between the Tags line and the ID line
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
        return TextSpan(self.offset(span.start), self.offset(span.end), span.before, span.after)


def _shifted_note(note: Note, shift: _Shift, given: IdLine | None) -> Note:
    end_line = shift.line(note.end_line)
    slot, line, span = note.id_slot, shift.line, shift.span
    return Note(  # (not dataclasses.replace: 20,000 of them took a build 0.2 s)
        note_type=note.note_type,
        fields=dict(note.fields),
        tags=note.tags,
        deck=note.deck,
        note_id=given.note_id if given else note.note_id,
        path=note.path,
        start_line=line(note.start_line),
        end_line=end_line,
        id_slot=None if given or slot is None else IdSlot(shift.offset(slot.offset), slot.text),
        id_line=end_line - 1 if given else note.id_line and line(note.id_line),
        appendix=dict(note.appendix),
        field_lines={name: line(number) for name, number in note.field_lines.items()},
        field_spans={name: span(one) for name, one in note.field_spans.items()},
        tags_span=note.tags_span and span(note.tags_span),
        kind=note.kind,
    )
