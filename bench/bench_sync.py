"""Benchmark `notecards sync` against the AnkiConnect test server (a real Anki collection).

Figures printed:
- first sync of 1,000 new notes, against the floor: one `addNotes` of the same rendered notes
  on a fresh server (goal: at most 1.0x);
- no-op sync of a 10,000-card vault (goal: under 1 s, at most 2 requests);
- one edited card in 10,000 (goal: one update sent, under 1 s).

    python bench/bench_sync.py [--new 1000] [--cards 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from genvault import generate  # bench/ is on sys.path when this script runs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ankiconnect_server.py

from notecards.render import Renderer  # noqa: E402
from notecards.sync import sync_vault  # noqa: E402
from notecards.targets.ankiconnect import AnkiConnect  # noqa: E402
from notecards.vault import load_vault  # noqa: E402
from tests.ankiconnect_server import AnkiConnectServer  # noqa: E402


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def addnotes_floor(vault: Path, collection: Path) -> float:
    """One `addNotes` of the vault's notes, rendered beforehand (not timed), on a fresh server."""
    loaded = load_vault(vault)
    renderer = Renderer(loaded.config, loaded.root)
    notes = []
    for note in loaded.parsed.notes:
        fields = renderer.render(note).fields
        notes.append({"deckName": note.deck, "modelName": note.note_type, "fields": fields,
                      "tags": list(note.tags)})  # fmt: skip
    with AnkiConnectServer(collection) as server:
        client = AnkiConnect(server.url)
        decks = sorted({n["deckName"] for n in notes})
        client.multi([("createDeck", {"deck": d}) for d in decks])
        seconds, _ = timed(lambda: client.invoke("addNotes", notes=notes))
    return seconds


def first_sync(vault: Path, collection: Path) -> float:
    with AnkiConnectServer(collection) as server:
        seconds, _ = timed(lambda: sync_vault(vault, AnkiConnect(server.url)))
    return seconds


def big_vault(vault: Path, collection: Path, cards: int) -> None:
    files = generate(vault, cards, with_ids=False)
    with AnkiConnectServer(collection) as server:
        client = AnkiConnect(server.url)
        setup, _ = timed(lambda: sync_vault(vault, client))
        print(f"setup: first sync of {cards} cards  {setup:7.2f} s")
        server.reset_counts()
        noop, report = timed(lambda: sync_vault(vault, client))
        print(f"no-op sync of {cards}:            {noop:7.3f} s  "
              f"({server.requests} request(s); goal < 1 s, <= 2)")  # fmt: skip
        text = files[0].read_text(encoding="utf-8")
        files[0].write_text(text.replace("Back: \n", "Back: \nedited ", 1), encoding="utf-8")
        server.reset_counts()
        edit, report = timed(lambda: sync_vault(vault, client))
        updates = server.actions["updateNoteFields"]
        figures = f"{updates} update(s), {server.requests} request(s)"
        print(f"one edit in {cards}:              {edit:7.3f} s  ({figures}; goal 1 update, < 1 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--cards", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="notecards-bench-") as tmp:
        root = Path(tmp)
        generate(root / "new", args.new, with_ids=False)
        floor = addnotes_floor(root / "new", root / "floor" / "collection.anki2")
        sync_seconds = first_sync(root / "new", root / "first" / "collection.anki2")
        print(f"one addNotes of {args.new} (floor):   {floor:7.3f} s")
        print(f"first sync of {args.new} new notes:  {sync_seconds:7.3f} s  "
              f"({sync_seconds / floor:.2f}x the floor; goal <= 1.0x)")  # fmt: skip
        big_vault(root / "big", root / "big-anki" / "collection.anki2", args.cards)


if __name__ == "__main__":
    main()
