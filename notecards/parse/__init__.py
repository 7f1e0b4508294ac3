"""Markdown text -> notes. Pure: text in, notes and problems out; no file is opened here
(the vault stage reads the files and calls `parse_file`)."""

from notecards.parse.clozes import cloze_numbers, has_cloze
from notecards.parse.notes import closest_note_types, parse_file
from notecards.parse.source import Line, SourceText

__all__ = ["Line", "SourceText", "closest_note_types", "cloze_numbers", "has_cloze", "parse_file"]
