"""Vaults and looks into the collection, for the sync tests."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from notecards.cli import cli
from notecards.sync import SyncReport, sync_vault
from notecards.targets.ankiconnect import AnkiConnect

PROJECT_NOTES = Path(__file__).resolve().parents[1] / "notes"
# Server options of an Anki in WSL or a container: sync cannot hand it a package, so every add
# goes through addNotes.
ANKI_ELSEWHERE = {"packages_unreadable": True, "media_dir_elsewhere": True}
ID_LINE = re.compile(r"^<!--ID: (\d+)-->$", re.MULTILINE)


def block(front: str, back: str, tags: str = "ml", note_id: int | None = None) -> str:
    id_line = f"<!--ID: {note_id}-->\n" if note_id else ""
    return f"START\nBasic\n{front}\nBack: {back}\nTags: {tags}\n{id_line}END\n"


def write_vault(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(text.encode("utf-8"))
    return root


def copy_project_notes(root: Path) -> Path:
    shutil.copytree(PROJECT_NOTES, root)
    return root


def ids_in(path: Path) -> list[int]:
    return [int(i) for i in ID_LINE.findall(path.read_text(encoding="utf-8"))]


def sync(root: Path, server, **options) -> SyncReport:
    return sync_vault(root, AnkiConnect(server.url, options.pop("api_key", None)), **options)


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(cli, ["sync", *args], catch_exceptions=False)


def anki_notes(server) -> dict[int, dict]:
    """id -> {fields, tags, decks, model}: what the real collection holds."""
    with server.collection() as col:
        notes = {}
        for note_id in col.find_notes(""):
            note = col.get_note(note_id)
            notes[note_id] = {
                "fields": dict(note.items()),
                "tags": list(note.tags),
                "decks": sorted({col.decks.name(card.did) for card in note.cards()}),
                "model": note.note_type()["name"],
            }
        return notes
