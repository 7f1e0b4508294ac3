"""Sync with Anki on this machine: new notes arrive by one package import (notecards/importer.py),
under IDs chosen beforehand, in the user's own note types, and with the guids `build` gives."""

from __future__ import annotations

import sqlite3
import tempfile
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from notecards.ids import now_ms
from notecards.sync.importer import ID_MARGIN_MS
from notecards.targets.package import note_guid
from tests.helpers.collection import stored_notes
from tests.helpers.sync import (
    ANKI_ELSEWHERE,
    anki_notes,
    build_and_import,
    copy_project_notes,
    run_cli,
    sync,
)
from tests.helpers.vault import block, ids_in, write_vault

CLOZE = "START\nCloze\n{{c1::Gradient}} descent follows the {{c2::negative}} gradient.\nEND\n"
REVERSED = "START\nBasic (and reversed card)\npolicy\nBack: what acts\nEND\n"


def _note_types(server) -> dict[str, dict]:
    """Every note type as Anki holds it, and the schema time (a change forces a full sync)."""
    with server.collection() as col:
        return {"schema changed at": col.db.scalar("select scm from col")} | {
            m["name"]: m for m in col.models.all()
        }


def test_new_notes_are_imported_into_the_users_own_note_types(tmp_path, anki_server):
    types_before = _note_types(anki_server)
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A $x^2$") + REVERSED + CLOZE})
    report = sync(vault, anki_server)
    assert not report.errors
    assert anki_server.actions["importPackage"] == 1 and anki_server.actions["addNotes"] == 0
    with anki_server.collection() as col:
        notes = stored_notes(col)
    assert sorted(notes) == sorted(ids_in(vault / "a.md"))
    assert sorted(n.note_type for n in notes.values()) == [
        "Basic", "Basic (and reversed card)", "Cloze"
    ]  # fmt: skip
    assert _note_types(anki_server) == types_before  # no copy, no change to the user's types
    cards = {n.note_type: len(n.card_ids) for n in notes.values()}
    assert cards == {"Basic": 1, "Basic (and reversed card)": 2, "Cloze": 2}
    guids = {i: n.guid for i, n in notes.items()}
    assert guids == {i: note_guid(i) for i in notes}  # the guid a `build` package gives


def test_a_note_type_the_user_changed_is_used_as_it_is(tmp_path, anki_server):
    with anki_server.collection() as col:
        basic = col.models.by_name("Basic")
        col.models.add_field(basic, col.models.new_field("Source"))
        basic["css"] = ".card { color: navy }"
        basic["tmpls"][0]["qfmt"] = "<h1>{{Front}}</h1>"
        col.models.update_dict(basic)
    types_before = _note_types(anki_server)
    vault = write_vault(tmp_path / "v", {"a.md": block("Q", "A")})
    assert not sync(vault, anki_server).errors
    (note,) = anki_notes(anki_server).values()
    assert note["model"] == "Basic"
    assert note["fields"] == {"Front": "Q", "Back": "A", "Source": ""}
    assert _note_types(anki_server) == types_before


def test_a_note_type_anki_lacks_comes_from_the_vault(tmp_path, anki_server):
    config = (
        "note_types:\n  - name: Vocab\n    fields: [Word, Meaning]\n    templates:\n"
        "      - name: Recall\n        qfmt: '{{Word}}'\n        afmt: '{{Meaning}}'\n"
    )
    card = "START\nVocab\nentropy\nMeaning: expected surprise\nEND\n"
    vault = write_vault(tmp_path / "v", {"notecards.yaml": config, "a.md": card})
    assert not sync(vault, anki_server).errors
    (note,) = anki_notes(anki_server).values()
    assert note["model"] == "Vocab"
    assert note["fields"] == {"Word": "entropy", "Meaning": "expected surprise"}


def test_ids_anki_already_holds_are_never_chosen(tmp_path, anki_server, monkeypatch):
    """Notes of Anki's on the IDs just below "now" (imported from elsewhere) keep them."""
    now = now_ms()
    monkeypatch.setattr("notecards.sync.importer.now_ms", lambda: now)
    first = now - ID_MARGIN_MS - 5  # three new notes: six candidates, first to now - margin
    taken = [first, first + 2, first + 4]
    others = write_vault(tmp_path / "others", {"o.md": "".join(
        block(f"someone else's {i}", "x", note_id=i) for i in taken
    )})  # fmt: skip
    build_and_import(others, anki_server)

    vault = write_vault(tmp_path / "v", {"a.md": block("Q1", "A") + block("Q2", "A") + CLOZE})
    assert not sync(vault, anki_server).errors
    assert ids_in(vault / "a.md") == [first + 1, first + 3, first + 5]
    notes = anki_notes(anki_server)
    assert len(notes) == 6 and anki_server.actions["addNotes"] == 0
    assert all(notes[i]["fields"]["Front"] == f"someone else's {i}" for i in taken)


@pytest.mark.parametrize("anki_server", [{"packages_unreadable": True}], indirect=True)
def test_when_the_import_fails_the_notes_go_through_addnotes(tmp_path, anki_server):
    """A Flatpak Anki: its media folder is ours to see, yet it cannot open the vault's files."""
    vault = write_vault(tmp_path / "v", {"a.md": block("Q1", "A") + block("Q2", "A")})
    report = sync(vault, anki_server)
    assert not report.problems
    assert anki_server.actions["importPackage"] == 1 and anki_server.actions["addNotes"] == 1
    assert sorted(anki_notes(anki_server)) == sorted(ids_in(vault / "a.md"))


@pytest.mark.parametrize("anki_server", [ANKI_ELSEWHERE], indirect=True)
def test_an_anki_in_another_file_system_is_not_sent_a_package(tmp_path, anki_server):
    """WSL or a container: no import is tried, and a note Anki lacks is added under a new ID."""
    files = {"a.md": block("Q1", "A") + block("Q2", "A", note_id=1700000000001)}
    vault = write_vault(tmp_path / "v", files)
    report = sync(vault, anki_server)
    assert not report.errors
    assert anki_server.actions["importPackage"] == 0 and anki_server.actions["addNotes"] == 1
    new_ids = ids_in(vault / "a.md")
    assert sorted(anki_notes(anki_server)) == sorted(new_ids) and 1700000000001 not in new_ids


@pytest.mark.parametrize("anki_server", [{"packages_unreadable": True}], indirect=True)
def test_a_note_that_cannot_be_restored_under_its_id_is_reported(tmp_path, anki_server):
    vault = copy_project_notes(tmp_path / "vault")
    report = sync(vault, anki_server)
    assert len(report.errors) == 3 and anki_notes(anki_server) == {}
    assert "not restored under its own ID: Anki could not import" in report.errors[0].message


def test_a_package_built_after_a_sync_adds_no_second_copy(tmp_path, anki_server):
    """The other direction of test_build_then_sync: the notes share their guids."""
    vault = write_vault(tmp_path / "v", {"a.md": block("Q1", "A1") + block("Q2", "A2")})
    sync(vault, anki_server)
    synced = anki_notes(anki_server)
    build_and_import(vault, anki_server)
    assert sorted(anki_notes(anki_server)) == sorted(synced)


def test_a_duplicate_first_field_is_refused_with_file_and_line(tmp_path, anki_server):
    """SYNTAX.md: a duplicate first field is an error at file:line, imported or not."""
    sync(write_vault(tmp_path / "old", {"old.md": block("What is DPO?", "a loss")}), anki_server)
    anki_server.reset_counts()
    files = {"a.md": block("What is <b>DPO</b>?", "again") + block("Q", "A") + block("Q", "B")}
    vault = write_vault(tmp_path / "v", files)
    result = run_cli(str(vault), "--url", anki_server.url)
    assert result.exit_code == 5
    refused = "Anki refused the note: cannot create note because it is a duplicate"
    assert f"a.md:1: {refused}" in result.output and f"a.md:13: {refused}" in result.output
    fronts = sorted(n["fields"]["Front"] for n in anki_notes(anki_server).values())
    assert fronts == ["Q", "What is DPO?"]
    assert anki_server.actions["importPackage"] == 1  # "Q" arrived by import all the same


def test_a_note_anki_files_under_another_id_is_recovered_on_the_next_sync(
    tmp_path, anki_server, monkeypatch
):
    """Someone takes a chosen ID between the check and the import (produced for real: a note
    is put on that ID just before the server imports), so Anki's importer moves ours to
    another ID. The sync must not write the taken ID; the next one finds the note."""
    api = anki_server._api
    real_import = api.importPackage

    def import_after_a_rival(path: str) -> bool:
        with zipfile.ZipFile(path) as package, tempfile.TemporaryDirectory() as tmp:
            package.extract("collection.anki2", tmp)
            with closing(sqlite3.connect(Path(tmp) / "collection.anki2")) as db:
                (first_id,) = db.execute("select min(id) from notes").fetchone()
        rival = api.col.new_note(api.col.models.by_name("Basic"))
        rival["Front"] = "a rival"
        api.col.add_note(rival, 1)
        api.col.db.execute("update notes set id = ? where id = ?", first_id, rival.id)
        api.col.db.execute("update cards set nid = ? where nid = ?", first_id, rival.id)
        return real_import(path)

    import_after_a_rival.is_api_action = True  # type: ignore[attr-defined]
    monkeypatch.setattr(api, "importPackage", import_after_a_rival)
    vault = write_vault(tmp_path / "v", {"a.md": block("Q1", "A") + block("Q2", "A")})
    report = sync(vault, anki_server)
    (problem,) = report.errors
    assert (problem.path, problem.line) == ("a.md", 1)
    assert problem.message.startswith("Anki did not keep note ")
    assert len(ids_in(vault / "a.md")) == 1  # Q2's ID only

    monkeypatch.setattr(api, "importPackage", real_import)
    report = sync(vault, anki_server)
    assert not report.errors and len(report.recovered) == 1 and not report.plan.adds
    notes = anki_notes(anki_server)
    fronts = sorted(notes[i]["fields"]["Front"] for i in ids_in(vault / "a.md"))
    assert fronts == ["Q1", "Q2"] and len(notes) == 3  # and the rival, untouched


def test_the_imported_cards_are_checked_in_the_import_request_and_moved(tmp_path, anki_server):
    """The new deck is created in the import's first request and the deck check of the
    imported notes goes in the import's own, two round trips fewer: Anki answers the check
    once the import is done, so a card the import filed elsewhere (here moved to Default just
    after it) is seen and moved."""
    anki_server.after_answer("importPackage", lambda col: col.db.execute("update cards set did=1"))
    files = {"a.md": "TARGET DECK: ML::DPO\n" + block("Q1", "A") + block("Q2", "A")}
    vault = write_vault(tmp_path / "v", files)
    report = sync(vault, anki_server)
    assert not report.problems and len(ids_in(vault / "a.md")) == 2
    assert [n["decks"] for n in anki_notes(anki_server).values()] == [["ML::DPO"]] * 2
    assert anki_server.actions["changeDeck"] == 1
    # Anki's notes, decks and media folder; the new deck, the note types, IDs and duplicate
    # check; the import and its check; the move; the pending tag's removal and the read back.
    assert report.requests == anki_server.requests == 5
