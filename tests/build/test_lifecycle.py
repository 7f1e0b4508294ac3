"""Build, import, review, edit, add, rebuild, import: one note per ID, history kept."""

from __future__ import annotations

import json

from tests.helpers.build import run_build
from tests.helpers.collection import AnkiCollection
from tests.helpers.vault import block, write_vault


def test_rebuild_updates_in_place_adds_new_and_keeps_reviews(tmp_path):
    vault = write_vault(tmp_path / "v", {"a.md": block("q1", "a1") + "\n" + block("q2", "a2")})
    out = tmp_path / "v.apkg"
    first = json.loads(run_build(str(vault), "-o", str(out), "--json").stdout)
    edited_id, other_id = (a["id"] for a in first["ids_assigned"])

    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(out)
        (reviewed_card,) = anki.notes()[edited_id].card_ids
        anki.answer(reviewed_card, ease=3)
        schedule = anki.card_schedule(reviewed_card)
        history = anki.revlog(reviewed_card)
        assert len(history) == 1

        text = (vault / "a.md").read_text()
        (vault / "a.md").write_text(
            text.replace("Back: a1", "Back: a1, now better") + "\n" + block("q3", "a3")
        )
        second = json.loads(run_build(str(vault), "-o", str(out), "--json").stdout)
        (added,) = second["ids_assigned"]
        anki.import_package(out)

        notes = anki.notes()
        assert set(notes) == {edited_id, other_id, added["id"]}
        assert notes[edited_id].fields["Back"].startswith("a1, now better")
        assert notes[edited_id].card_ids == [reviewed_card]
        assert anki.revlog(reviewed_card) == history
        assert anki.card_schedule(reviewed_card) == schedule
        assert notes[other_id].fields["Back"] == "a2"
