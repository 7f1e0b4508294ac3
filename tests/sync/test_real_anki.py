"""`notecards sync` and `notecards pull` against the real Anki desktop with each real AnkiConnect
release: what the project's test server stands in for, met for real.

One desktop per release for the whole module (a start costs 3 to 4 s, a test 1 s): each test
starts by deleting the notes the one before made (2 requests) and syncs a fresh copy of its
vault. The tests that open Anki's Browser come last; its window stays open, showing no note.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from notecards.cli import cli
from tests.helpers.real_anki import RELEASES, RealAnki, running_anki
from tests.helpers.sync import copy_project_notes
from tests.helpers.vault import block, ids_in, write_vault

pytestmark = pytest.mark.real_anki

NOTE_FILE = "LLM post-training.md"
FIRST, SECOND = 1764591468175, 1764591468178  # the file's first two blocks
USER_IDS = sorted([FIRST, SECOND, 1764257200499])
# Anki's editor saves what it would store in another form about 1.0 to 1.3 s after a warm
# Browser is asked to show a note (2 s for the first note a new Browser shows).
EDITOR_SETTLES_S = 2.0
BROWSER_STARTS_S = 3.0
# notesModTime counts whole seconds: an edit made in the second the last sync read them looks
# like no edit to it. A person's edit comes later than that.
MOD_TIME_RESOLUTION_S = 1.0


@pytest.fixture(scope="module", params=RELEASES)
def desktop(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealAnki]:
    with running_anki(request.param, tmp_path_factory.mktemp("real-anki")) as anki:
        yield anki


@pytest.fixture
def anki(desktop: RealAnki) -> RealAnki:
    """The module's desktop, emptied of the notes an earlier test made."""
    desktop.delete_all_notes()
    return desktop


def notecards(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def sync(vault: Path, anki: RealAnki) -> dict[str, Any]:
    """`notecards sync VAULT --url URL --json`, which must succeed; its JSON document."""
    result = notecards("sync", vault, "--url", anki.url, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def what_changed(document: dict[str, Any]) -> dict[str, Any]:
    """Each count of a sync's document but `unchanged` that is not 0, and the fields brought
    home from Anki: `{}` for a sync that had nothing to do."""
    changed = {k: v for k, v in document["counts"].items() if v and k != "unchanged"}
    if document.get("pulled"):
        changed["pulled"] = document["pulled"]
    return changed


def notes_info(anki: RealAnki) -> dict[int, dict[str, Any]]:
    """id -> what notesInfo says of each note (25.11.9 also says `mod`)."""
    return {n["noteId"]: n for n in anki.invoke("notesInfo", notes=anki.note_ids())}


def field(anki: RealAnki, note_id: int, name: str) -> str:
    return notes_info(anki)[note_id]["fields"][name]["value"]


def in_block(text: str, note_id: int, old: str, new: str) -> str:
    """`text` with `old`, which the block of `note_id` holds once, replaced by `new` there."""
    end = text.index(f"<!--ID: {note_id}-->")
    start = text.rindex("START", 0, end)
    assert text.count(old, start, end) == 1
    at = text.index(old, start)
    return text[:at] + new + text[at + len(old) :]


def edit_block(vault: Path, note_id: int, old: str, new: str) -> bytes:
    """The user edits the block of `note_id` in the vault; the file's new bytes."""
    path = vault / NOTE_FILE
    path.write_bytes(in_block(path.read_text(encoding="utf-8"), note_id, old, new).encode())
    return path.read_bytes()


def test_the_users_notes_arrive_with_their_ids_deck_tags_and_math(tmp_path, anki):
    vault = copy_project_notes(tmp_path / "vault")
    before = (vault / NOTE_FILE).read_bytes()
    sync(vault, anki)
    notes = notes_info(anki)
    assert sorted(notes) == USER_IDS
    assert {n["modelName"] for n in notes.values()} == {"Basic"}
    assert all(n["tags"] == ["ml", "WS2526"] for n in notes.values())
    cards = anki.invoke("cardsInfo", cards=[c for n in notes.values() for c in n["cards"]])
    assert sorted(c["note"] for c in cards) == USER_IDS  # one card each
    assert {c["deckName"] for c in cards} == {"Default"}  # the vault names no other deck
    back = notes[FIRST]["fields"]["Back"]["value"]
    dpo = (
        r"\ell_\mathrm{DPO} = -\log \sigma\left(\beta[\log \pi_\theta(Y^+ | X)"
        r" - \log \pi_\theta(Y^- | X)]\right)"
    )
    assert f"\\[{dpo}\\]" in back
    assert r"\(\pi_\theta(Y^+ | X) &gt; \pi_\theta(Y^- | X)\)" in back
    assert (vault / NOTE_FILE).read_bytes() == before  # the IDs were kept: nothing written

    again = sync(vault, anki)
    assert what_changed(again) == {} and again["counts"]["unchanged"] == 3
    assert notes_info(anki) == notes
    assert (vault / NOTE_FILE).read_bytes() == before


def test_new_notes_land_in_their_deck_and_get_their_anki_ids(tmp_path, anki):
    """A desktop on this machine takes new notes by a package import: into their deck (not
    Default, where the 2023 release's addNotes would put them), under the IDs written back."""
    deck = f"Real::{anki.release}"
    vault = write_vault(tmp_path / "v", {"a.md": f"TARGET DECK: {deck}\n" + block("Q", "A $x$")})
    sync(vault, anki)
    (note_id,) = ids_in(vault / "a.md")
    assert anki.note_ids() == [note_id]
    (card,) = anki.invoke("cardsInfo", cards=notes_info(anki)[note_id]["cards"])
    assert card["deckName"] == deck
    assert card["fields"]["Back"]["value"] == r"A \(x\)"


def test_a_vault_edit_updates_the_same_note(tmp_path, anki):
    vault = copy_project_notes(tmp_path / "vault")
    sync(vault, anki)
    before = notes_info(anki)
    edit_block(vault, FIRST, "training on preference?", "training on human preference?")
    document = sync(vault, anki)
    assert [(u["note_id"], u["fields"]) for u in document["update"]] == [(FIRST, ["Front"])]
    after = notes_info(anki)
    assert sorted(after) == USER_IDS  # the same notes: none added, none recreated
    assert "training on human preference?" in after[FIRST]["fields"]["Front"]["value"]
    assert after[FIRST]["fields"]["Back"] == before[FIRST]["fields"]["Back"]
    assert all(after[i] == before[i] for i in USER_IDS if i != FIRST)


@pytest.mark.parametrize("command", ["pull", "sync"])
def test_a_word_fixed_in_anki_comes_home_as_that_word_alone(tmp_path, anki, command):
    """Two-way: `pull`, and `sync` (two-way by default), write the fix into the markdown and
    nothing else; then nothing goes back to Anki. The 2023 release has no notesModTime: the
    edit is found by Anki's `edited:N` search."""
    vault = copy_project_notes(tmp_path / "vault")
    sync(vault, anki)
    original = (vault / NOTE_FILE).read_text(encoding="utf-8")
    back = field(anki, FIRST, "Back")
    assert back.count("promt dataset") == 1
    time.sleep(MOD_TIME_RESOLUTION_S)
    anki.invoke(
        "updateNoteFields",
        note={"id": FIRST, "fields": {"Back": back.replace("promt dataset", "prompt dataset")}},
    )
    in_anki = notes_info(anki)

    brought = notecards(command, vault, "--url", anki.url)
    assert brought.exit_code == 0, brought.output
    expected = in_block(original, FIRST, "promt dataset", "prompt dataset").encode()
    assert (vault / NOTE_FILE).read_bytes() == expected

    follow = sync(vault, anki)
    assert not (follow["add"] or follow["update"] or follow["delete"] or follow["conflicts"])
    assert notes_info(anki) == in_anki  # fields, tags (and 25.11.9's mod): nothing was sent
    again = sync(vault, anki)
    assert what_changed(again) == {} and again["counts"]["unchanged"] == 3
    assert (vault / NOTE_FILE).read_bytes() == expected


def test_pull_sends_nothing_to_anki(tmp_path, anki):
    vault = copy_project_notes(tmp_path / "vault")
    sync(vault, anki)
    before = notes_info(anki)
    edited = edit_block(vault, FIRST, "training on preference?", "training on human preference?")
    pulled = notecards("pull", vault, "--url", anki.url)
    assert pulled.exit_code == 0, pulled.output
    assert notes_info(anki) == before
    assert (vault / NOTE_FILE).read_bytes() == edited  # nothing came home, nothing was lost
    assert [(u["note_id"], u["fields"]) for u in sync(vault, anki)["update"]] == [
        (FIRST, ["Front"])
    ]


@pytest.fixture(scope="module")
def browser(desktop: RealAnki) -> None:
    """Anki's Browser window open, showing no note, so that the notes the tests show load as
    fast as a person's second click does."""
    desktop.invoke("guiBrowse", query="nid:0")
    time.sleep(BROWSER_STARTS_S)


@contextmanager
def shown_in_the_browser(anki: RealAnki, note_id: int, *, settled: bool) -> Iterator[None]:
    """The note open in the Browser's editor (the one a person edits in) for the block: once
    the editor has loaded it (`settled`), or at once, while it loads."""
    assert anki.invoke("guiBrowse", query=f"nid:{note_id}")  # the note's card, selected
    try:
        if settled:
            time.sleep(EDITOR_SETTLES_S)
        yield
    finally:
        # The add-on has no action that closes the Browser: a search for no note empties its
        # editor, which lets the note go (and saves what the editor holds).
        anki.invoke("guiBrowse", query="nid:0")
        time.sleep(EDITOR_SETTLES_S)


@pytest.mark.usefixtures("browser")
def test_opening_a_note_in_anki_changes_nothing_and_a_vault_edit_is_no_conflict(tmp_path, anki):
    """Issue 10, "First": Anki's editor rewrites a field it would store in another form as soon
    as it shows the note; notecards' fields are in that form, so opening one is no edit and the
    vault's next edit of it is no conflict."""
    vault = copy_project_notes(tmp_path / "vault")
    sync(vault, anki)
    before = notes_info(anki)
    with shown_in_the_browser(anki, FIRST, settled=True):
        assert notes_info(anki) == before  # fields (and 25.11.9's mod) as they were
    assert notes_info(anki) == before  # and letting it go saved nothing either
    edit_block(vault, FIRST, "lat humans rate", "let humans rate")
    document = sync(vault, anki)
    assert document["conflicts"] == []
    assert [(u["note_id"], u["fields"]) for u in document["update"]] == [(FIRST, ["Back"])]
    assert "let humans rate" in field(anki, FIRST, "Back")


@pytest.mark.usefixtures("browser")
def test_a_vault_edit_sent_while_anki_loads_the_note_is_not_lost(tmp_path, anki):
    """A person clicks the note in Anki's Browser as the sync runs: the editor, still loading,
    saves the copy it read over the update AnkiConnect makes (AnkiConnect issue #82; both
    releases, every time the update lands within about 0.6 s of the click). The vault's edit
    must reach Anki by the next sync, and stay in the vault. (A note this Browser has shown
    settled before loads without that race: hence another note than the test above.)"""
    vault = copy_project_notes(tmp_path / "vault")
    sync(vault, anki)
    edited = edit_block(vault, SECOND, "lat humans rate", "let humans rate")
    with shown_in_the_browser(anki, SECOND, settled=False):
        notecards("sync", vault, "--url", anki.url)  # what it says of the undone update may vary
    result = notecards("sync", vault, "--url", anki.url)
    assert result.exit_code == 0, result.output
    back = field(anki, SECOND, "Back")
    assert "let humans rate" in back and "lat humans rate" not in back, (
        "Anki's editor undid the vault's edit and the next sync did not send it again"
    )
    assert (vault / NOTE_FILE).read_bytes() == edited
