"""The planner as a table of situations: vault, Anki, last push -> what must change."""

from __future__ import annotations

import json

import pytest

from notecards.hashing import field_digest
from notecards.model import Deletion, MediaRef, Note
from notecards.sync.notes import Rendered, Unrendered
from notecards.sync.plan import make_plan, needs_deck_check, needs_render, tag_changes
from notecards.sync.state import (
    FORMAT,
    PushedMedia,
    PushedNote,
    SyncState,
    load_state,
    save_state,
    state_path,
)
from notecards.targets.ankiconnect import AnkiNote
from tests.helpers.sync import nothing_to_send

ID = 1764591468175


def note(note_id=ID, deck="ML", tags=("ml",), path="a.md", line=3) -> Note:
    return Note("Basic", {"Front": "q", "Back": "a"}, tags, deck, note_id, path, line, line + 5)


def target(fields=None, **kw) -> Rendered:
    return Rendered(
        note(**kw), "hash-now", fields if fields is not None else {"Front": "Q", "Back": "A"}
    )


def anki(fields=None, tags=("ml",), cards=(11,), note_id=ID) -> dict[int, AnkiNote]:
    fields = fields if fields is not None else {"Front": "Q", "Back": "A"}
    return {note_id: AnkiNote(note_id, "Basic", fields, tags, cards)}


def pushed(fields=None, tags=("ml",), deck="ML", digest="hash-then", deps=()) -> SyncState:
    fields = fields if fields is not None else {"Front": "Q", "Back": "A"}
    hashes = {name: field_digest(value) for name, value in fields.items()}
    record = PushedNote(digest, hashes, list(tags), deck, "a.md", deps=json.dumps(deps))
    return SyncState(notes={ID: record})


def resolves_as_then(pushed, path) -> bool:
    return True


def resolves_otherwise(pushed, path) -> bool:
    return False


def plan(targets, anki_notes, state=None, card_decks=None, decks=("ML", "Default"), **kw):
    return make_plan(targets, anki_notes, card_decks or {}, decks, state or SyncState(), **kw)


def test_unchanged_note_changes_nothing():
    p = plan([target()], anki(), pushed(digest="hash-now"))
    assert nothing_to_send(p) and p.unchanged == 1 and not p.conflicts


def test_new_note_is_added_and_its_deck_created():
    p = plan([target(note_id=None, deck="New::Deck")], {})
    assert [a.block.note.deck for a in p.adds] == ["New::Deck"]
    assert p.decks == ["New::Deck"] and p.adds[0].replaces is None


def test_note_deleted_in_anki_is_recreated_under_a_new_id():
    p = plan([target()], {}, pushed())  # notecards pushed it to this Anki before
    assert p.adds[0].replaces == ID and p.recreated == p.adds and not p.restored


def test_an_id_this_anki_never_had_is_restored_under_its_own_id():
    p = plan([target()], {})
    assert p.restored == p.adds and p.adds[0].replaces == ID
    assert plan([target()], {}, restore_ids=False).recreated  # Anki cannot read our package


def test_only_the_changed_field_is_sent():
    p = plan([target({"Front": "Q", "Back": "A2"})], anki(), pushed())
    assert p.updates[0].fields == {"Back": "A2"}


@pytest.mark.parametrize(
    ("vault_back", "anki_back", "last_back", "outcome"),
    [
        ("A2", "A", "A", "update"),  # changed in the vault only
        ("A", "A3", "A", "kept"),  # changed in Anki only: Anki's edit stays
        ("A2", "A3", "A", "conflict"),  # changed on both sides
        ("A2", "A2", "A", "same"),  # both sides already agree
        ("A2", "A3", None, "update"),  # no record of the last push: the vault wins
    ],
)
def test_three_way_merge_of_a_field(vault_back, anki_back, last_back, outcome):
    state = pushed({"Front": "Q", "Back": last_back}) if last_back else SyncState()
    p = plan(
        [target({"Front": "Q", "Back": vault_back})], anki({"Front": "Q", "Back": anki_back}), state
    )
    got = "conflict" if p.conflicts else "kept" if p.kept else "update" if p.updates else "same"
    assert got == outcome


def test_force_pushes_the_vault_over_a_conflict():
    p = plan(
        [target({"Front": "Q", "Back": "A2"})],
        anki({"Front": "Q", "Back": "A3"}),
        pushed(),
        force=True,
    )
    assert not p.conflicts and p.updates[0].fields == {"Back": "A2"}


def test_a_conflict_keeps_the_old_record_so_it_is_reported_again():
    state = pushed()
    p = plan([target({"Front": "Q", "Back": "A2"})], anki({"Front": "Q", "Back": "A3"}), state)
    assert p.pushed[ID] is state.notes[ID]


@pytest.mark.parametrize(
    ("desired", "in_anki", "last", "add", "remove"),
    [
        (["ml", "new"], ["ml"], ["ml"], ("new",), ()),
        (["ml"], ["ml", "mine"], ["ml"], (), ()),  # added in Anki: never removed
        (["ml"], ["ml", "old"], ["ml", "old"], (), ("old",)),  # removed in the vault
        (["ml"], [], ["ml"], (), ()),  # removed in Anki, unchanged in the vault: stays removed
        (["ml"], [], None, ("ml",), ()),  # no record: Anki gets the vault's tags
        (["ML"], ["ml"], None, (), ()),  # Anki's tags ignore case
    ],
)
def test_tag_changes_touch_only_managed_tags(desired, in_anki, last, add, remove):
    assert tag_changes(desired, in_anki, last) == (add, remove)


def test_deck_change_in_the_vault_moves_the_cards():
    p = plan([target(deck="Other")], anki(), pushed(deck="ML"), card_decks={11: "ML"})
    assert p.updates[0].move_cards == (11,) and p.updates[0].deck == "Other"
    assert p.decks == ["Other"]


def test_a_move_made_in_anki_stays_when_the_vault_did_not_move_the_note():
    p = plan([target()], anki(), pushed(digest="hash-now"), card_decks={11: "Elsewhere"})
    assert nothing_to_send(p)
    assert needs_deck_check(note(), pushed()) is False
    assert needs_deck_check(note(deck="Other"), pushed()) is True


def test_note_type_alone_is_not_a_change():
    imported = {ID: AnkiNote(ID, "Basic (notecards)", {"Front": "Q", "Back": "A"}, ("ml",), (11,))}
    p = plan([target()], imported, card_decks={11: "ML"})
    assert nothing_to_send(p) and p.unchanged == 1


def test_delete_line_deletes_a_note_anki_has():
    deletion = Deletion(ID, "a.md", 9, 0, 0)
    assert [d.note_id for d in plan([], anki(), deletions=[deletion]).deletes] == [ID]
    assert plan([], {}, deletions=[deletion]).deletes == []


def test_prune_deletes_only_with_the_flag():
    state = pushed()
    kept = plan([], anki(), state)
    assert kept.deletes == [] and kept.pushed[ID] is state.notes[ID] and kept.problems
    assert [d.note_id for d in plan([], anki(), state, prune=True).deletes] == [ID]


def test_media_is_stored_only_when_new_or_changed():
    t = Rendered(note(), "h", {"Front": "Q", "Back": "A"}, (MediaRef("img/a.png", "a.png"),))
    state = pushed(digest="h")
    state.media = {"a.png": PushedMedia("sha-old", "img/a.png", 3, 1)}
    assert plan([t], anki(), state, media_hashes={"a.png": "sha-old"}).media == []
    assert [m.anki_name for m in plan([t], anki(), state, media_hashes={"a.png": "x"}).media] == [
        "a.png"
    ]


def test_unchanged_source_is_not_rendered():
    state = pushed(digest="same")
    assert not needs_render(note(), "same", state, resolves_as_then)
    assert needs_render(note(), "other", state, resolves_as_then)
    assert needs_render(note(note_id=None), "same", state, resolves_as_then)


def test_unchanged_source_whose_links_now_resolve_elsewhere_is_rendered():
    state = pushed(digest="same", deps=[("note", "b", "sub/b")])
    assert needs_render(note(), "same", state, resolves_otherwise)
    assert not needs_render(note(), "same", state, resolves_as_then)
    state.notes[ID].deps = None  # a state from before deps were kept: not known
    assert needs_render(note(), "same", state, resolves_as_then)


def test_unchanged_source_needs_only_presence_in_anki():
    unrendered = Unrendered(note(), "same")
    state = pushed(digest="same")
    p = plan([unrendered], {}, state, present={ID})  # no notesInfo for it at all
    assert nothing_to_send(p) and p.unchanged == 1 and p.pushed[ID] is state.notes[ID]
    with pytest.raises(ValueError, match="rendered first"):
        plan([unrendered], {}, state, present=set())  # gone from Anki: must be rendered
    assert needs_render(note(), "same", state, resolves_as_then, force=True)  # Anki's copy


def test_state_holds_hashes_of_what_was_pushed_and_round_trips(tmp_path):
    state = pushed({"Front": "Q", "Back": "<b>a long answer</b>"})
    state.url, state.pending_tag = "http://127.0.0.1:8765", "notecards::pending::abc"
    state.media = {"a.png": PushedMedia("sha", "img/a.png", 3, 1_700_000_000_123_456_789)}
    state.notes[ID].deps = json.dumps([["note", "b", "sub/b"], ["media", "a.png", "a.png\0a.png"]])
    state.vault_files = "digest-of-the-file-list"
    save_state(tmp_path, state)
    assert "a long answer" not in state_path(tmp_path).read_text()
    assert load_state(tmp_path, state.url) == state
    assert load_state(tmp_path, "http://127.0.0.1:9999").notes == {}  # another Anki


def test_a_state_of_the_previous_format_loads_with_its_links_unknown(tmp_path):
    state = pushed()
    row = ["hash-then", state.notes[ID].fields, ["ml"], "ML", "a.md", [["img/a.png", "a.png"]]]
    old = {
        "format": 2,
        "url": "u",
        "notes": {str(ID): row},
        "media": {"a.png": "sha"},
        "pending": {"a.md:3": "notecards::pending::abc"},
    }
    state_path(tmp_path).parent.mkdir()
    state_path(tmp_path).write_text(json.dumps(old))
    loaded = load_state(tmp_path, "u")
    assert FORMAT > 2 and loaded.notes[ID].fields == state.notes[ID].fields
    assert loaded.notes[ID].deps is None  # so the note is rendered once and compared
    assert loaded.media["a.png"].digest == "sha" and loaded.media["a.png"].size == -1
    assert loaded.pending_tag == "notecards::pending::abc"
