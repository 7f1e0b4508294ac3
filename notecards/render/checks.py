"""The rules a note must pass on its way to Anki, beyond what the parser reports: it must
render (a missing or outside-the-vault image, or a link to no demo, is found before anything
is written, not halfway through a sync), and Anki must take it as meant (an empty first field
and a cloze note without a cloze are errors, a `|` that ends a table cell in math a warning).
check, build and sync hold every note they render to the same rules."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from notecards.config import VaultConfig
from notecards.model import Note, RenderedNote
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
    """The note rendered and held to every rule; `check` calls this, build and sync render
    as they must anyway and call `note_problems` on what they rendered."""
    try:
        rendered = renderer.render(note)
    except NotecardsError as err:
        return _empty_first_field(note, config) + err.problems
    return note_problems(rendered, config)


def note_problems(rendered: RenderedNote, config: VaultConfig) -> list[Problem]:
    """What Anki would refuse (errors) or show wrongly (warnings) in a rendered note, with
    the renderer's own warnings (an embed it could not show)."""
    note = rendered.note
    problems = _empty_first_field(note, config) + list(rendered.warnings)
    if config.note_types[note.note_type].is_cloze and not any(
        cloze_numbers(html) for html in rendered.fields.values()
    ):
        message = f"{note.note_type} note without any cloze"
        problems.append(Problem.at(note.path, note.start_line, message))
    return problems + _pipes_in_table_math(note)


def _empty_first_field(note: Note, config: VaultConfig) -> list[Problem]:
    first = config.note_types[note.note_type].fields[0]
    if note.fields.get(first, "").strip():
        return []
    line = note.field_lines.get(first, note.start_line)
    return [Problem.at(note.path, line, f"the first field ({first}) is empty")]


def _pipes_in_table_math(note: Note) -> list[Problem]:
    """A `|` in math inside a table row ends the cell (in Obsidian too): the formula breaks."""
    problems = []
    for name, text in note.fields.items():
        if "|" not in text:  # (most fields: no line of them is a table row)
            continue
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
