"""What `notecards check` finds: every problem in a vault, at once, nothing written.

Beyond what the parser reports (unknown note types, START without END, bad
settings, duplicate IDs), a note is checked the way Anki would receive it: it is
rendered, so a missing or outside-the-vault image, or a link to no demo, is found
here and not halfway through a sync.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from notecards.cloze import cloze_numbers
from notecards.model import Note, NotecardsError, Problem, Severity
from notecards.render import Renderer
from notecards.vault import Vault, load_vault

# Inline math as the renderer reads it: a `$` followed by a non-space, up to a `$` preceded by
# one (so "$5 | $10" is no math); `\|` is an escaped pipe.
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?=\S)(?P<tex>(?:\\.|[^$\\\n])+?)(?<=\S)\$")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


@dataclass
class CheckReport:
    problems: list[Problem] = field(default_factory=list)
    notes: int = 0
    files: int = 0

    @property
    def errors(self) -> int:
        return sum(p.severity is Severity.ERROR for p in self.problems)

    @property
    def warnings(self) -> int:
        return len(self.problems) - self.errors


def check_vault(root: Path, progress=lambda notes: notes) -> CheckReport:
    """Load and check a vault; `progress` wraps the per-note loop (a progress bar)."""
    try:
        vault = load_vault(root)
    except NotecardsError as err:
        return CheckReport(problems=err.problems or [Problem(".", 1, str(err))])
    report = CheckReport(
        problems=list(vault.parsed.problems),
        notes=len(vault.parsed.notes),
        files=len(vault.parsed.files),
    )
    renderer = Renderer(vault.config, vault.root)
    for note in progress(vault.parsed.notes):
        report.problems += check_note(note, vault, renderer)
    report.problems.sort(key=lambda p: (p.path, p.line))
    return report


def check_note(note: Note, vault: Vault, renderer: Renderer) -> list[Problem]:
    note_type = vault.config.note_types[note.note_type]
    first = note_type.fields[0]
    problems = []
    if not note.fields.get(first, "").strip():
        line = note.field_lines.get(first, note.start_line)
        problems.append(Problem(note.path, line, f"the first field ({first}) is empty"))
    try:
        rendered = renderer.render(note)
    except NotecardsError as err:
        return problems + err.problems
    if note_type.is_cloze and not any(cloze_numbers(html) for html in rendered.fields.values()):
        problems.append(
            Problem(note.path, note.start_line, f"{note.note_type} note without any cloze")
        )
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
                problems.append(Problem(note.path, first_line + offset, message, Severity.WARNING))
    return problems
