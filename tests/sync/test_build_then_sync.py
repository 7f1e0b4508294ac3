"""A package from `notecards build`, imported into Anki, is what `notecards sync` would make:
the sync right after finds every note by its ID and changes nothing."""

from __future__ import annotations

from notecards.sync import plan_lines
from tests.helpers.sync import (
    anki_notes,
    build_and_import,
    copy_project_notes,
    nothing_to_send,
    sync,
)
from tests.helpers.vault import block, ids_in, write_vault


def test_sync_after_importing_the_users_package_changes_nothing(tmp_path, anki_server):
    vault = copy_project_notes(tmp_path / "vault")
    build_and_import(vault, anki_server)
    before = anki_notes(anki_server)
    anki_server.reset_counts()
    report = sync(vault, anki_server)
    assert nothing_to_send(report.plan) and report.plan.unchanged == 3, plan_lines(report.plan)
    assert anki_notes(anki_server) == before
    assert {a for a in anki_server.actions if a != "multi"} <= {
        "version",
        "deckNames",
        "deckNamesAndIds",
        "notesInfo",
        "notesModTime",
        "findNotes",
        "getDecks",
        "getMediaDirPath",
    }


def test_new_blocks_built_then_synced_are_the_same_notes(tmp_path, anki_server):
    files = {"a.md": "TARGET DECK: ML\n" + block("Q1", "A $x^2$") + block("Q2", "A2", tags="a b")}
    vault = write_vault(tmp_path / "v", files)
    build_and_import(vault, anki_server)
    built_ids = ids_in(vault / "a.md")
    report = sync(vault, anki_server)
    assert nothing_to_send(report.plan), plan_lines(report.plan)
    assert sorted(anki_notes(anki_server)) == sorted(built_ids)
    # and the sync keeps working on them: an edit updates the imported note in place
    (vault / "a.md").write_text((vault / "a.md").read_text().replace("A2", "A2 edited"))
    assert [u.note_id for u in sync(vault, anki_server).plan.updates] == [built_ids[1]]
    assert anki_notes(anki_server)[built_ids[1]]["fields"]["Back"] == "A2 edited"
