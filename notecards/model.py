"""The note model every stage shares: parse -> render -> plan -> target.

Nothing here knows about markdown syntax, HTML or Anki's wire formats; it only
names what a note *is* so that the parser, the renderer, the planner and both
targets (package writer, AnkiConnect) agree on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


def shown_path(prefix: str, path: str) -> str:
    """A vault-relative path as the user typed the vault (`notes/a.md`), for messages."""
    return f"{prefix.rstrip('/')}/{path}" if prefix else path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the vault, pinned to a file and a 1-based line."""

    path: str  # vault-relative, POSIX separators
    line: int
    message: str
    severity: Severity = Severity.ERROR

    def format(self, prefix: str = "") -> str:
        """`path:line: message`, the form editors and CI logs understand."""
        where = shown_path(prefix, self.path)
        tag = "" if self.severity is Severity.ERROR else "warning: "
        return f"{where}:{self.line}: {tag}{self.message}"


class NotecardsError(Exception):
    """The documented error type: bad input, with every problem found."""

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            self.problems: list[Problem] = []
            super().__init__(problems)
        else:
            self.problems = list(problems)
            super().__init__("\n".join(p.format() for p in self.problems))


@dataclass(frozen=True)
class NoteType:
    """An Anki note type (model) as notecards knows it.

    `model_id` is a constant per note type: never hashed from a name a user can
    edit, and a field list never changes under the same id.
    """

    name: str
    fields: tuple[str, ...]
    model_id: int
    is_cloze: bool = False
    # Custom note types from notecards.yaml carry their own templates and CSS;
    # built-in ones leave these empty and the targets use Anki's stock types.
    templates: tuple[dict[str, str], ...] = ()
    css: str = ""


# The note types every fresh Anki profile has, with Anki's field names.
# Model ids are genanki's constants for the same stock types.
BUILTIN_NOTE_TYPES: dict[str, NoteType] = {
    nt.name: nt
    for nt in (
        NoteType("Basic", ("Front", "Back"), 1559383000),
        NoteType("Basic (and reversed card)", ("Front", "Back"), 1485830179),
        NoteType("Basic (optional reversed card)", ("Front", "Back", "Add Reverse"), 1382232460),
        NoteType("Basic (type in the answer)", ("Front", "Back"), 1305534440),
        NoteType("Cloze", ("Text", "Back Extra"), 1550428389, is_cloze=True),
    )
}


@dataclass(frozen=True)
class IdSlot:
    """Where a new ID goes in the note's file: `text` inserted at `offset`.

    `offset` indexes the file's decoded text (newlines as they are on disk);
    `text` contains `{id}` and already carries the file's own newline.
    """

    offset: int
    text: str


@dataclass
class Note:
    """One flashcard as written in the vault, before rendering.

    `fields` hold markdown (field name -> source text, in note-type order).
    `start_line`/`end_line` are the 1-based lines of START and END (or of the
    inline note / regex match) in `path`.
    """

    note_type: str
    fields: dict[str, str]
    tags: tuple[str, ...]
    deck: str
    note_id: int | None
    path: str  # vault-relative, POSIX separators
    start_line: int
    end_line: int
    id_slot: IdSlot | None = None  # set when note_id is None
    id_line: int | None = None  # line of the ID, when it has one
    # Raw HTML appended to a field after rendering (O2A's context breadcrumb,
    # file link and frozen fields): field name -> HTML.
    appendix: dict[str, str] = field(default_factory=dict)
    # 1-based line where each field's (trimmed) text starts, so the renderer can
    # pin a bad embed to its line; a field missing here falls back to start_line.
    field_lines: dict[str, int] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.start_line}"


@dataclass(frozen=True)
class Deletion:
    """A `DELETE` line followed by an ID: remove that note, then the two lines."""

    note_id: int
    path: str
    line: int
    start_offset: int  # the two lines to remove, as offsets into the decoded text
    end_offset: int


@dataclass(frozen=True)
class MediaRef:
    """A vault file a note embeds, and the name it is stored under in Anki."""

    source: str  # vault-relative POSIX path of the file
    anki_name: str


@dataclass
class RenderedNote:
    """A note whose fields are the HTML Anki stores."""

    note: Note
    fields: dict[str, str]  # field name -> Anki HTML
    media: tuple[MediaRef, ...] = ()


@dataclass(frozen=True)
class FileSnapshot:
    """How a markdown file looked when it was read, so a write-back can tell
    whether the user changed it since, and keep its encoding."""

    path: str  # vault-relative, POSIX separators
    sha256: str  # of the bytes on disk
    encoding: str  # e.g. "utf-8" or "utf-8-sig"


@dataclass
class ParsedVault:
    """Everything read from a vault: notes, deletions, problems, in file order."""

    notes: list[Note] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, FileSnapshot] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]
