"""The package writer, proven by importing its output into a real Anki collection."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import genanki
import pytest

from notecards.build import build_vault
from notecards.config import BUILTIN_NOTE_TYPES
from notecards.model import MediaRef, Note, RenderedNote
from notecards.problems import NotecardsError
from notecards.targets.package import (
    PackageWriter,
    deck_id,
    genanki_model,
    note_guid,
    write_package,
)
from tests.helpers.collection import AnkiCollection


def rendered(
    note_id: int, front: str, back: str = "b", deck: str = "Default", **kw
) -> RenderedNote:
    note_type = kw.pop("note_type", "Basic")
    names = BUILTIN_NOTE_TYPES[note_type].fields
    note = Note(
        note_type=note_type,
        fields=dict(zip(names, (front, back), strict=False)),
        tags=kw.pop("tags", ("ml",)),
        deck=deck,
        note_id=note_id,
        path="a.md",
        start_line=1,
        end_line=5,
    )
    html = dict(zip(names, (front, back), strict=False))
    return RenderedNote(note, html, kw.pop("media", ()))


def write(tmp_path: Path, notes, mod: int = 1_700_000_000, name: str = "out.apkg") -> Path:
    writer = PackageWriter(BUILTIN_NOTE_TYPES, tmp_path / "vault")
    for r in notes:
        writer.add(r, r.note.note_id, mod)
    out = tmp_path / name
    writer.write(out)
    return out


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    (tmp_path / "vault").mkdir()
    return tmp_path / "vault"


def test_ids_fields_tags_decks_arrive_in_anki(tmp_path, vault):
    out = write(
        tmp_path,
        [
            rendered(1764591468175, "q1", "<b>a1</b>", tags=("ml", "WS2526")),
            rendered(1764591468178, "q2", deck="ML::Post-training"),
            rendered(1764591468180, "{{c1::x}} y", "", note_type="Cloze", deck="ML"),
        ],
    )
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(out)
        notes = anki.notes()
        assert set(notes) == {1764591468175, 1764591468178, 1764591468180}
        first = notes[1764591468175]
        assert first.fields == {"Front": "q1", "Back": "<b>a1</b>"}
        assert first.tags == ["ml", "WS2526"]
        assert first.decks == ["Default"]
        assert first.guid == note_guid(1764591468175)
        assert notes[1764591468178].decks == ["ML::Post-training"]
        assert notes[1764591468180].fields["Text"] == "{{c1::x}} y"
        assert notes[1764591468180].decks == ["ML"]
        assert {"Default", "ML", "ML::Post-training"} <= anki.deck_names()


def test_builtin_types_import_under_their_own_names_not_renamed_copies(tmp_path, vault):
    """Anki's own "Basic" has a per-profile id; ours keeps an honest distinct name."""
    out = write(tmp_path, [rendered(1, "q")])
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(out)
        assert anki.notes()[1].note_type == "Basic (notecards)"
        assert not any(
            name.endswith("+") for name in (m.name for m in anki.col.models.all_names_and_ids())
        )


@pytest.mark.parametrize(
    ("second_mod", "front"),
    [(1_700_000_001, "new"), (1_700_000_000, "old")],
    ids=["newer-mod-updates", "same-mod-keeps-the-old"],
)
def test_a_rebuild_with_the_same_id_updates_the_note_only_when_its_mod_is_newer(
    tmp_path, vault, second_mod, front
):
    """Why the build must raise `mod` for an edited note: Anki updates only if newer."""
    first = write(tmp_path, [rendered(42, "old")], mod=1_700_000_000, name="1.apkg")
    second = write(tmp_path, [rendered(42, "new")], mod=second_mod, name="2.apkg")
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(first)
        anki.import_package(second)
        notes = anki.notes()
        assert list(notes) == [42]
        assert notes[42].fields["Front"] == front


def test_media_packed_under_anki_name(tmp_path, vault):
    (vault / "img").mkdir()
    (vault / "img" / "plot.png").write_bytes(b"\x89PNG fake")
    ref = MediaRef("img/plot.png", "img-plot.png")
    out = write(tmp_path, [rendered(7, '<img src="img-plot.png">', media=(ref,))])
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(out)
        assert anki.media_bytes("img-plot.png") == b"\x89PNG fake"


def test_media_outside_vault_is_refused(tmp_path, vault):
    (tmp_path / "secret.png").write_bytes(b"x")
    writer = PackageWriter(BUILTIN_NOTE_TYPES, vault)
    with pytest.raises(NotecardsError, match="outside the vault"):
        writer.add(rendered(7, "q", media=(MediaRef("../secret.png", "secret.png"),)), 7, 1)


def test_failed_write_leaves_previous_package(tmp_path, vault, monkeypatch):
    out = write(tmp_path, [rendered(1, "q")])
    before = out.read_bytes()
    writer = PackageWriter(BUILTIN_NOTE_TYPES, vault)
    writer.add(rendered(2, "q2"), 2, 1)

    def fail(*_args):  # a disk-full/crash mid-write the real FS won't produce on demand
        raise OSError("disk full")

    monkeypatch.setattr("notecards.vault.atomic.os.replace", fail)
    with pytest.raises(OSError):
        writer.write(out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_deck_ids_are_distinct_positive_and_default_is_one():
    assert deck_id("Default") == 1
    assert deck_id("ML::Sub") != deck_id("ML")
    assert all(1 < deck_id(n) < 2**63 for n in ("ML", "a", "", "Default::x"))


def test_media_names_with_spaces_and_ampersands_pass_ankis_media_check(tmp_path):
    """The src the renderer writes is the name Anki's own media check finds: none missing, none
    unused (so Check Media never deletes or asks for them)."""
    vault = tmp_path / "notes"
    (vault / "figures").mkdir(parents=True)
    (vault / "figures" / "loss curve & notes.png").write_bytes(b"\x89PNG one")
    (vault / "plot 2.png").write_bytes(b"\x89PNG two")
    card = "START\nBasic\nQ ![[loss curve & notes.png]]\nBack: ![](plot%202.png)\nEND\n"
    (vault / "a.md").write_text(card)
    build_vault(vault, tmp_path / "out.apkg")
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(tmp_path / "out.apkg")
        check = anki.col.media.check()
        assert (list(check.missing), list(check.unused)) == ([], [])
        assert anki.media_bytes("loss curve & notes.png") == b"\x89PNG one"
        assert anki.media_bytes("plot 2.png") == b"\x89PNG two"


class _GenankiNote(genanki.Note):
    """genanki writing a note itself, under our note id and mod (its own clock otherwise)."""

    def __init__(self, note_id: int, mod: int, **kwargs):
        super().__init__(guid=note_guid(note_id), **kwargs)
        self.note_id, self.mod = note_id, mod

    def write_to_db(self, cursor, timestamp, deck_id, id_gen):
        super().write_to_db(cursor, self.mod, deck_id, itertools.chain([self.note_id], id_gen))


def test_the_package_is_byte_for_byte_what_genanki_writes_for_the_same_notes(
    tmp_path, vault, monkeypatch
):
    """The writer makes each note's rows as it is added; genanki's own write of the same
    notes, at the same moment, gives the very same file."""
    notes = [
        rendered(1764591468175, "q1", "<b>a1</b>", tags=("ml", "WS2526")),
        rendered(1764591468178, "q2", deck="ML::Post-training"),
        rendered(1764591468179, "q3", "a3", note_type="Basic (and reversed card)"),
        rendered(1764591468180, "{{c1::x}} {{c2::y}}", "", note_type="Cloze", deck="ML"),
        rendered(1764591468181, "q4", deck="ML::Post-training", tags=()),
    ]
    monkeypatch.setattr(time, "time", lambda: 1_764_600_000.25)
    ours = write(tmp_path, notes, mod=1_700_000_123)
    decks: dict[str, genanki.Deck] = {}
    models: dict[str, genanki.Model] = {}
    for item in notes:
        note = item.note
        model = models.setdefault(note.note_type, genanki_model(BUILTIN_NOTE_TYPES[note.note_type]))
        deck = decks.setdefault(note.deck, genanki.Deck(deck_id(note.deck), note.deck))
        fields = [item.fields.get(f["name"], "") for f in model.fields]
        deck.add_note(
            _GenankiNote(note.note_id, 1_700_000_123, model=model, fields=fields, tags=note.tags)
        )
    theirs = tmp_path / "genanki.apkg"
    write_package(genanki.Package(list(decks.values())), theirs)
    assert ours.read_bytes() == theirs.read_bytes()
