"""Benchmark two-way `notecards sync` against the AnkiConnect test server (a real collection).

Figures printed, for both kinds of AnkiConnect (25.11 with `notesModTime`, and the 2023
release, which has none and is asked `edited:N`), on a 10,000-card vault after its first sync:
- a two-way no-op sync beside a one-way one, alternated in one run (goal: at most 2 requests,
  no slower than the one-way no-op): median seconds, requests, and the ratio;
- pulling N notes edited in Anki (a word fixed in each back): the sync that brings them home,
  beside the no-op (goal: under 1 s on top of it, in wall seconds; the CPU on top beside it, to
  read it on a loaded machine: this process's, the server's work in it; bench_pull_cpu.py has
  the client's alone), and that a sync right after sends nothing;
- both again a month on: the notes last modified a month ago, the vault synced earlier today
  (a vault's usual day; on the day of the first sync, every note is one Anki modified that day;
  the first two-way sync of a day asks every note's time, as on that day);
- the no-ops on the day of a push of N notes edited in the vault, the others last modified a
  month ago: only the notes pushed today are asked their times (25.11) or read (2023); the
  first sync after the push reads the pushed notes once more (Anki's times are whole seconds).

The server costs 25 ms per request, as a real Anki does (../shared/ankiconnect/README.md).

    python bench/bench_two_way.py [--cards 10000] [--edited 100] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from genvault import generate  # bench/ is on sys.path when this script runs

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/helpers/ankiconnect_server.py

from notecards.sync import SyncOptions, sync_vault  # noqa: E402
from notecards.targets.ankiconnect import AnkiConnect  # noqa: E402
from tests.helpers.ankiconnect_server import AnkiConnectServer  # noqa: E402
from tests.helpers.sync import a_month_on  # noqa: E402

LATENCY_S = 0.025


def timed(vault: Path, client: AnkiConnect, server: AnkiConnectServer, two_way: bool):
    """(seconds, requests, report, CPU seconds of this process: the server's too) of one
    sync."""
    server.reset_counts()
    start, cpu = time.perf_counter(), time.process_time()
    report = sync_vault(vault, client, SyncOptions(two_way=two_way))
    return time.perf_counter() - start, server.requests, report, time.process_time() - cpu


def edit_in_anki(server: AnkiConnectServer, note_ids: list[int]) -> None:
    """A person's fix in each note's back: one word changed, as the editor saves it."""
    with server.collection() as col:
        for note_id in note_ids:
            note = col.get_note(note_id)
            note["Back"] = note["Back"].replace("<strong>", "<strong>fixed ", 1)
            col.update_note(note)


def edit_in_vault(vault: Path, count: int) -> None:
    """A word added to the front of the first `count` cards, as a person edits the vault."""
    left = count
    for path in sorted(vault.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        while left and "\nwhat is **" in text:
            text = text.replace("\nwhat is **", "\nwhat really is **", 1)
            left -= 1
        path.write_text(text, encoding="utf-8")
        if not left:
            return


def release(root: Path, cards: int, edited: int, runs: int, mod_times: bool) -> None:
    name = "25.11 (notesModTime)" if mod_times else "2023 (edited:N)"
    vault = root / ("vault-new" if mod_times else "vault-old")
    generate(vault, cards, with_ids=False)
    server = AnkiConnectServer(
        root / f"anki-{mod_times}" / "collection.anki2",
        durable=True,
        request_latency_s=LATENCY_S,
        mod_times=mod_times,
    )
    with server:
        client = AnkiConnect(server.url)
        sync_vault(vault, client, SyncOptions())
        timed(vault, client, server, two_way=True)  # learns the modification times
        print(f"{name}, {cards} cards, medians of {runs}; on the day of the first sync:")
        two = no_ops(vault, client, server, runs)
        pulls(vault, client, server, runs, edited, two, first=0)
        a_month_on(vault, server)
        print("  a month on (notes last modified a month ago, the vault synced earlier today):")
        two = no_ops(vault, client, server, runs)
        pulls(vault, client, server, runs, edited, two, first=runs * edited)
        a_month_on(vault, server)
        edit_in_vault(vault, edited)
        timed(vault, client, server, two_way=True)  # pushes them
        time.sleep(2.5)  # (a note Anki modified in the last 2 s is looked at by every sync)
        print(f"  the day of a push of {edited} notes (the others last modified a month ago):")
        # Anki's times are whole seconds: a note the push modified in the second its time was
        # read could have been edited again within it, so the sync after reads it once more.
        seconds, requests, *_ = timed(vault, client, server, two_way=True)
        read = server.actions["notesInfo"]
        print(f"  the sync after the push: {seconds:.3f} s, {requests} request(s), "
              f"{read} notesInfo (the pushed notes read once more)")  # fmt: skip
        no_ops(vault, client, server, runs)


def no_ops(
    vault: Path, client: AnkiConnect, server: AnkiConnectServer, runs: int
) -> tuple[float, float]:
    """One-way and two-way no-op syncs in turn; prints both, gives the two-way medians (wall
    seconds, CPU seconds)."""
    one_way, two_way = [], []
    for _ in range(runs):
        one_way.append(timed(vault, client, server, two_way=False)[:2])
        two_way.append(timed(vault, client, server, two_way=True))
    one = statistics.median(s for s, _ in one_way)
    two = statistics.median(s for s, *_ in two_way)
    requests = max(r for _, r, *_ in two_way)
    print(f"  no-op: one-way {one:.3f} s, two-way {two:.3f} s ({two / one:.2f}x; {requests} "
          f"request(s); goal <= 2 requests, <= 1.0x)")  # fmt: skip
    return two, statistics.median(c for *_, c in two_way)


def pulls(
    vault: Path,
    client: AnkiConnect,
    server: AnkiConnectServer,
    runs: int,
    edited: int,
    no_op: tuple[float, float],
    first: int,
) -> None:
    """Each run edits `edited` other notes in Anki (from the `first`-th on) and syncs them
    home; prints the medians on top of the two-way no-op's (wall seconds, CPU seconds)."""
    done = []
    for run in range(runs):
        with server.collection() as col:
            start = first + run * edited
            ids = sorted(col.find_notes("deck:*"))[start : start + edited]
        edit_in_anki(server, ids)
        seconds, requests, report, cpu = timed(vault, client, server, two_way=True)
        pulled = len({p.note_id for p in report.pulled})
        again = timed(vault, client, server, two_way=True)[2]
        quiet = not (again.pulled or again.plan.updates)
        done.append((seconds, requests, pulled, quiet, cpu))
    pull = statistics.median(s for s, *_ in done)
    cpu = statistics.median(c for *_, c in done)
    print(f"  pulling {edited} notes edited in Anki: {pull:.3f} s, "
          f"{pull - no_op[0]:.3f} s on top of the no-op (goal < 1 s; CPU on top "
          f"{cpu - no_op[1]:.3f} s, the server's in it); pulled "
          f"{min(d[2] for d in done)}-{max(d[2] for d in done)} notes, "
          f"{max(d[1] for d in done)} request(s); the sync after sends nothing: "
          f"{all(d[3] for d in done)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--edited", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="notecards-bench-") as tmp:
        for mod_times in (True, False):
            release(Path(tmp), args.cards, args.edited, args.runs, mod_times)


if __name__ == "__main__":
    main()
