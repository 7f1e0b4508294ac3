"""Tags in the form Anki stores them, checked against a real collection: what notecards
pushes is what it later reads back, so a tag is never mistaken for an edit made in Anki."""

from __future__ import annotations

import pytest

from notecards.parse.tags import split_tags, to_anki_tag

ODD_TAGS = [
    "plain",
    "#obsidian/nested",
    "\x08",
    "a\x08b",
    "b\x00",
    "\x7f",
    "a::::b",
    "::a",
    "a::",
    "a:::::b",
    "cafe\u0301",
    "a\u0085b",
    "x::\x1b::y",
]


def test_each_odd_tag_is_what_a_real_collection_stores(tmp_path):
    collection_module = pytest.importorskip("anki.collection")
    col = collection_module.Collection(str(tmp_path / "c.anki2"))
    try:
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"] = "x"
        col.add_note(note, 1)
        for tag in ODD_TAGS:
            ours = to_anki_tag(tag)
            note = col.get_note(note.id)
            note.tags = [ours]
            col.update_note(note)
            assert col.get_note(note.id).tags == [ours], repr(tag)
    finally:
        col.close()


def test_a_word_that_is_only_a_hash_is_no_tag():
    assert split_tags("# a") == ["a"]
