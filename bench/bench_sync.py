"""Benchmark `notecards sync` against the AnkiConnect test server (a real Anki collection).

The server runs as a real Anki would: every commit fsynced (`durable`) and 25 ms spent per
request (`--latency-ms`; a real Anki 26.9.3 took 5.2 s for one addNotes of 1,000 notes).

Figures printed:
- first sync of 1,000 new notes, against the floor: one `addNotes` of the same rendered notes
  on a fresh server (goal: at most 1.0x). Both run against the server in its own process, as
  Anki is: in a thread of this process it would share the GIL, and the rendering sync does
  while an `addNotes` is in flight would slow that `addNotes` instead of hiding behind it.
  Then an estimate of sync's own client-side cost per 1,000 notes (the sync's time minus
  the time spent waiting for answers), to set beside a real Anki's floor (5.2 s per 1,000);
- no-op sync of a 10,000-card vault (goal: under 1 s, at most 2 requests);
- one edited card in 10,000 (goal: one update sent, under 1 s).
For the last two, each sync's time is split into load_vault (the parser), the server (Anki's
own work, latency included) and the rest: sync's own part.

    python bench/bench_sync.py [--new 1000] [--cards 10000] [--latency-ms 25]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from genvault import generate  # bench/ is on sys.path when this script runs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ankiconnect_server.py

import notecards.sync  # noqa: E402
from notecards.render import Renderer  # noqa: E402
from notecards.sync import SyncReport, sync_vault  # noqa: E402
from notecards.targets.ankiconnect import AnkiConnect  # noqa: E402
from notecards.vault import load_vault  # noqa: E402
from tests.ankiconnect_server import AnkiConnectServer, ServerProcess  # noqa: E402

REAL_ANKI_FLOOR_S = 5.2  # one addNotes of 1,000 notes, recorded on a real Anki 26.9.3


class Split:
    """Seconds spent in load_vault and in the server while a sync runs, by wrapping both."""

    def __init__(self, server: AnkiConnectServer):
        self.parse = self.anki = 0.0
        notecards.sync.load_vault = self._timed(load_vault, "parse")
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


def server_at(collection: Path, latency_s: float) -> AnkiConnectServer:
    return AnkiConnectServer(collection, durable=True, request_latency_s=latency_s)


def server_process(collection: Path, latency_s: float) -> ServerProcess:
    return ServerProcess.start(collection, "--durable", f"--latency-ms={latency_s * 1000}")


class WaitingClient(AnkiConnect):
    """A client that adds up the seconds spent waiting for answers (encoding included)."""

    waiting = 0.0

    def _post(self, body: dict) -> object:
        start = time.perf_counter()
        try:
            return super()._post(body)
        finally:
            self.waiting += time.perf_counter() - start


def addnotes_floor(vault: Path, collection: Path, latency_s: float) -> float:
    """One `addNotes` of the vault's notes, rendered beforehand (not timed), on a fresh server."""
    loaded = load_vault(vault)
    renderer = Renderer(loaded.config, loaded.root)
    notes = []
    for note in loaded.parsed.notes:
        fields = renderer.render(note).fields
        notes.append({"deckName": note.deck, "modelName": note.note_type, "fields": fields,
                      "tags": list(note.tags)})  # fmt: skip
    server = server_process(collection, latency_s)
    try:
        client = AnkiConnect(server.url)
        decks = sorted({n["deckName"] for n in notes})
        client.multi([("createDeck", {"deck": d}) for d in decks])
        start = time.perf_counter()
        client.invoke("addNotes", notes=notes)
        return time.perf_counter() - start
    finally:
        server.stop()


def first_sync(vault: Path, collection: Path, latency_s: float) -> tuple[float, float, int]:
    """(seconds, seconds waiting for answers, requests) of the first sync of `vault`."""
    server = server_process(collection, latency_s)
    try:
        client = WaitingClient(server.url)
        start = time.perf_counter()
        sync_vault(vault, client)
        return time.perf_counter() - start, client.waiting, client.requests_sent
    finally:
        server.stop()


def big_vault(vault: Path, collection: Path, cards: int, latency_s: float) -> None:
    files = generate(vault, cards, with_ids=False)
    with server_at(collection, latency_s) as server:
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
    args = parser.parse_args()
    latency_s = args.latency_ms / 1000
    with tempfile.TemporaryDirectory(prefix="notecards-bench-") as tmp:
        root = Path(tmp)
        generate(root / "new", args.new, with_ids=False)
        floor = addnotes_floor(root / "new", root / "floor" / "collection.anki2", latency_s)
        seconds, waiting, requests = first_sync(
            root / "new", root / "first" / "collection.anki2", latency_s
        )
        print(f"first sync of {args.new} new notes:    {seconds:7.3f} s  "
              f"({seconds / floor:.2f}x the floor of {floor:.3f} s, one addNotes of the same "
              f"notes; goal <= 1.0x; {requests} requests)")  # fmt: skip
        own = (seconds - waiting) * 1000 / args.new
        print(f"  estimate: sync's own client-side time {own:.3f} s per 1,000 notes (total "
              f"{seconds:.3f} s minus {waiting:.3f} s waiting on the test server); on a real "
              f"Anki (floor {REAL_ANKI_FLOOR_S} s per 1,000) that would be about "
              f"{(REAL_ANKI_FLOOR_S + own) / REAL_ANKI_FLOOR_S:.2f}x its floor")  # fmt: skip
        if args.cards:
            big_vault(root / "big", root / "big-anki" / "collection.anki2", args.cards, latency_s)


if __name__ == "__main__":
    main()
