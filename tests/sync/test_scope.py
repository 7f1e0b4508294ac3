"""A sync of the files that changed alone (sync/scope.py): after an edit, the other files are
neither parsed nor planned, their records kept; and every case where that could be wrong
syncs the whole vault, each shown by what the shortcut would have missed. Against the
AnkiConnect test server, whose storage is a real Anki collection."""

from __future__ import annotations

import dataclasses

import pytest

import notecards.sync.run
from notecards.problems import NotecardsError
from notecards.sync.state import load_state, save_state
from tests.helpers.sync import a_month_on, anki_notes, edit_in_anki, nothing_to_send, sync
from tests.helpers.vault import block, ids_in, write_vault
from tests.render.test_check_after_build import check, fresh_check, no_render

PNG = b"\x89PNG\r\n\x1a\nfirst picture"
FILES = ("a.md", "b.md", "c.md", "d/e.md")

# Both releases: one finds the edits made in Anki by `edited:N`, the other by modification times.
pytestmark = pytest.mark.parametrize(
    "anki_server", [{}, {"mod_times": True}], ids=["2023", "25.11"], indirect=True
)


def _replace(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def synced(tmp_path, anki_server):
    """A vault of four files, a picture and a file of prose embedded in a card, synced (IDs
    written), its notes last modified a month ago, synced again: nothing left to do."""
    vault = write_vault(
        tmp_path / "v",
        {
            "a.md": block("Q1", "A1") + "\n" + block("Q2", "A2"),
            "b.md": block("Q3", "A3 ![[pic.png]]"),
            "c.md": block("Q4", "A4 ![[Topic#Loss]]"),
            "d/e.md": block("Q5", "A5 see [[a]]"),
            "Topic.md": "# Topic\n\n## Loss\nthe loss\n",
        },
    )
    (vault / "pic.png").write_bytes(PNG)
    sync(vault, anki_server)
    a_month_on(vault, anki_server)
    sync(vault, anki_server)
    state = load_state(vault, anki_server.url)
    assert state.as_left and len(state.files) == 5 and state.warned == frozenset()
    return vault


@pytest.fixture
def loaded(monkeypatch):
    """The files whose notes each load of a sync held (run.py), in order."""
    seen: list[set[str]] = []
    real = notecards.sync.run.load_vault

    def spy(*args, **kwargs):
        vault = real(*args, **kwargs)
        seen.append({note.path for note in vault.parsed.notes})
        return vault

    monkeypatch.setattr(notecards.sync.run, "load_vault", spy)
    return seen


def _front(server, front: str) -> list[int]:
    return [nid for nid, n in anki_notes(server).items() if n["fields"]["Front"] == front]


def test_an_edit_reads_its_file_alone_and_leaves_the_state_a_whole_sync_leaves(
    synced, anki_server, loaded
):
    _replace(synced / "a.md", "A1", "A1 edited")
    report = sync(synced, anki_server)
    assert loaded == [{"a.md"}]
    assert [u.note_id for u in report.plan.updates] == [ids_in(synced / "a.md")[0]]
    assert report.plan.unchanged == 4
    # The contents of the notes of the edited file come with the first request: then the
    # update, and a look at what Anki made of it.
    assert report.requests == 3
    assert "A1 edited" in anki_notes(anki_server)[ids_in(synced / "a.md")[0]]["fields"]["Back"]
    after = load_state(synced, anki_server.url)
    assert after.as_left and after.files.keys() == {*FILES, "Topic.md"}
    # The whole sync of the same vault finds nothing to do and keeps every record.
    save_state(synced, dataclasses.replace(after, as_left="", files={}))
    assert nothing_to_send(sync(synced, anki_server).plan)
    assert loaded[-1] == set(FILES)
    whole = load_state(synced, anki_server.url)
    assert whole.as_left == after.as_left and whole.files == after.files
    assert _but_times(whole.notes) == _but_times(after.notes)


def _but_times(records: dict) -> dict:
    """The records but Anki's modification times (a note Anki modified within the last
    second is looked at once more, and its time recorded then)."""
    return {nid: dataclasses.replace(r, anki_mod=0) for nid, r in records.items()}


def test_an_edit_right_after_another_asks_anki_as_often(synced, anki_server, loaded):
    """The note the sync before updated is looked at once more (Anki's times are whole
    seconds): where Anki answers modification times, its contents come with the first
    request, not in one of their own."""
    _replace(synced / "a.md", "A1", "A1 edited")
    sync(synced, anki_server)
    _replace(synced / "b.md", "A3", "A3 edited")
    anki_server.reset_counts()
    report = sync(synced, anki_server)
    assert loaded[-1] == {"a.md", "b.md"} and not report.pulled
    # (and once more after the update: what Anki made of it)
    asked = 2 if load_state(synced, anki_server.url).mod_times else 3
    assert anki_server.actions["notesInfo"] == asked


def test_a_new_card_gets_its_id_and_the_next_sync_has_nothing_to_do(
    synced, anki_server, loaded, monkeypatch
):
    with (synced / "b.md").open("a", encoding="utf-8") as file:
        file.write("\n" + block("Q6", "A6"))
    report = sync(synced, anki_server)
    assert loaded == [{"b.md"}] and len(report.plan.adds) == 1
    assert len(ids_in(synced / "b.md")) == 2 and len(_front(anki_server, "Q6")) == 1
    a_month_on(synced, anki_server)

    def refuse(*args, **kwargs):
        raise AssertionError("the whole sync ran for a vault with nothing to do")

    monkeypatch.setattr(notecards.sync.run, "sync_leaving_out", refuse)
    assert sync(synced, anki_server).plan.unchanged == 6


def test_a_conflict_in_the_edited_file_is_found(synced, anki_server, loaded):
    note_id = ids_in(synced / "a.md")[0]
    edit_in_anki(anki_server, note_id, Back="A1 from the phone")
    _replace(synced / "a.md", "A1", "A1 from the laptop")
    report = sync(synced, anki_server)
    assert loaded == [{"a.md"}]
    assert [c.note_id for c in report.plan.conflicts] == [note_id]
    assert not load_state(synced, anki_server.url).as_left


def test_an_edit_made_in_anki_to_a_note_of_another_file_comes_home(synced, anki_server, loaded):
    """The file of a note edited in Anki is read too."""
    note_id = ids_in(synced / "d" / "e.md")[0]
    edit_in_anki(anki_server, note_id, Back="A5 from the phone")
    _replace(synced / "a.md", "A1", "A1 edited")
    report = sync(synced, anki_server)
    assert loaded == [{"a.md", "d/e.md"}]
    assert [p.note_id for p in report.pulled] == [note_id]
    assert "A5 from the phone" in (synced / "d" / "e.md").read_text(encoding="utf-8")


def test_an_edit_made_in_anki_alone_reads_its_notes_file_alone(synced, anki_server, loaded):
    """No file changed: the sync that brings an edit made in Anki home reads that note's file
    (a pull of 100 notes of 10,000 cards spent a third of its time reading the others), and
    leaves the state a whole sync leaves."""
    note_id = ids_in(synced / "d" / "e.md")[0]
    edit_in_anki(anki_server, note_id, Back="A5 from the phone")
    report = sync(synced, anki_server)
    assert loaded == [{"d/e.md"}]
    assert [p.note_id for p in report.pulled] == [note_id] and nothing_to_send(report.plan)
    assert "A5 from the phone" in (synced / "d" / "e.md").read_text(encoding="utf-8")
    after = load_state(synced, anki_server.url)
    # The file as the pull wrote it is the vault as left: the next sync parses nothing.
    assert after.as_left and not sync(synced, anki_server).pulled and len(loaded) == 1
    save_state(synced, dataclasses.replace(after, as_left="", files={}))
    again = sync(synced, anki_server)
    assert nothing_to_send(again.plan) and not again.pulled and loaded[-1] == set(FILES)
    assert _but_times(load_state(synced, anki_server.url).notes) == _but_times(after.notes)


def test_a_pull_that_moves_a_files_lines_leaves_that_file_to_be_read(synced, anki_server, loaded):
    """A field pulled onto more lines moves the notes after it: the sync's parse of that file
    (its lines, in the verdict `check` reads) is not the file's, so the next sync reads it."""
    first, second = ids_in(synced / "a.md")
    edit_in_anki(anki_server, first, Back="<p>A1</p><p>from the phone</p>")
    report = sync(synced, anki_server)
    assert [p.note_id for p in report.pulled] == [first] and nothing_to_send(report.plan)
    assert "A1\n\nfrom the phone" in (synced / "a.md").read_text(encoding="utf-8")
    assert not load_state(synced, anki_server.url).as_left
    again = sync(synced, anki_server)
    assert nothing_to_send(again.plan) and not again.pulled and loaded[-1] == set(FILES)
    assert ids_in(synced / "a.md") == [first, second]


def test_edits_made_in_anki_in_most_files_read_the_whole_vault(tmp_path, anki_server, monkeypatch):
    """Files read alone are parsed without the parse cache: where the notes edited in Anki
    are in most of the vault's files (more than a few), the whole vault is read, from it."""
    files = {f"n{i:02d}.md": block(f"Q{i}", f"A{i}") for i in range(12)}
    vault = write_vault(tmp_path / "many", files)
    sync(vault, anki_server)
    a_month_on(vault, anki_server)
    sync(vault, anki_server)
    alone: list[object] = []  # what each load of a sync was to read alone (None: every file)
    real = notecards.sync.run.load_vault

    def spy(root, progress, read=None, only=None, *args, **kwargs):
        alone.append(only)
        return real(root, progress, read, only, *args, **kwargs)

    monkeypatch.setattr(notecards.sync.run, "load_vault", spy)
    notes = [ids_in(vault / name)[0] for name in files]
    edit_in_anki(anki_server, notes[0], Back="A0 from the phone")
    sync(vault, anki_server)
    assert alone == [{"n00.md"}]
    sync(vault, anki_server)
    for number, note_id in enumerate(notes):
        edit_in_anki(anki_server, note_id, Back=f"A{number} fixed")
    report = sync(vault, anki_server)
    assert alone[-1] is None and len(report.pulled) == len(files)
    # The same beside an edit of the vault's (the scope of its files, then theirs).
    sync(vault, anki_server)
    for number, note_id in enumerate(notes):
        edit_in_anki(anki_server, note_id, Back=f"A{number} fixed again")
    _replace(vault / "n00.md", "Q0", "Q0 edited")
    report = sync(vault, anki_server)
    assert alone[-1] is None and len(report.pulled) == len(files)
    assert anki_notes(anki_server)[notes[0]]["fields"]["Front"] == "Q0 edited"


def test_a_note_deleted_in_anki_is_added_again(synced, anki_server, loaded):
    note_id = ids_in(synced / "d" / "e.md")[0]
    with anki_server.collection() as col:
        col.remove_notes([note_id])
    _replace(synced / "a.md", "A1", "A1 edited")
    report = sync(synced, anki_server)
    assert loaded == [set(FILES)]
    assert [a.replaces for a in report.plan.adds] == [note_id]
    assert len(_front(anki_server, "Q5")) == 1


def test_an_id_also_in_a_file_not_read_is_a_duplicate(synced, anki_server, loaded):
    note_id = ids_in(synced / "b.md")[0]
    with (synced / "a.md").open("a", encoding="utf-8") as file:
        file.write("\n" + block("Q3 copied", "A3", note_id=note_id))
    with pytest.raises(NotecardsError) as raised:
        sync(synced, anki_server)
    assert any(f"duplicate ID {note_id}" in p.message for p in raised.value.problems)
    assert loaded == [{"a.md"}, set(FILES)]


def test_an_embedded_section_edited_updates_the_card_that_embeds_it(synced, anki_server, loaded):
    note_id = ids_in(synced / "c.md")[0]
    _replace(synced / "Topic.md", "the loss", "the new loss")
    report = sync(synced, anki_server)
    assert loaded == [set(FILES)]
    assert [u.note_id for u in report.plan.updates] == [note_id]
    assert "the new loss" in anki_notes(anki_server)[note_id]["fields"]["Back"]


def test_changed_settings_render_every_note(synced, anki_server, loaded):
    (synced / "notecards.yaml").write_text("default_deck: Elsewhere\n", encoding="utf-8")
    _replace(synced / "a.md", "A1", "A1 edited")
    sync(synced, anki_server)
    assert loaded == [set(FILES)]
    assert {d for n in anki_notes(anki_server).values() for d in n["decks"]} == {"Elsewhere"}


def test_a_changed_picture_of_a_file_not_edited_is_stored_again(synced, anki_server, loaded):
    (synced / "pic.png").write_bytes(PNG + b", edited")
    _replace(synced / "a.md", "A1", "A1 edited")
    report = sync(synced, anki_server)
    assert loaded == [set(FILES)]
    assert [m.anki_name for m in report.plan.media] == ["pic.png"]


@pytest.mark.parametrize("change", ["added", "removed", "renamed"])
def test_a_file_added_removed_or_renamed_syncs_the_whole_vault(synced, anki_server, loaded, change):
    _replace(synced / "a.md", "A1", "A1 edited")
    b_id = ids_in(synced / "b.md")[0]
    if change == "added":
        (synced / "f.md").write_text(block("Q8", "A8"), encoding="utf-8")
    elif change == "removed":
        (synced / "b.md").unlink()
    else:
        (synced / "b.md").rename(synced / "b2.md")
    report = sync(synced, anki_server)
    assert len(loaded) == 1 and "d/e.md" in loaded[0]
    records = load_state(synced, anki_server.url).notes
    if change == "added":
        assert len(_front(anki_server, "Q8")) == 1
    elif change == "removed":
        assert any("its block is gone" in p.message for p in report.plan.problems)
    else:
        assert records[b_id].path == "b2.md"  # (a later sync of b2.md's edit reads it)


def test_a_sync_interrupted_after_adding_is_recovered_first(
    synced, anki_server, monkeypatch, loaded
):
    """Its adds are in Anki without their IDs in the vault: the whole sync finds them."""
    with (synced / "a.md").open("a", encoding="utf-8") as file:
        file.write("\n" + block("Q9", "A9"))

    def crash(step: str) -> None:
        if step == "notes_added":
            raise KeyboardInterrupt  # (stops the sync there, as a kill does)

    monkeypatch.setattr(notecards.sync.run, "fault_point", crash)
    with pytest.raises(KeyboardInterrupt):
        sync(synced, anki_server)
    monkeypatch.setattr(notecards.sync.run, "fault_point", lambda step: None)
    _replace(synced / "b.md", "A3", "A3 edited")
    loaded.clear()
    report = sync(synced, anki_server)
    assert loaded == [set(FILES), set(FILES)]  # (and again once the IDs are written)
    assert len(report.recovered) == 1
    assert len(_front(anki_server, "Q9")) == 1 and len(ids_in(synced / "a.md")) == 3


def test_the_days_first_two_way_sync_reads_every_file(synced, anki_server, loaded):
    state = load_state(synced, anki_server.url)
    save_state(synced, dataclasses.replace(state, synced_at=state.synced_at - 86400))
    _replace(synced / "a.md", "A1", "A1 edited")
    sync(synced, anki_server)
    assert loaded == [set(FILES)]


@pytest.mark.parametrize("option", ["force", "dry_run"])
def test_force_and_dry_run_read_every_file(synced, anki_server, loaded, option):
    _replace(synced / "a.md", "A1", "A1 edited")
    sync(synced, anki_server, **{option: True})
    assert loaded == [set(FILES)]


def test_a_note_warned_about_syncs_the_whole_vault(synced, anki_server, loaded):
    """A record with a warning is rendered again by the whole sync, for check's verdict."""
    _replace(synced / "b.md", "A3", "| $a|b$ | c |")
    sync(synced, anki_server)
    sync(synced, anki_server)
    state = load_state(synced, anki_server.url)
    assert state.as_left and state.warned
    _replace(synced / "a.md", "A1", "A1 edited")
    sync(synced, anki_server)
    assert loaded[-1] == set(FILES)


def test_check_after_it_says_what_a_fresh_check_says(synced, anki_server, tmp_path, monkeypatch):
    """The verdict it leaves holds what the last one said of the files it did not read (a
    parse warning there), and renders nothing."""
    write_vault(synced, {"g.md": "prose\nEND\n"})  # END without START: a warning
    sync(synced, anki_server)
    sync(synced, anki_server)
    assert load_state(synced, anki_server.url).as_left
    _replace(synced / "a.md", "A1", "A1 edited")
    sync(synced, anki_server)
    expected = fresh_check(synced, tmp_path)
    assert "g.md:2: warning: END without START" in expected[2]
    no_render(monkeypatch)
    assert check(synced) == expected
