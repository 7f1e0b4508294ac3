"""answers_as_pushed: a two-way no-op tells the notes Anki shows modified from `notesInfo`'s
entries as they are, before a note is built of each; it must say what `differs` says of the
notes built, and leave every entry it cannot read to parse_notes_info (which reports it)."""

from __future__ import annotations

import copy

import pytest

from notecards.hashing import field_digest
from notecards.sync.read_anki import answers_as_pushed, differs
from notecards.sync.state import PENDING_TAG, PushedNote, SyncState
from notecards.targets.ankiconnect import parse_notes_info

PUSHED = {1: ("the front", "the back", ["ml", "DPO"]), 2: ("q", "a <b>b</b>", ["ml"])}


def _state() -> SyncState:
    notes = {
        nid: PushedNote(
            "src", {"Front": field_digest(f), "Back": field_digest(b)}, tags, "D", "a.md"
        )
        for nid, (f, b, tags) in PUSHED.items()
    }
    return SyncState(notes=notes)


def _answer() -> list[dict]:
    """`notesInfo`'s entries for notes 1 and 2 as pushed (the tags as Anki orders them)."""
    return [
        {
            "noteId": nid,
            "modelName": "Basic",
            "fields": {"Front": {"value": f, "order": 0}, "Back": {"value": b, "order": 1}},
            "tags": sorted(tags),
            "cards": [nid * 10],
        }
        for nid, (f, b, tags) in PUSHED.items()
    ]


def _edit(change):
    answer = _answer()
    change(answer)
    return answer


EDITS = {
    "as pushed": lambda a: None,
    "a field edited": lambda a: a[1]["fields"]["Back"].update(value="a <b>c</b>"),
    "a tag added": lambda a: a[0]["tags"].append("exam"),
    "a tag removed": lambda a: a[0]["tags"].remove("ml"),
    "a tag's case": lambda a: a[0]["tags"].__setitem__(0, "dpo"),
    "the pending tag": lambda a: a[1]["tags"].append(PENDING_TAG + "::v"),
    "a review's tag": lambda a: a[1]["tags"].append("leech"),
    "a field Anki has no more": lambda a: a[0]["fields"].pop("Back"),
}


@pytest.mark.parametrize("edit", list(EDITS.values()), ids=list(EDITS))
def test_it_says_what_differs_says_of_the_notes_built(edit):
    state, answer = _state(), _edit(edit)
    notes = parse_notes_info(copy.deepcopy(answer))
    as_pushed = not any(differs(notes[nid], state.notes[nid]) for nid in PUSHED)
    assert answers_as_pushed(answer, list(PUSHED), state) is as_pushed


BAD = {
    "a note Anki does not have": lambda a: a.__setitem__(1, {}),
    "another shape": lambda a: a[0]["fields"]["Front"].update(value=None),
    "tags of another shape": lambda a: a[0].update(tags="ml DPO"),
    "another order": lambda a: a.reverse(),
    "one entry short": lambda a: a.pop(),
}


@pytest.mark.parametrize("edit", list(BAD.values()), ids=list(BAD))
def test_an_entry_it_cannot_read_is_left_to_the_parse(edit):
    assert not answers_as_pushed(_edit(edit), list(PUSHED), _state())
