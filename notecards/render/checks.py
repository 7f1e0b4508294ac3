"""The rules a note must pass on its way to Anki, beyond what the parser reports: each note is
rendered, so a missing or outside-the-vault image, or a link to no demo, is found before
anything is written, not halfway through a sync; then what Anki would refuse or show wrongly
(an empty first field, a cloze note without a cloze, a `|` that ends a table cell in math)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from notecards.config import VaultConfig
from notecards.model import Note
from notecards.parse import cloze_numbers
from notecards.problems import NotecardsError, Problem, Severity
from notecards.render.renderer import Renderer

# Inline math as the renderer reads it: a `$` followed by a non-space, up to a `$` preceded by
# one (so "$5 | $10" is no math); `\|` is an escaped pipe.
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?=\S)(?P<tex>(?:\\.|[^$\\\n])+?)(?<=\S)\$")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def check_notes(
    notes: Sequence[Note],
    config: VaultConfig,
    renderer: Renderer,
    progress: Callable[[Sequence[Note]], Iterable[Note]] = lambda notes: notes,
) -> list[Problem]:
    """Every note's problems; `progress` wraps the loop (a progress bar)."""
    problems = []
    for note in progress(notes):
        problems += check_note(note, config, renderer)
    return problems


def check_note(note: Note, config: VaultConfig, renderer: Renderer) -> list[Problem]:
    note_type = config.note_types[note.note_type]
    first = note_type.fields[0]
    problems = []
    if not note.fields.get(first, "").strip():
        line = note.field_lines.get(first, note.start_line)
        problems.append(Problem.at(note.path, line, f"the first field ({first}) is empty"))
    try:
        rendered = renderer.render(note)
    except NotecardsError as err:
        return problems + err.problems
    if note_type.is_cloze and not any(cloze_numbers(html) for html in rendered.fields.values()):
        message = f"{note.note_type} note without any cloze"
        problems.append(Problem.at(note.path, note.start_line, message))
    problems += _pipes_in_table_math(note)
    return problems


def _pipes_in_table_math(note: Note) -> list[Problem]:
    """A `|` in math inside a table row ends the cell (in Obsidian too): the formula breaks."""
    problems = []
    for name, text in note.fields.items():
        first_line = note.field_lines.get(name, note.start_line)
        for offset, line in enumerate(text.split("\n")):
            if not line.lstrip().startswith("|"):
                continue
            if any(_UNESCAPED_PIPE.search(m["tex"]) for m in _INLINE_MATH.finditer(line)):
                message = "a `|` inside math ends this table cell: write `\\|` or `\\mid`"
                problems.append(
                    Problem.at(note.path, first_line + offset, message, Severity.WARNING)
                )
    return problems
