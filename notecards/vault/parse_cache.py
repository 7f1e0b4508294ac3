"""The parse cache: each file's notes, deletions and problems, kept in `VAULT/.notecards/`.

Parsing is pure (a file's text, its path and the settings decide the result), so a
file whose bytes (their digest) are unchanged under the same settings and the same
code parses to what the cache holds (the code digest is in the key, so the stored
layout needs no version number of its own). JSON, not pickle: the file lives in the user's
vault, which may come from anyone. Deleting it loses nothing but time.

Each file's entry is written on a line of its own (the document is JSON all the same): a save
writes again, as it read them, the lines of the entries this run did not parse anew, and
encodes only the others; re-encoding every entry of a 10,000-card vault cost a one-card edit
more than its parse.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from pathlib import Path

from notecards.config import VaultConfig
from notecards.hashing import settings_digest
from notecards.model import Deletion, IdSlot, Note, ParsedVault, TextSpan
from notecards.problems import Problem, Severity
from notecards.vault.atomic import write_text
from notecards.vault.entry_lines import entries_document, entry_line, entry_lines
from notecards.vault.state_dir import PARSE_CACHE


class ParseCache:
    """Per file: the digest of the bytes it was parsed at and what the parse found.

    `get` answers only for the same bytes; `put` records a fresh parse (or, from
    write-back, the parse of the text it just wrote); `save` writes the entries of this
    run (files gone from the vault drop out).
    """

    def __init__(self, root: Path, config: VaultConfig):
        self.path = root / PARSE_CACHE
        self.key = settings_digest(config.content_settings())
        self._lines: dict[str, str] = {}  # by path: its stored entry's line, as read
        self._stored = self._load()
        self._current: dict[str, dict] = {}
        self._encoded: dict[str, tuple[dict, str]] = {}  # by path: an entry and its line
        self._changed = False

    def _load(self) -> dict[str, dict]:
        try:
            text = self.path.read_text(encoding="utf-8")
            document = json.loads(text)
        except (OSError, ValueError):
            return {}
        if not isinstance(document, dict) or document.get("key") != self.key:
            return {}
        files = document.get("files")
        if not isinstance(files, dict):
            return {}
        self._lines = entry_lines(text, "files", files)
        return files

    def get(self, rel: str, digest: str) -> ParsedVault | None:
        entry = self._stored.get(rel)
        if not isinstance(entry, dict) or entry.get("digest") != digest:
            return None
        try:
            parsed = _decode(rel, entry)
        except (KeyError, TypeError, ValueError):
            return None  # a damaged entry is a miss, never an error
        self._current[rel] = entry
        return parsed

    def put(self, rel: str, digest: str, parsed: ParsedVault) -> None:
        self._current[rel] = {"digest": digest, **_encode(parsed)}
        self._changed = True

    def parsed(self, rel: str, digest: str) -> ParsedVault | None:
        """This run's parse of the file at these bytes (None: none), for write-back to
        derive the parse of the text it writes from (vault/written_parse.py)."""
        entry = self._current.get(rel)
        if entry is None or entry.get("digest") != digest:
            return None
        return _decode(rel, entry)

    def clean(self, rel: str) -> bool:
        """Whether the file, as this run last read or wrote it, parsed without a problem."""
        entry = self._current.get(rel)
        return entry is not None and not entry["problems"]

    def encode(self, but: Collection[str] = ()) -> None:
        """Encode now the entries `save` would encode, but those of the files in `but` (to
        be written back, so put anew): a build does it while its workers render (0.13 s of
        a 10,000-card vault's save), leaving the save only the write. An entry put since is
        encoded by the save."""
        for rel, entry in self._current.items():
            if rel not in but and not self._as_stored(rel, entry):
                self._encoded[rel] = entry, entry_line(rel, entry)

    def _as_stored(self, rel: str, entry: dict) -> bool:
        """Whether `entry` is the one read from the cache file, whose line is kept as read."""
        return entry is self._stored.get(rel) and rel in self._lines

    def _line(self, rel: str, entry: dict) -> str:
        if self._as_stored(rel, entry):
            return self._lines[rel]
        encoded = self._encoded.get(rel)
        return encoded[1] if encoded is not None and encoded[0] is entry else entry_line(rel, entry)

    def save(self) -> None:
        """Write the cache when it changed (creating the state folder). Atomic via rename;
        no fsync, as a lost or empty cache file is just a miss."""
        if not (self._changed or self._current.keys() != self._stored.keys()):
            return
        try:
            kept = {rel: self._line(rel, entry) for rel, entry in self._current.items()}
            document = entries_document({"key": self.key}, "files", kept.values())
            write_text(self.path, document, durable=False)
        except (OSError, ValueError):  # read-only vault; ValueError: a lone surrogate in JSON
            return  # the cache is optional
        self._stored, self._lines, self._changed = dict(self._current), kept, False
        self._encoded = {}


def _encode(parsed: ParsedVault) -> dict:
    """Plain JSON data, copied: callers may change their notes before the cache is saved."""
    return {
        "notes": [
            [
                n.note_type,
                dict(n.fields),
                list(n.tags),
                n.deck,
                n.note_id,
                n.start_line,
                n.end_line,
                [n.id_slot.offset, n.id_slot.text] if n.id_slot else None,
                n.id_line,
                dict(n.appendix),
                dict(n.field_lines),
                {name: _span_row(span) for name, span in n.field_spans.items()},
                _span_row(n.tags_span) if n.tags_span else None,
                n.kind,
            ]
            for n in parsed.notes
        ],
        "deletions": [[d.note_id, d.line, d.start_offset, d.end_offset] for d in parsed.deletions],
        "problems": [[p.line, p.message, p.severity.value] for p in parsed.problems],
        "line_scanned": parsed.line_scanned,
    }


def _span_row(span: TextSpan) -> list:
    return [span.start, span.end, span.before, span.after]


def _decode(rel: str, entry: dict) -> ParsedVault:
    notes = [
        Note(
            note_type=note_type,
            fields=dict(fields),  # the entry may be saved again: notes get their own dicts
            tags=tuple(tags),
            deck=deck,
            note_id=note_id,
            path=rel,
            start_line=start_line,
            end_line=end_line,
            id_slot=IdSlot(*slot) if slot else None,
            id_line=id_line,
            appendix=dict(appendix),
            field_lines=dict(field_lines),
            field_spans={name: TextSpan(*row) for name, row in field_spans.items()},
            tags_span=TextSpan(*tags_span) if tags_span else None,
            kind=kind,
        )
        for (
            note_type,
            fields,
            tags,
            deck,
            note_id,
            start_line,
            end_line,
            slot,
            id_line,
            appendix,
            field_lines,
            field_spans,
            tags_span,
            kind,
        ) in entry["notes"]
    ]
    deletions = [Deletion(note_id, rel, *rest) for note_id, *rest in entry["deletions"]]
    problems = [
        Problem.at(rel, line, message, Severity(severity))
        for line, message, severity in entry["problems"]
    ]
    line_scanned = entry["line_scanned"]
    if type(line_scanned) is not bool:
        raise TypeError("line_scanned")
    return ParsedVault(notes, deletions, problems, line_scanned=line_scanned)
