"""Pulling N notes edited in Anki, on top of a no-op: wall clock (the goal, under 1 s) and CPU.

bench_two_way.py times the whole thing in one process, the server's work included; this runs
the AnkiConnect test server in a process of its own (a real collection, 25 ms per request as
a real Anki), so that `time.process_time()` is notecards' alone, and tells where it goes
(`--profile`: cProfile over the last pull, by process time). On a 10,000-card vault after its
first sync, warm (a pull of 3 notes first, as a `watch` or the other benchmarks are): each run
edits N other notes through AnkiConnect (a word added to each back), syncs them home, then
syncs again (the sync after a pull, which sends nothing). Prints medians of the pull's wall
time, client CPU and requests, the no-op's and the sync after's, and the pull's wall time and
CPU on top of the no-op's, for each release (25.11 answers `notesModTime`; 2023 is asked
`edited:N`, and on the day of the first sync reads every note pushed that day). A loaded
machine stretches the wall time (other processes, the server's own CPU): read it beside the
CPU.

    python bench/bench_pull_cpu.py [--cards 10000] [--edited 100] [--runs 3]
        [--release 25.11|2023|both] [--profile]
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
    parser.add_argument("--release", choices=("25.11", "2023", "both"), default="both")
    parser.add_argument("--profile", action="store_true", help="cProfile the last pull")
    args = parser.parse_args()
    for release in ("25.11", "2023") if args.release == "both" else (args.release,):
        bench(release, args.cards, args.edited, args.runs, args.profile)


def bench(release: str, cards: int, edited: int, runs: int, profiled: bool) -> None:
    options = ["--latency-ms", "25"] + (["--mod-times"] if release == "25.11" else [])
    profile = None
    with tempfile.TemporaryDirectory(prefix="notecards-bench-") as tmp:
        vault = Path(tmp, "vault")
        generate(vault, cards, with_ids=False)
        server = ServerProcess.start(Path(tmp, "anki", "collection.anki2"), *options)
        try:
            client = AnkiConnect(server.url)
            sync_vault(vault, client, SyncOptions())
            every = sorted(client.invoke("findNotes", query="deck:*"))
            edit_in_anki(client, every[-3:])  # warm: the modules and caches a pull uses
            for _ in range(2):
                sync_vault(vault, client, SyncOptions())
            time.sleep(2)  # (a note Anki modified in the last second is looked at again)
            no_ops = [measured(vault, client) for _ in range(runs)]
            pulls, after = [], []
            for run in range(runs):
                edit_in_anki(client, every[run * edited : (run + 1) * edited])
                last = profiled and run == runs - 1
                profile = cProfile.Profile(time.process_time) if last else None
                pulls.append(measured(vault, client, profile))
                after.append(measured(vault, client))
                time.sleep(2)
        finally:
            server.stop()
    print(f"{release}, {cards} cards, medians of {runs} (client CPU: process_time)")
    for name, done in (("no-op", no_ops), (f"pull of {edited}", pulls), ("after", after)):
        cpu = statistics.median(c for c, _, _ in done)
        wall = statistics.median(w for _, w, _ in done)
        requests = sorted({r.requests for _, _, r in done})
        pulled = sorted({len({p.note_id for p in r.pulled}) for _, _, r in done})
        print(f"  {name}: wall {wall:.3f} s, CPU {cpu:.3f} s, requests {requests}, "
              f"notes pulled {pulled}")  # fmt: skip

    def on_top(index: int) -> float:
        return statistics.median(r[index] for r in pulls) - statistics.median(
            r[index] for r in no_ops
        )

    print(f"  the pull on top of the no-op: wall {on_top(1):.3f} s (goal: under 1 s), "
          f"CPU {on_top(0):.3f} s")  # fmt: skip
    if profile is not None:
        pstats.Stats(profile).sort_stats("cumulative").print_stats("notecards", 30)


if __name__ == "__main__":
    main()
