"""Sync against refusals, damaged answers and a damaged state: a sentence at the right place, a
documented exit code, nothing lost on either side."""

from __future__ import annotations

import base64
import json
import os
import resource
import subprocess
import sys

import pytest

from notecards import exit_codes
from notecards.sync.state import load_state
from notecards.targets.ankiconnect import AnkiConnect, AnkiConnectError
from notecards.vault.state_dir import SYNC_STATE
from tests.helpers.broken_anki import BrokenAnki, reply
from tests.helpers.paths import REPO
from tests.helpers.sync import anki_notes, run_cli, sync
from tests.helpers.vault import block, ids_in, write_vault


def _synced(tmp_path, server, files):
    vault = write_vault(tmp_path / "v", files)
    assert not sync(vault, server).errors
    return vault


def _edit(vault, name, old, new):
    path = vault / name
    path.write_text(path.read_text().replace(old, new))


# Each action sync sends inside a `multi`, refused by Anki: the change the user made that
# needs it, and where the refusal must be reported.
INNER_REFUSALS = [
    ("updateNoteFields", lambda v: _edit(v, "a.md", "Back: a", "Back: a2"), "a.md:1"),
    ("addTags", lambda v: _edit(v, "a.md", "Tags: ml", "Tags: ml new"), "error: addTags"),
    ("removeTags", lambda v: _edit(v, "a.md", "Tags: ml", "Tags: "), "error: removeTags"),
    ("changeDeck", lambda v: _edit(v, "a.md", "START", "TARGET DECK: Other\nSTART"), "changeDeck"),
]


@pytest.mark.parametrize(("action", "change", "where"), INNER_REFUSALS)
def test_each_refused_action_inside_multi_is_reported_and_exits_non_zero(
    tmp_path, action, change, where
):
    from tests.helpers.ankiconnect_server import AnkiConnectServer

    server = AnkiConnectServer(tmp_path / "anki" / "c.anki2").start()
    try:
        vault = _synced(tmp_path, server, {"a.md": block("q", "a")})
        change(vault)
        server._api.refuse[action] = "Anki said no"
        result = run_cli(str(vault), "--url", server.url)
        assert result.exit_code == exit_codes.PARTIAL, result.output
        line = next(ln for ln in result.output.splitlines() if "Anki said no" in ln)
        assert where in line and action in line
    finally:
        server.stop()


def test_a_refused_create_deck_stops_the_sync_with_exit_3(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": "TARGET DECK: New\n" + block("q", "a")})
    anki_server._api.refuse["createDeck"] = "deck name rejected"
    result = run_cli(str(vault), "--url", anki_server.url)
    assert result.exit_code == exit_codes.ANKI
    assert "createDeck: deck name rejected" in result.output
    assert ids_in(vault / "a.md") == [] and anki_notes(anki_server) == {}


@pytest.mark.parametrize(
    "outside", ["../secret.png", "link.png"], ids=["dot-dot in the state", "outside symlink"]
)
def test_a_media_source_outside_the_vault_is_never_sent(tmp_path, anki_server, outside):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG the user's secret")
    vault = write_vault(
        tmp_path / "v", {"a.md": block("q", "![[img.png]]"), "img.png": b"\x89PNG card image"}
    )
    assert not sync(vault, anki_server).errors
    if outside == "link.png":  # the card's image is now a link that leads out of the vault
        (vault / "img.png").unlink()
        (vault / "img.png").symlink_to(secret)
    else:  # a damaged (or planted) state names a file outside as the image's source
        state = json.loads((vault / SYNC_STATE).read_text())
        for note in state["notes"].values():
            note[5] = [[outside, "img.png"]]
        state["media"]["img.png"] = ["0" * 64, outside, 1, 1]
        (vault / SYNC_STATE).write_text(json.dumps(state))  # the note is unchanged: not rendered
    result = run_cli(str(vault), "--url", anki_server.url)
    if outside == "link.png":  # rendering the card finds it: an error, as check says
        assert result.exit_code == exit_codes.BAD_INPUT
        assert "'img.png' is a symlink that leads outside the vault" in result.output
    else:  # the unchanged note's media come from the state: refused when the file is read
        assert "media not found: ../secret.png" in result.output
    stored = AnkiConnect(anki_server.url).invoke("retrieveMediaFile", filename="img.png")
    assert base64.b64decode(stored) == b"\x89PNG card image"  # the outside bytes never went


@pytest.mark.parametrize(
    "damage",
    [b"{not json", b"[1, 2]", b'{"format": 3, "url": "U", "notes": {"1": "x"}}'],
    ids=["not json", "a list", "a note of the wrong shape"],
)
def test_a_damaged_state_is_reported_not_silently_replaced(tmp_path, anki_server, damage):
    vault = _synced(tmp_path, anki_server, {"a.md": block("q", "a")})
    (vault / SYNC_STATE).write_bytes(damage.replace(b"U", anki_server.url.encode()))
    _edit(vault, "a.md", "Back: a", "Back: a2")
    result = run_cli(str(vault), "--url", anki_server.url)
    assert result.exit_code == exit_codes.BAD_INPUT
    assert ".notecards/sync-state.json:1: the sync state is damaged" in result.output
    assert (vault / SYNC_STATE).read_bytes() == damage.replace(b"U", anki_server.url.encode())


def test_a_state_write_that_fails_part_way_keeps_the_old_state(tmp_path, anki_server):
    """The file-size limit stops the write after its first bytes, as a full disk would."""
    vault = _synced(tmp_path, anki_server, {"a.md": block("q", "a")})
    old = (vault / SYNC_STATE).read_bytes()
    _edit(vault, "a.md", "Back: a", "Back: " + "long answer " * 2000)
    script = (
        "import resource, sys\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({len(old) // 2}, {len(old) // 2}))\n"
        "from notecards.cli import main\n"
        f"sys.argv = ['notecards', 'sync', {str(vault)!r}, '--url', {anki_server.url!r}]\n"
        "main()\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert (vault / SYNC_STATE).read_bytes() == old
    assert not list(vault.rglob("*.notecards.tmp"))
    resource.getrlimit(resource.RLIMIT_FSIZE)  # (this process's own limit is untouched)
    assert load_state(vault, anki_server.url).notes


def test_a_new_card_in_a_read_only_file_is_not_added(tmp_path, anki_server):
    vault = write_vault(tmp_path / "v", {"a.md": block("locked", "a"), "b.md": block("open", "a")})
    (vault / "a.md").chmod(0o444)
    before = (vault / "a.md").read_bytes()
    result = run_cli(str(vault), "--url", anki_server.url)
    assert result.exit_code == exit_codes.PARTIAL
    assert "a.md:1: a new card here needs an ID, but the file is read-only" in result.output
    assert (vault / "a.md").read_bytes() == before
    assert [n["fields"]["Front"] for n in anki_notes(anki_server).values()] == ["open"]


BAD_ANSWERS = {
    "truncated json": lambda body: b'{"result": [1, 2',
    "a list for multi": lambda body: reply(result=[1, 2, 3]),
    "inner answer of the wrong shape": lambda body: reply(
        result=[6 if a["action"] == "version" else {"x": 1} for a in body["params"]["actions"]]
    ),
    "notesInfo of the wrong shape": lambda body: reply(
        result=[
            {"result": _good(a["action"], bad_notes=True), "error": None}
            for a in body["params"]["actions"]
        ]
    ),
    "not AnkiConnect at all": lambda body: b'"hello"',
    "a reply that never comes": lambda body: 3.0,
}


def _good(action: str, *, bad_notes: bool = False):
    """What a real Anki holding note 1 answers to the read step's actions."""
    return {
        "version": 6,
        "deckNamesAndIds": {"Default": 1},
        "findNotes": [1],
        "notesInfo": [{"noteId": "1", "fields": []}] if bad_notes else [],
        "getMediaDirPath": "/nowhere",
    }.get(action)


@pytest.mark.parametrize("answer", list(BAD_ANSWERS.values()), ids=list(BAD_ANSWERS))
def test_a_damaged_answer_is_a_sentence_and_exit_3(tmp_path, answer):
    vault = write_vault(tmp_path / "v", {"a.md": block("q", "a", note_id=1)})
    (vault / "a.md").write_text((vault / "a.md").read_text().replace("q", "q2"))
    before = (vault / "a.md").read_bytes()
    server = BrokenAnki(answer)
    try:
        result = run_cli(str(vault), "--url", server.url, "--timeout", "1")
    finally:
        server.stop()
    assert result.exit_code == exit_codes.ANKI, result.output
    assert "error: " in result.output and "Traceback" not in result.output
    assert (vault / "a.md").read_bytes() == before


def test_the_client_rejects_a_result_of_the_wrong_shape():
    server = BrokenAnki(lambda body: reply(result={"not": "a list"}))
    try:
        with pytest.raises(AnkiConnectError, match="findNotes answered"):
            AnkiConnect(server.url).invoke("findNotes", query="deck:*")
    finally:
        server.stop()
