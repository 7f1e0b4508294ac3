"""Write edits made in Anki into the markdown: a field's text, a note's own tags.

Each value replaces its span alone (`Note.field_spans`, `Note.tags_span`), so every other
byte of the file stays as it was: list markers, wrapping, math, links, the ID line, the
file's newline, encoding and BOM. The new text is parsed again before it is written, and
a note whose values would not read back as given (a line the parser takes for syntax, a
line break in a note written on one line) is left as it is and reported. The write is
atomic and one per file, like the ID write-back's; a file the user changed since it was read
is read again and each note found again (by ID, else by its content), and a note whose
fields to be replaced changed meanwhile is left alone and reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from notecards.config import VaultConfig
from notecards.hashing import content_digest
from notecards.model import FileSnapshot, Note, ParsedVault, TextSpan
from notecards.parse import SourceText, parse_file
from notecards.parse.tags import split_tags
from notecards.problems import Problem
from notecards.vault.files import is_read_only
from notecards.vault.parse_cache import ParseCache
from notecards.vault.writeback import _MAX_ATTEMPTS, _atomic_replace


@dataclass(frozen=True)
class FieldUpdate:
    """New values for one note (as parsed from its file's snapshot): markdown per field
    name, and the note's own tags (a block's `Tags:` line) unless None."""

    note: Note
    fields: Mapping[str, str] = field(default_factory=dict)
    tags: Sequence[str] | None = None


@dataclass
class FieldWriteResult:
    files_written: list[str] = field(default_factory=list)
    # The (path, start_line) of each update, as passed in, whose values are now in the file.
    written: set[tuple[str, int]] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    # The new digest of each file written from the very bytes its snapshot was taken of and
    # whose notes and DELETE lines kept their lines: the file as the sync's parse has it, but
    # for the values written (what a sync records as the inputs it leaves).
    digests: dict[str, str] = field(default_factory=dict)


def write_fields(
    root: Path,
    snapshots: dict[str, FileSnapshot],
    updates: Sequence[FieldUpdate],
    *,
    config: VaultConfig,
    parse_cache: ParseCache | None = None,
) -> FieldWriteResult:
    """Write each update's fields and tags into its note's file, one write per file.

    A field's value is trimmed, as the parser trims it, and its line breaks become the
    file's. Refused, each reported at its note: a read-only file, a note no longer found
    or whose values changed on disk since the snapshot, an unknown field or one with no one
    place in the note, a line break for a one-line note (inline or a one-line regex note),
    a tag that is not one word as the parser reads it (no spaces, no leading `#`, no `/`),
    and values that would not read back as written. With `parse_cache`, each written
    file's new parse goes into it.
    """
    by_path: dict[str, list[FieldUpdate]] = defaultdict(list)
    for update in updates:
        by_path[update.note.path].append(update)
    result = FieldWriteResult()
    for path in sorted(by_path):
        snapshot = snapshots[path]
        outcome = _write_file(root, snapshot, by_path[path], config)
        result.problems += outcome.problems
        result.written.update((path, update.note.start_line) for update in outcome.done)
        if outcome.data is not None:
            result.files_written.append(path)
            digest = content_digest(outcome.data)
            if outcome.as_parsed:
                result.digests[path] = digest
            if parse_cache is not None and outcome.parsed is not None:
                parse_cache.put(path, digest, outcome.parsed)
    return result


# A replacement: text[start:end] becomes the string. Edits at one offset keep their order.
_Edit = tuple[int, int, str]


@dataclass
class _Planned:
    """One note's update, found in the file as it is now, and the text each span gets."""

    update: FieldUpdate
    index: int  # the note's place among the file's notes, as parsed now
    line: int  # its START line now
    fields: dict[str, str]  # field name -> its new text, with the file's newline
    tags: str | None  # the new text of its tags, unless they stay
    edits: list[_Edit] = field(default_factory=list)


@dataclass
class _Outcome:
    done: list[FieldUpdate] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    data: bytes | None = None  # the new bytes, when the file was written
    parsed: ParsedVault | None = None  # their parse
    as_parsed: bool = False  # written from the snapshot's bytes, every line where it was


_NOT_WRITTEN = "the edit made in Anki was not written"


def _write_file(
    root: Path, snapshot: FileSnapshot, updates: list[FieldUpdate], config: VaultConfig
) -> _Outcome:
    path, target = snapshot.path, root / snapshot.path

    def refused(why: str) -> _Outcome:
        message = f"{why}; {_NOT_WRITTEN}"
        return _Outcome(problems=[Problem.at(path, u.note.start_line, message) for u in updates])

    if is_read_only(target):
        return refused("the file is read-only")
    for _ in range(_MAX_ATTEMPTS):
        try:
            raw = target.read_bytes()
            text = raw.decode(snapshot.encoding)
        except (OSError, UnicodeDecodeError) as exc:
            return refused(f"could not re-read the file: {exc}")
        outcome = _Outcome()
        current = parse_file(text, path, config)
        planned = _plan(text, current.notes, updates, outcome.problems, path)
        new_text, parsed = _read_back(text, current, planned, outcome.problems, path, config)
        outcome.done = [plan.update for plan in planned]
        if new_text == text:
            return outcome
        data = new_text.encode(snapshot.encoding)
        try:
            replaced = _atomic_replace(target, data, raw)
        except OSError as exc:
            return refused(f"could not write the file: {exc}")
        if replaced:
            outcome.data, outcome.parsed = data, parsed
            outcome.as_parsed = content_digest(raw) == snapshot.digest and _lines(
                current
            ) == _lines(parsed)
            return outcome
    return refused("the file keeps changing (run again)")


def _lines(parsed: ParsedVault) -> list[object]:
    """Where each note (its START, END, ID and field lines) and DELETE line of a file is."""
    notes = [(n.start_line, n.end_line, n.id_line, n.field_lines) for n in parsed.notes]
    return [*notes, *(d.line for d in parsed.deletions)]


def _plan(
    text: str, notes: list[Note], updates: list[FieldUpdate], problems: list[Problem], path: str
) -> list[_Planned]:
    """Each update's edits on the text as it is now; an update that cannot go in goes to
    `problems` instead."""
    newline = SourceText(text).newline
    planned: list[_Planned] = []
    taken: set[int] = set()
    for update in updates:
        index = _find(update.note, notes)
        if index is None or not _unchanged(update, notes[index]):
            why = "the note changed on disk since it was read (run again)"
        elif index in taken:
            why = "another update in this write is for the same note"
        else:
            why = _refusal(update, notes[index])
        if why:
            problems.append(Problem.at(path, update.note.start_line, f"{why}; {_NOT_WRITTEN}"))
            continue
        assert index is not None
        taken.add(index)
        note = notes[index]
        plan = _Planned(
            update,
            index,
            note.start_line,
            {name: _as_written(value, newline) for name, value in update.fields.items()},
            None if update.tags is None else " ".join(update.tags),
        )
        # in the note type's order: fields that go in at one place go in as the type has them
        spans = [
            (note.field_spans[name], plan.fields[name])
            for name in note.fields
            if name in plan.fields
        ]
        if plan.tags is not None:
            assert note.tags_span is not None  # every parsed note has one
            spans.append((note.tags_span, plan.tags))
        plan.edits = [
            (span.start, span.end, span.filled(value))
            for span, value in spans
            if text[span.start : span.end] != value
        ]
        planned.append(plan)
    return planned


def _find(note: Note, notes: list[Note]) -> int | None:
    """The index of `note` among `notes` (the file parsed again): the note with its ID, or
    without one, its type and fields; the nearest to its old line."""

    def same(other: Note) -> bool:
        if note.note_id is not None:
            return other.note_id == note.note_id
        return other.note_id is None and other.fields == note.fields

    found = [
        i for i, other in enumerate(notes) if other.note_type == note.note_type and same(other)
    ]
    return min(found, key=lambda i: abs(notes[i].start_line - note.start_line), default=None)


def _unchanged(update: FieldUpdate, now: Note) -> bool:
    """Whether the values the update replaces are still the ones it was made from."""
    note = update.note
    if update.tags is not None and now.tags != note.tags:
        return False
    return all(now.fields.get(name) == note.fields.get(name) for name in update.fields)


def _refusal(update: FieldUpdate, note: Note) -> str:
    """Why the update's values cannot go into the note ("" when they can)."""
    for name, value in update.fields.items():
        if name not in note.fields:
            return f"{note.note_type} has no field {name!r}"
        if name not in note.field_spans:
            return f"{name} is in more than one place in the note, or in none its regexp reads"
        if "\n" in value.strip() and note.start_line == note.end_line:
            return f"the new {name} has a line break, and the note is written on one line"
    bad = [tag for tag in update.tags or () if split_tags(tag) != [tag]]
    if bad:
        return (
            f"tag {' '.join(map(repr, bad))} is not one word as a Tags line reads it"
            " (no spaces, no leading #, no /)"
        )
    return ""


def _as_written(value: str, newline: str) -> str:
    """A field's markdown as its span holds it: trimmed, as the parser trims a field, with
    the file's newline."""
    return value.strip().replace("\r\n", "\n").replace("\n", newline)


def _read_back(
    text: str,
    current: ParsedVault,
    planned: list[_Planned],
    problems: list[Problem],
    path: str,
    config: VaultConfig,
) -> tuple[str, ParsedVault]:
    """The new text and its parse, with every planned note that reads back as written: all
    of them, or else each one that does on its own; the others go to `problems`, and out
    of `planned`."""
    together = _applied(text, current, planned, path, config)
    if together is not None:
        return together
    kept = []
    for plan in planned:
        if _applied(text, current, [plan], path, config) is not None:
            kept.append(plan)
            continue
        names = ", ".join([*plan.fields, *(["Tags"] if plan.tags is not None else [])])
        why = (
            f"the new {names} would not read back as written (a line in it reads as card"
            " syntax: a field prefix, a marker, a Tags or ID line, a code fence)"
        )
        problems.append(Problem.at(path, plan.line, f"{why}; {_NOT_WRITTEN}"))
    together = _applied(text, current, kept, path, config)
    if together is None:  # each reads back alone, but not together: none is written
        why = "the edits made in Anki to this file do not read back together"
        problems += [Problem.at(path, plan.line, f"{why}; {_NOT_WRITTEN}") for plan in kept]
        kept, together = [], (text, current)
    planned[:] = kept
    return together


def _applied(
    text: str, current: ParsedVault, planned: list[_Planned], path: str, config: VaultConfig
) -> tuple[str, ParsedVault] | None:
    """The text with the planned edits and its parse, if every note of the file reads back
    as planned (the same notes, IDs and deletions, each span holding its new value or the
    text it held)."""
    edits = sorted((edit for plan in planned for edit in plan.edits), key=lambda e: e[0])
    if not edits:
        return text, current
    pieces, at = [], 0
    for start, end, new in edits:
        assert start >= at, "the spans of a file's values never overlap"
        pieces += [text[at:start], new]
        at = end
    new_text = "".join(pieces) + text[at:]
    parsed = parse_file(new_text, path, config)
    if (len(parsed.notes), len(parsed.deletions)) != (len(current.notes), len(current.deletions)):
        return None
    by_index = {plan.index: plan for plan in planned}
    for index, (old, new) in enumerate(zip(current.notes, parsed.notes, strict=True)):
        if (old.note_type, old.note_id) != (new.note_type, new.note_id):
            return None
        if old.field_spans.keys() != new.field_spans.keys():
            return None
        plan = by_index.get(index)
        pairs = [(old.field_spans[n], new.field_spans[n], n) for n in old.field_spans]
        for before, after, name in pairs:
            expected = plan.fields.get(name) if plan else None
            if _text(new_text, after) != (_text(text, before) if expected is None else expected):
                return None
        expected_tags = plan.tags if plan else None
        old_tags = _text(text, old.tags_span) if expected_tags is None else expected_tags
        if _text(new_text, new.tags_span) != old_tags:
            return None
    return new_text, parsed


def _text(text: str, span: TextSpan | None) -> str | None:
    return None if span is None else text[span.start : span.end]


def own_tags(root: Path, snapshot: FileSnapshot, note: Note) -> list[str] | None:
    """The tags the note's block itself writes (its `Tags:` value), as read from its file
    now; None when the file cannot be read or changed since `snapshot`."""
    try:
        raw = (root / snapshot.path).read_bytes()
        text = raw.decode(snapshot.encoding)
    except (OSError, UnicodeDecodeError):
        return None
    if content_digest(raw) != snapshot.digest:
        return None
    value = _text(text, note.tags_span)
    return split_tags(value) if value is not None else []
