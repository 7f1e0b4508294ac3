"""Write rendered notes to an Anki package (.apkg) with genanki; knows nothing about markdown.

Identity rules (tested by importing into a real Anki collection):
- the note id is the markdown ID, and the guid is derived from that ID alone, so an edited
  card updates the same note instead of importing as a new one (genanki's default guid
  hashes the fields, and its note ids come from a clock);
- built-in note types are genanki's stock models (their ids, fields and card layouts) named
  "Basic (notecards)", ..., with notecards' stylesheet. Anki's own "Basic" has a random id per
  profile; a package model named "Basic" with another id is imported as "Basic+" (and "Basic++"
  where a shared deck's "Basic" already took "Basic+"). The ids are the ones packages have
  always carried, so a collection that has "Basic (genanki)" from an older package gets it
  renamed and restyled in place (Anki updates a type of the same id and fields when the
  package's is newer), never a second type;
- a deck id is a hash of the full deck name ("Default" is Anki's deck 1); Anki matches decks
  by name on import anyway, so a deck the user already has is reused;
- each note carries its own `mod` (seconds): Anki updates an existing note only when the
  incoming one is newer, so the caller passes a newer mod for every changed note;
- sync's packages may instead carry the note types a running Anki already has (`mirror_model`):
  same id, field names and template names, and a `mod` of 0, so Anki files the notes under the
  user's own types and never takes the package's copy for a newer version of them.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import genanki

from notecards.hashing import deck_digest
from notecards.model import MediaRef, NoteType, RenderedNote
from notecards.problems import NotecardsError, Problem
from notecards.targets.stylesheet import card_css
from notecards.vault.atomic import replacing

# Appended to the built-in types' names in packages: a name Anki's profile does not have.
BUILTIN_SUFFIX = " (notecards)"
_STOCK_MODELS: dict[int, genanki.Model] = {
    m.model_id: m
    for m in (
        genanki.BASIC_MODEL,
        genanki.BASIC_AND_REVERSED_CARD_MODEL,
        genanki.BASIC_OPTIONAL_REVERSED_CARD_MODEL,
        genanki.BASIC_TYPE_IN_THE_ANSWER_MODEL,
        genanki.CLOZE_MODEL,
    )
}
_DEFAULT_DECK = "Default"
_DEFAULT_DECK_ID = 1  # Anki's own Default deck
_GUID_NAMESPACE = "notecards"


def note_guid(note_id: int) -> str:
    """The guid Anki matches notes by on import: a function of the ID alone."""
    return genanki.guid_for(_GUID_NAMESPACE, note_id)


def deck_id(name: str) -> int:
    """A stable positive 63-bit id per full deck name; 1 only for "Default"."""
    if name == _DEFAULT_DECK:
        return _DEFAULT_DECK_ID
    return max(deck_digest(name) & (2**63 - 1), _DEFAULT_DECK_ID + 1)


def genanki_model(note_type: NoteType) -> genanki.Model:
    """The genanki model for a note type: a built-in one as genanki's stock type under our
    name, a custom one with its own templates; notecards' stylesheet unless it has its own."""
    stock = _STOCK_MODELS.get(note_type.model_id)
    if stock is not None and not note_type.templates:
        return genanki.Model(
            stock.model_id,
            note_type.name + BUILTIN_SUFFIX,
            fields=stock.fields,
            templates=stock.templates,
            css=card_css(),
            model_type=stock.model_type,
        )
    return genanki.Model(
        note_type.model_id,
        note_type.name,
        fields=[{"name": name} for name in note_type.fields],
        templates=[dict(t) for t in note_type.templates],
        css=note_type.css or card_css(),
        model_type=genanki.Model.CLOZE if note_type.is_cloze else genanki.Model.FRONT_BACK,
    )


class _MirroredModel(genanki.Model):
    """A note type as Anki holds it; `mod` 0 so that an import never updates Anki's own."""

    def to_json(self, timestamp: float, deck_id):
        return {**super().to_json(timestamp, deck_id), "mod": 0}


def mirror_model(
    model_id: int, name: str, fields: list[str], templates: Mapping[str, Mapping[str, str]]
) -> genanki.Model:
    """A package copy of a note type Anki has (what `modelNamesAndIds`, `modelFieldNames` and
    `modelTemplates` answer); cloze when its first template is a cloze one, as in Anki."""
    cloze = "{{cloze:" in next(iter(templates.values()), {}).get("Front", "")
    return _MirroredModel(
        model_id,
        name,
        fields=[{"name": field} for field in fields],
        templates=[
            {"name": template, "qfmt": sides.get("Front", ""), "afmt": sides.get("Back", "")}
            for template, sides in templates.items()
        ],
        model_type=genanki.Model.CLOZE if cloze else genanki.Model.FRONT_BACK,
    )


_INSERT_NOTE = "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);"
_INSERT_CARD = "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);"
# A new card's columns after its usn: type, queue, due, ivl, factor, reps, lapses, left,
# odue, odid, flags, data (genanki's `Card.write_to_db`).
_NEW_CARD = (0,) * 11 + ("",)


class _PackedNote:
    """A note whose note id and mod are ours (genanki takes both from a clock), in the rows
    genanki's `Note.write_to_db` would insert, made when the note is added: a build adds
    each note as it comes back rendered, so the package's write at the end only runs the
    inserts (0.36 s of CPU for 10,000 notes, 0.15 s of it genanki's per-note work)."""

    __slots__ = ("model", "_row", "_ords")

    def __init__(self, note: genanki.Note, note_id: int, mod: int):
        self.model = note.model  # what genanki's `Deck.write_to_db` reads of a note
        self._row = (note_id, note.guid, note.model.model_id, int(mod), -1, note._format_tags(),
                     note._format_fields(), note.sort_field, 0, 0, "")  # fmt: skip
        self._ords = [card.ord for card in note.cards]

    def write_to_db(self, cursor: sqlite3.Cursor, timestamp: float, deck_id: int, id_gen) -> None:
        """genanki's rows, in its order: the note, then each card (ids drawn from `id_gen`)."""
        cursor.execute(_INSERT_NOTE, self._row)
        note_id, mod = self._row[0], self._row[3]
        for ord_ in self._ords:
            card = (next(id_gen), note_id, deck_id, ord_, mod, -1, *_NEW_CARD)
            cursor.execute(_INSERT_CARD, card)


def _has_card(note: genanki.Note) -> bool:
    if not note.fields[0].strip():
        return False  # Anki refuses a note whose first field is empty
    try:
        return bool(note.cards)
    except Exception:  # genanki raises a bare Exception for a template it cannot read
        return False


@dataclass(frozen=True)
class _PackedMedia:
    source: Path
    anki_name: str


class PackageWriter:
    """Collects rendered notes and media, then writes one .apkg atomically.

    `models` replaces the genanki model of the note types it names (see `mirror_model`);
    `media=False` leaves the notes' media files out (sync stores them through AnkiConnect)."""

    def __init__(
        self,
        note_types: Mapping[str, NoteType],
        media_root: Path,
        models: Mapping[str, genanki.Model] | None = None,
        *,
        media: bool = True,
    ):
        self._note_types = note_types
        self._models = dict(models or {})
        self._with_media = media
        self._media_root = media_root.resolve()
        self._decks: dict[str, genanki.Deck] = {}
        self._media: dict[str, _PackedMedia] = {}

    @property
    def deck_names(self) -> list[str]:
        return sorted(self._decks)

    @property
    def media_names(self) -> list[str]:
        return sorted(self._media)

    def media_stats(self) -> dict[str, tuple[str, int, int]]:
        """Anki name -> (source, size, mtime_ns): enough to tell a media file changed."""
        stats = {}
        for name, media in sorted(self._media.items()):
            stat = media.source.stat()
            stats[name] = (str(media.source), stat.st_size, stat.st_mtime_ns)
        return stats

    def add(
        self,
        rendered: RenderedNote,
        note_id: int,
        mod: int,
        *,
        extra_tags: tuple[str, ...] = (),
        require_card: bool = False,
    ) -> bool:
        """Add one note under `note_id` with modification time `mod` (seconds).

        With `require_card`, a note Anki would make no card of (first field empty, no cloze,
        a template genanki cannot read) is left out, and False returned."""
        note = rendered.note
        model = self._models.get(note.note_type)
        if model is None:  # one object per type: genanki works out its card rules once per object
            model = self._models[note.note_type] = genanki_model(self._note_types[note.note_type])
        by_name = {name.casefold(): html for name, html in rendered.fields.items()}
        package_note = genanki.Note(
            guid=note_guid(note_id),
            model=model,
            fields=[by_name.get(f["name"].casefold(), "") for f in model.fields],
            tags=[*note.tags, *extra_tags],
        )
        if require_card and not _has_card(package_note):
            return False
        deck = self._decks.get(note.deck)
        if deck is None:
            deck = self._decks[note.deck] = genanki.Deck(deck_id(note.deck), note.deck)
        deck.add_note(_PackedNote(package_note, note_id, mod))
        for ref in rendered.media if self._with_media else ():
            self._add_media(ref, note.path, note.start_line)
        return True

    def _add_media(self, ref: MediaRef, path: str, line: int) -> None:
        source = (self._media_root / ref.source).resolve()
        if not source.is_relative_to(self._media_root):
            raise NotecardsError([Problem.at(path, line, f"media outside the vault: {ref.source}")])
        if not source.is_file():
            raise NotecardsError([Problem.at(path, line, f"media file not found: {ref.source}")])
        try:
            source.open("rb").close()  # unreadable: said here, before anything is written
        except OSError as err:
            message = f"cannot read media file {ref.source}: {err.strerror}"
            raise NotecardsError([Problem.at(path, line, message)]) from err
        known = self._media.get(ref.anki_name)
        if known is not None and known.source != source:
            message = f"two media files stored as {ref.anki_name!r}"
            raise NotecardsError([Problem.at(path, line, message)])
        self._media[ref.anki_name] = _PackedMedia(source, ref.anki_name)

    def write(self, output: Path, *, durable: bool = True) -> None:
        """Write the package: temp file beside `output`, then rename (never half-written).
        `durable=False` skips the fsyncs, for a package read once and removed (sync's import)."""
        output.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="notecards-media-") as staging:
            media_files = [self._stage(m, Path(staging)) for m in self._media.values()]
            package = genanki.Package(list(self._decks.values()), media_files=media_files)
            with replacing(output, durable=durable) as tmp:
                write_package(package, tmp)

    @staticmethod
    def _stage(media: _PackedMedia, staging: Path) -> str:
        """genanki stores a file under its basename: copy it when Anki's name differs."""
        if media.source.name == media.anki_name:
            return str(media.source)
        staged = staging / media.anki_name
        shutil.copyfile(media.source, staged)
        return str(staged)


def write_package(package: genanki.Package, path: Path) -> None:
    """`package.write_to_file(path)`, with the collection built in memory.

    genanki builds the collection in a `tempfile.mkstemp()` file, commits to it with SQLite's
    fsyncs (0.2 s of waiting on this machine's disk for 1,000 notes, in a file that is only
    read back into the zip) and never removes it. Here genanki writes the same collection
    into an in-memory database, whose bytes are zipped as genanki zips them; the package is
    made durable once, by its writer (`replacing`: temp file, fsync, rename)."""
    timestamp = time.time()
    db = sqlite3.connect(":memory:")
    try:
        package.write_to_db(db.cursor(), timestamp, itertools.count(int(timestamp * 1000)))
        db.commit()
        collection = db.serialize()
    finally:
        db.close()
    media = dict(enumerate(package.media_files))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("collection.anki2", collection)
        archive.writestr("media", json.dumps({i: os.path.basename(p) for i, p in media.items()}))
        for index, source in media.items():
            archive.write(source, str(index))
