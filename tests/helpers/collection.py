"""Import .apkg files into a fresh, real Anki collection (the `anki` package) and read it back.

The package writer is proven the way a user proves it: Anki's own importer reads the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anki.collection import Collection
from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportAnkiPackageRequest


@dataclass
class StoredNote:
    note_id: int
    guid: str
    note_type: str
    fields: dict[str, str]
    tags: list[str]
    decks: list[str]  # one per card
    card_ids: list[int]
    mod: int


def stored_notes(col: Collection) -> dict[int, StoredNote]:
    """id -> every note the collection holds, read through Anki's own API."""
    stored = {}
    for note_id in col.find_notes(""):
        note = col.get_note(note_id)
        cards = note.cards()
        stored[note_id] = StoredNote(
            note_id=note_id,
            guid=note.guid,
            note_type=note.note_type()["name"],
            fields=dict(note.items()),
            tags=list(note.tags),
            decks=[col.decks.name(card.did) for card in cards],
            card_ids=[card.id for card in cards],
            mod=note.mod,
        )
    return stored


class AnkiCollection:
    """A fresh collection in `folder`; close() it (or use as a context manager)."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.col = Collection(str(folder / "collection.anki2"))

    def __enter__(self) -> AnkiCollection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.col.close()

    def import_package(self, package: Path):
        """Import with Anki's defaults (update notes if newer); returns the import log."""
        request = ImportAnkiPackageRequest(
            package_path=str(package), options=ImportAnkiPackageOptions(with_scheduling=True)
        )
        return self.col.import_anki_package(request).log

    def notes(self) -> dict[int, StoredNote]:
        return stored_notes(self.col)

    def deck_names(self) -> set[str]:
        return {d.name for d in self.col.decks.all_names_and_ids()}

    def media_bytes(self, name: str) -> bytes:
        return (Path(self.col.media.dir()) / name).read_bytes()

    def answer(self, card_id: int, ease: int = 3) -> None:
        """Review a card the way the reviewer does (ease 3 = Good)."""
        card = self.col.get_card(card_id)
        card.start_timer()
        states = self.col._backend.get_scheduling_states(card.id)
        answer = self.col.sched.build_answer(card=card, states=states, rating=ease - 1)
        self.col.sched.answer_card(answer)

    def revlog(self, card_id: int) -> list[tuple]:
        return self.col.db.all("select id, ease, ivl, type from revlog where cid = ?", card_id)

    def card_schedule(self, card_id: int) -> tuple:
        card = self.col.get_card(card_id)
        return (card.type, card.queue, card.due, card.ivl, card.reps)
