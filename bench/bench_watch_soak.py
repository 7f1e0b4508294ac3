"""Soak `notecards watch`: many saves over a large vault, and its memory and open files at the
start and at the end (goal: resident memory at the end within 10% of the start, the same
number of open file descriptors). It takes minutes; not part of the test suite.

A real `notecards watch` process syncs against the AnkiConnect test server (a real Anki
collection, in its own process); each save edits another card, and the next save waits for
the sync of the one before (its JSON object), as a user who saves every few seconds. The
start is measured after a warm-up of `--warmup` saves (the first syncs fill the caches that
a watch keeps for its life).

    python bench/bench_watch_soak.py [--saves 1000] [--cards 10000] [--warmup 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from genvault import generate  # bench/ is on sys.path when this script runs

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests/helpers/ankiconnect_server.py

from tests.helpers.ankiconnect_server import ServerProcess  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Saver:
    """Each save edits the Back of another card, in turn over the vault's files."""

    def __init__(self, vault: Path):
        self.files = sorted(vault.rglob("*.md"))
        self.count = 0

    def save(self) -> None:
        path = self.files[self.count % len(self.files)]
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("Back: ", f"Back: save {self.count} ", 1), encoding="utf-8")
        self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=1000)
    parser.add_argument("--cards", type=int, default=10000)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--debounce", type=float, default=0.1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="notecards-soak-") as tmp:
        vault = Path(tmp, "vault")
        generate(vault, args.cards, with_ids=False)
        server = ServerProcess.start(Path(tmp, "anki", "collection.anki2"), "--mod-times")
        watch = None
        try:
            command = [sys.executable, "-m", "notecards", "watch", str(vault), "--url",
                       server.url, "--json", "--debounce", str(args.debounce)]  # fmt: skip
            watch = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=ENV)
            assert watch.stdout is not None
            started = time.perf_counter()
            first = json.loads(watch.stdout.readline())  # the first sync adds every card
            print(f"first sync: {first['counts']['add']} cards added, "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            saver = Saver(vault)
            figures = []
            seconds = []
            for n in range(args.warmup + args.saves):
                if n == args.warmup:
                    figures.append((resident_kib(watch.pid), open_fds(watch.pid)))
                    soak_start = time.perf_counter()
                start = time.perf_counter()
                saver.save()
                while True:  # its sync (the ID lines it wrote make none: they change no card)
                    run = json.loads(watch.stdout.readline())
                    if run["counts"]["update_fields"] or not run["ok"]:
                        break
                if not run["ok"]:
                    raise SystemExit(f"save {n}: the sync failed: {run['problems']}")
                seconds.append(time.perf_counter() - start)
            figures.append((resident_kib(watch.pid), open_fds(watch.pid)))
            soak = time.perf_counter() - soak_start
        finally:
            if watch is not None:
                watch.terminate()
                watch.wait()
            server.stop()
        shutil.rmtree(vault)
    (rss0, fds0), (rss1, fds1) = figures
    seconds.sort()
    print(f"{args.saves} saves over {args.cards:,} cards in {soak:.0f} s; save to synced: "
          f"median {seconds[len(seconds) // 2]:.2f} s, max {seconds[-1]:.2f} s")  # fmt: skip
    print(f"resident memory: {rss0 / 1024:.1f} MiB at the start, {rss1 / 1024:.1f} MiB at the "
          f"end: {rss1 / rss0:.3f}x (goal: within 10%, "
          f"{'met' if abs(rss1 / rss0 - 1) <= 0.10 else 'NOT met'})")  # fmt: skip
    print(f"open file descriptors: {fds0} at the start, {fds1} at the end "
          f"({'no leak' if fds1 <= fds0 else 'LEAK'})")  # fmt: skip


if __name__ == "__main__":
    main()
