"""The client's CPU for a two-way sync that pulls N notes edited in Anki, beside a no-op.

bench_two_way.py times the whole thing in one process, the server's work included; this runs
the AnkiConnect test server in a process of its own (a real collection, 25 ms per request as
a real Anki), so that `time.process_time()` is notecards' alone, and tells where it goes
(`--profile`: cProfile over the last pull, by process time). On a 10,000-card vault after its
first sync, warm (a pull of 3 notes first, as a `watch` or the other benchmarks are): each run
edits N other notes through AnkiConnect (a word added to each back), syncs them home, then
syncs again (the sync after a pull, which sends nothing). Prints medians of the pull's client
CPU, wall time and requests, and the no-op's.

    python bench/bench_pull_cpu.py [--cards 10000] [--edited 100] [--runs 3] [--release 2023]
        [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from genvault import generate  # bench/ is on sys.path when this script runs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/helpers/ankiconnect_server.py

from notecards.sync import SyncOptions, SyncReport, sync_vault  # noqa: E402
from notecards.targets.ankiconnect import AnkiConnect  # noqa: E402
from tests.helpers.ankiconnect_server import ServerProcess  # noqa: E402


def edit_in_anki(client: AnkiConnect, note_ids: list[int]) -> None:
    """A person's fix in each note's back: one word added, as bench_two_way.py makes it."""
    for info in client.invoke("notesInfo", notes=note_ids):
        back = info["fields"]["Back"]["value"].replace("<strong>", "<strong>fixed ", 1)
        client.invoke("updateNoteFields", note={"id": info["noteId"], "fields": {"Back": back}})


def measured(
    vault: Path, client: AnkiConnect, profile: cProfile.Profile | None = None
) -> tuple[float, float, SyncReport]:
    """(client CPU seconds, wall seconds, report) of one two-way sync."""
    wall, cpu = time.perf_counter(), time.process_time()
    if profile is not None:
        profile.enable()
    report = sync_vault(vault, client, SyncOptions())
    if profile is not None:
        profile.disable()
    return time.process_time() - cpu, time.perf_counter() - wall, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--edited", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--release", choices=("25.11", "2023"), default="25.11")
    parser.add_argument("--profile", action="store_true", help="cProfile the last pull")
    args = parser.parse_args()
    options = ["--latency-ms", "25"] + (["--mod-times"] if args.release == "25.11" else [])
    with tempfile.TemporaryDirectory(prefix="notecards-bench-") as tmp:
        vault = Path(tmp, "vault")
        generate(vault, args.cards, with_ids=False)
        server = ServerProcess.start(Path(tmp, "anki", "collection.anki2"), *options)
        try:
            client = AnkiConnect(server.url)
            sync_vault(vault, client, SyncOptions())
            every = sorted(client.invoke("findNotes", query="deck:*"))
            edit_in_anki(client, every[-3:])  # warm: the modules and caches a pull uses
            for _ in range(2):
                sync_vault(vault, client, SyncOptions())
            time.sleep(2)  # (a note Anki modified in the last second is looked at again)
            no_ops = [measured(vault, client) for _ in range(args.runs)]
            pulls, after = [], []
            for run in range(args.runs):
                edit_in_anki(client, every[run * args.edited : (run + 1) * args.edited])
                last = args.profile and run == args.runs - 1
                profile = cProfile.Profile(time.process_time) if last else None
                pulls.append(measured(vault, client, profile))
                after.append(measured(vault, client))
                time.sleep(2)
        finally:
            server.stop()
    print(f"{args.release}, {args.cards} cards, medians of {args.runs} (client CPU: process_time)")
    for name, runs in (("no-op", no_ops), (f"pull of {args.edited}", pulls), ("after", after)):
        cpu = statistics.median(c for c, _, _ in runs)
        wall = statistics.median(w for _, w, _ in runs)
        requests = sorted({r.requests for _, _, r in runs})
        pulled = sorted({len({p.note_id for p in r.pulled}) for _, _, r in runs})
        print(f"  {name}: CPU {cpu:.3f} s, wall {wall:.3f} s, requests {requests}, "
              f"notes pulled {pulled}")  # fmt: skip
    on_top = statistics.median(c for c, _, _ in pulls) - statistics.median(c for c, _, _ in no_ops)
    print(f"  the pull's CPU on top of the no-op: {on_top:.3f} s (goal: under 1 s)")
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats("notecards", 30)


if __name__ == "__main__":
    main()
