"""Benchmark `notecards sync` against the AnkiConnect test server (a real Anki collection).

The server runs with a real Anki's costs, from the recording in ../shared/ankiconnect: every
commit fsynced (`durable`), 25 ms per request (`--latency-ms`) and at least 5.16 ms per note
`addNote(s)` adds (`--add-note-ms`: the recorded Anki 26.9.3 took 5.16 s for one addNotes of
1,000; this server alone takes about a tenth of that). `importPackage` runs the importer the
add-on itself calls, so it costs what it costs in Anki.

Figures printed:
- first sync of 1,000 new notes, against the floor: one `addNotes` of the same rendered notes
  on a fresh server (goal: at most 1.0x); sync imports them as one package (Anki on this
  machine). Then the same sync with an Anki that sees another file system (every note goes
  through `addNotes`), and with one that fails the import (then `addNotes`); all again on the
  server without the per-note cost (`--add-note-ms 0`).
  Everything runs against the server in its own process, as Anki is: in a thread of this
  process it would share the GIL;
- no-op sync of a 10,000-card vault (goal: under 1 s, at most 2 requests);
- one edited card in 10,000 (goal: one update sent, under 1 s).
For the last two, each sync's time is split into load_vault (the parser), the server (Anki's
own work, latency included) and the rest: sync's own part.

    python bench/bench_sync.py [--new 1000] [--cards 10000] [--latency-ms 25] [--add-note-ms 5.16]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from genvault import generate  # bench/ is on sys.path when this script runs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/helpers/ankiconnect_server.py

import notecards.sync.run  # noqa: E402
from notecards.render import Renderer  # noqa: E402
from notecards.sync import SyncReport, sync_vault  # noqa: E402
from notecards.targets.ankiconnect import AnkiConnect  # noqa: E402
from notecards.vault import load_vault  # noqa: E402
from tests.helpers.ankiconnect_server import AnkiConnectServer, ServerProcess  # noqa: E402

REAL_ANKI_ADD_NOTE_MS = 5.16  # one addNotes of 1,000 notes took 5.16 s on a real Anki 26.9.3


class Split:
    """Seconds spent in load_vault and in the server while a sync runs, by wrapping both."""

    def __init__(self, server: AnkiConnectServer):
        self.parse = self.anki = 0.0
        notecards.sync.run.load_vault = self._timed(load_vault, "parse")
        server.answer = self._timed(server.answer, "anki")  # type: ignore[method-assign]

    def _timed(self, function: Callable, slot: str) -> Callable:
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                setattr(self, slot, getattr(self, slot) + time.perf_counter() - start)

        return wrapper

    def run(self, action: Callable[[], SyncReport]) -> tuple[float, float, SyncReport]:
        """(total seconds, sync's own seconds, report) of one sync."""
        self.parse = self.anki = 0.0
        start = time.perf_counter()
        report = action()
        total = time.perf_counter() - start
        return total, total - self.parse - self.anki, report


@dataclass(frozen=True)
class Costs:
    """What the server spends, as command-line options of tests/helpers/ankiconnect_server.py."""

    latency_ms: float
    add_note_ms: float

    def options(self, *extra: str) -> list[str]:
        return ["--durable", f"--latency-ms={self.latency_ms}", f"--add-note-ms={self.add_note_ms}",
                *extra]  # fmt: skip


def addnotes_floor(vault: Path, collection: Path, costs: Costs) -> float:
    """One `addNotes` of the vault's notes, rendered beforehand (not timed), on a fresh server."""
    loaded = load_vault(vault)
    renderer = Renderer(loaded.config, loaded.root)
    notes = []
    for note in loaded.parsed.notes:
        fields = renderer.render(note).fields
        notes.append({"deckName": note.deck, "modelName": note.note_type, "fields": fields,
                      "tags": list(note.tags)})  # fmt: skip
    server = ServerProcess.start(collection, *costs.options())
    try:
        client = AnkiConnect(server.url)
        decks = sorted({n["deckName"] for n in notes})
        client.multi([("createDeck", {"deck": d}) for d in decks])
        start = time.perf_counter()
        client.invoke("addNotes", notes=notes)
        return time.perf_counter() - start
    finally:
        server.stop()


def first_sync(vault: Path, collection: Path, costs: Costs, *options: str) -> tuple[float, int]:
    """(seconds, requests) of the first sync of a copy of `vault` (its IDs get written)."""
    copy = collection.parent / "vault"
    shutil.copytree(vault, copy)
    server = ServerProcess.start(collection, *costs.options(*options))
    try:
        client = AnkiConnect(server.url)
        start = time.perf_counter()
        sync_vault(copy, client)
        return time.perf_counter() - start, client.requests_sent
    finally:
        server.stop()


def first_syncs(vault: Path, root: Path, new: int, costs: Costs) -> None:
    """The floor, then sync by import and sync through addNotes, each on a fresh server."""
    floor = addnotes_floor(vault, root / "floor" / "collection.anki2", costs)
    print(f"  {f'floor, one addNotes of {new} notes:':36} {floor:7.3f} s")
    for label, options in (
        ("sync, by package import", ()),
        ("sync, Anki in WSL or a container", ("--packages-unreadable", "--media-dir-elsewhere")),
        ("sync, Anki fails to import", ("--packages-unreadable",)),
    ):
        seconds, requests = first_sync(vault, root / label / "collection.anki2", costs, *options)
        print(f"  {label + ':':36} {seconds:7.3f} s  ({seconds / floor:.2f}x the floor; "
              f"{requests} requests)")  # fmt: skip


def big_vault(vault: Path, collection: Path, cards: int, costs: Costs) -> None:
    files = generate(vault, cards, with_ids=False)
    server = AnkiConnectServer(collection, durable=True, request_latency_s=costs.latency_ms / 1000,
                               add_note_s=costs.add_note_ms / 1000)  # fmt: skip
    with server:
        client = AnkiConnect(server.url)
        split = Split(server)
        setup, _, _ = split.run(lambda: sync_vault(vault, client))
        print(f"setup: first sync of {cards} cards    {setup:7.2f} s")
        server.reset_counts()
        total, own, _ = split.run(lambda: sync_vault(vault, client))
        print(f"no-op sync of {cards}:              {total:7.3f} s  (load_vault "
              f"{split.parse:.3f} s, Anki {split.anki:.3f} s, sync's own {own:.3f} s; "
              f"{server.requests} request(s); goal < 1 s, <= 2)")  # fmt: skip
        text = files[0].read_text(encoding="utf-8")
        files[0].write_text(text.replace("Back: \n", "Back: \nedited ", 1), encoding="utf-8")
        server.reset_counts()
        total, own, _ = split.run(lambda: sync_vault(vault, client))
        updates = server.actions["updateNoteFields"]
        print(f"one edit in {cards}:                {total:7.3f} s  (load_vault "
              f"{split.parse:.3f} s, Anki {split.anki:.3f} s, sync's own {own:.3f} s; "
              f"{updates} update(s), {server.requests} request(s); goal 1, < 1 s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new", type=int, default=1000)
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=25.0)
    parser.add_argument("--add-note-ms", type=float, default=REAL_ANKI_ADD_NOTE_MS)
    args = parser.parse_args()
    costs = Costs(args.latency_ms, args.add_note_ms)
    with tempfile.TemporaryDirectory(prefix="notecards-bench-") as tmp:
        root = Path(tmp)
        generate(root / "new", args.new, with_ids=False)
        print(f"first sync of {args.new} new notes, server costs {args.latency_ms} ms per request "
              f"and {args.add_note_ms} ms per added note (goal <= 1.0x the floor):")  # fmt: skip
        first_syncs(root / "new", root / "real-costs", args.new, costs)
        if args.add_note_ms:
            print("the same, without the per-note cost (this server's own speed):")
            first_syncs(root / "new", root / "raw", args.new, Costs(args.latency_ms, 0.0))
        if args.cards:
            big_vault(root / "big", root / "big-anki" / "collection.anki2", args.cards, costs)


if __name__ == "__main__":
    main()
