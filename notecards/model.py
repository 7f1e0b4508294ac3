"""The note model every stage shares: parse -> render -> plan -> target.

Nothing here knows about markdown syntax, HTML or Anki's wire formats; it only
names what a note *is* so that the parser, the renderer, the planner and both
targets (package writer, AnkiConnect) agree on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from notecards.problems import Location, Problem, Severity


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


@dataclass(frozen=True)
class IdSlot:
    """Where a new ID goes in the note's file: `text` inserted at `offset`.

    `offset` indexes the file's decoded text (newlines as they are on disk);
    `text` contains `{id}` and already carries the file's own newline.
    """

    offset: int
    text: str


@dataclass(frozen=True)
class TextSpan:
    """Where a value (a field's text, a note's own tags) is in the note's file: `start:end`
    of the decoded text, the same offsets as `IdSlot`'s, so a write-back can replace it and
    keep every other byte.

    The span holds exactly the text the value was read from (a field's line endings as on
    disk); an empty value has an empty span where its text would go, and `before`/`after`
    are what a new value needs around it there (`Back: ` and the file's newline for a field
    without a line, a space after a bare `Back:`), so a writer needs to know no syntax.
    """

    start: int
    end: int
    before: str = ""
    after: str = ""

    def filled(self, value: str) -> str:
        """What replaces `start:end` so that the value reads `value` (nothing for none)."""
        return f"{self.before}{value}{self.after}" if value else ""


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
    # Where each field's text is in the file (the text it was read from, before `#tags` are
    # taken out), so an edit made in Anki can be written back over it alone. Every field
    # has one but a field with no one place: written twice in a block, or a group its
    # custom regexp did not capture.
    field_spans: dict[str, TextSpan] = field(default_factory=dict)
    # The note's own tags (a block's `Tags:` value), or where they would go.
    tags_span: TextSpan | None = None
    # How it is written: a START/END block, an inline note or a custom regexp's match
    # (`check --json` counts each per file, so a user sees that nothing was dropped).
    kind: Literal["block", "inline", "regex"] = "block"

    @property
    def location(self) -> Location:
        return Location(self.path, self.start_line)


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


# How one link or embed resolved: (kind, reference as written, what it named), kind "note",
# "self" (a [[#Heading]] of the note itself), "media", or "embed" (a note or section shown in
# place: its file and the digest of the text shown). One of text embedded from another file
# names that file first, `file\0reference`: it resolves from there.
Dependency = tuple[str, str, str]


@dataclass(frozen=True)
class RenderedNote:
    """A note whose fields are the HTML Anki stores."""

    note: Note
    fields: dict[str, str]  # field name -> Anki HTML
    media: tuple[MediaRef, ...] = ()
    deps: tuple[Dependency, ...] = ()  # what its links and embeds resolved to
    warnings: tuple[Problem, ...] = ()  # the renderer's: embeds it could not show


@dataclass(frozen=True)
class FileSnapshot:
    """How a markdown file looked when it was read, so a write-back can tell
    whether the user changed it since, and keep its encoding."""

    path: str  # vault-relative, POSIX separators
    digest: str  # hashing.content_digest of the bytes on disk
    encoding: str  # e.g. "utf-8" or "utf-8-sig"


@dataclass
class ParsedVault:
    """Everything read from a vault: notes, deletions, problems, in file order."""

    notes: list[Note] = field(default_factory=list)
    deletions: list[Deletion] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files: dict[str, FileSnapshot] = field(default_factory=dict)
    # (One file's parse.) Its fences and headings were found by the line scan, not by
    # markdown-it: new ID lines leave them as they were (vault/written_parse.py).
    line_scanned: bool = False

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]
