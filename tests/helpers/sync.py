"""The sync tests' vaults, runs and looks into the server's collection."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from notecards.build import build_vault
from notecards.cli import cli
from notecards.sync import SyncOptions, SyncReport, sync_vault
from notecards.sync.plan import Plan
from notecards.sync.state import load_state, save_state
from notecards.targets.ankiconnect import AnkiConnect
from tests.helpers.collection import stored_notes
from tests.helpers.paths import USER_NOTES

# Server options of an Anki in WSL or a container: sync cannot hand it a package, so every add
# goes through addNotes.
ANKI_ELSEWHERE = {"packages_unreadable": True, "media_dir_elsewhere": True}


def nothing_to_send(plan: Plan) -> bool:
    """The plan changes nothing in Anki (no deck, note or media to send)."""
    return not (plan.decks or plan.adds or plan.updates or plan.deletes or plan.media)


def copy_project_notes(root: Path) -> Path:
    shutil.copytree(USER_NOTES, root)
    return root


def sync(root: Path, server, **options) -> SyncReport:
    """One sync of `root` with the server; `options` are SyncOptions' (two-way by default)."""
    return sync_vault(root, AnkiConnect(server.url), SyncOptions(**options))


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(cli, ["sync", *args], catch_exceptions=False)


def run_pull(*args: str) -> Result:
    return CliRunner().invoke(cli, ["pull", *args], catch_exceptions=False)


def build_and_import(vault: Path, server) -> None:
    """`notecards build` the vault into a package beside it, which the server's Anki imports."""
    package = vault.with_name(f"{vault.name}.apkg")
    build_vault(vault, package)
    assert AnkiConnect(server.url).invoke("importPackage", path=str(package)) is True


def edit_in_anki(server, note_id: int, tags: tuple[str, ...] = (), **fields: str) -> None:
    """What a user does in Anki's editor: set some fields, add some tags."""
    with server.collection() as col:
        note = col.get_note(note_id)
        for name, value in fields.items():
            note[name] = value
        note.tags.extend(tags)
        col.update_note(note)


def anki_notes(server) -> dict[int, dict]:
    """id -> {fields, tags, decks, model}: what the real collection holds (decks: each once)."""
    with server.collection() as col:
        return {
            note_id: {
                "fields": note.fields,
                "tags": note.tags,
                "decks": sorted(set(note.decks)),
                "model": note.note_type,
            }
            for note_id, note in stored_notes(col).items()
        }


def a_month_on(vault: Path, server, days_since_sync: int = 0) -> None:
    """The collection and the sync state as they are when the notes were last modified a month
    ago and the vault was last synced `days_since_sync` days ago (0: earlier today), nothing
    changed since: a vault's usual day."""
    month = 30 * 86400
    with server.collection() as col:
        col.db.execute("update notes set mod = mod - ?", month)
    state = load_state(vault, server.url)
    for nid, record in state.notes.items():
        state.notes[nid] = dataclasses.replace(record, anki_mod=record.anki_mod - month)
    state.synced_at -= days_since_sync * 86400
    save_state(vault, state)
