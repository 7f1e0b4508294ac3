"""Benchmark how fast notecards starts: what a command run after every save costs.

Each figure is the median wall time of a whole `python -m notecards ...` process (what a
user waits for), over `--runs` runs, printed with its goal and the ratio to it:
- `notecards --help` (goal < 0.1 s; Python alone is printed beside it);
- a no-op `notecards sync` of a 1,000-card and a 10,000-card vault (goals < 0.2 s, < 0.5 s;
  Obsidian_to_Anki's script takes 0.30 s for the 1,000-card vault on the machine the issue
  was measured on);
- a one-card edit of the 10,000-card vault (goal < 0.6 s), each run editing another card;
- `notecards check` of the 10,000-card vault after syncs alone (goal < 0.3 s: the last one
  left check its verdict, render/inputs.py), and again once a build has left its own.
The syncs run against the AnkiConnect test server (a real Anki collection) in its own
process, with a real Anki's costs (bench_sync.py): 25 ms a request, every commit fsynced; as
the add-on AnkiWeb serves today (25.11.9), which answers modification times (an older one
is asked for the notes edited today, and those are all of a vault first synced today).
For each command, `python -X importtime`'s five costliest libraries (cumulative), so a
regression shows its cause.

    python bench/bench_startup.py [--runs 7] [--latency-ms 25] [--vaults 1000,10000]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from genvault import generate  # bench/ is on sys.path when this script runs

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests/helpers/ankiconnect_server.py

from tests.helpers.ankiconnect_server import ServerProcess  # noqa: E402

# Without PYTHONDONTWRITEBYTECODE (set on some machines, this one's among them): each
# command's warm-up run leaves the bytecode a user's install has, and the timed runs read it
# instead of compiling notecards' sources every time (about 0.08 s of CPU).
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PYTHONPATH": str(REPO),
}
NOTECARDS = [sys.executable, "-m", "notecards"]


def wall(command: list[str], runs: int, before=None) -> float:
    """The median wall seconds of `command`, after one warm-up; `before(i)` runs (untimed)
    before run i. A failed run stops the bench with what it said."""
    times = []
    for i in range(runs + 1):
        if before is not None:
            before(i)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=REPO)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} exited {done.returncode}: {done.stderr}")
        if i:
            times.append(seconds)
    return statistics.median(times)


def import_top(command: list[str], top: int = 5) -> list[tuple[str, float]]:
    """The `top` libraries (top-level packages other than notecards) that cost the most to
    import, by the largest cumulative time any of their modules shows."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *command[1:]],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=REPO,
    )
    costs: dict[str, float] = {}
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match is None:
            continue
        package = match.group(3).split(".")[0]
        if package in ("notecards", "__editable___notecards_0_1_0_finder"):
            continue
        costs[package] = max(costs.get(package, 0.0), int(match.group(1)) / 1e6)
    return sorted(costs.items(), key=lambda kv: -kv[1])[:top]


def report(label: str, seconds: float, goal: float, command: list[str]) -> bool:
    met = seconds < goal
    print(
        f"{label:38} {seconds:7.3f} s   goal < {goal:.1f} s: {seconds / goal:5.2f}x the goal"
        f"  {'met' if met else 'NOT met'}"
    )
    shown = ", ".join(f"{name} {s * 1000:.0f} ms" for name, s in import_top(command))
    print(f"{'':38} imports: {shown}")
    return met


def edit_one(vault: Path):
    """A `before` that edits one card of `vault`, another each run."""
    files = sorted(vault.rglob("*.md"))

    def edit(i: int) -> None:
        path = files[i % len(files)]
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("Back: ", f"Back: edit {i} ", 1), encoding="utf-8")

    return edit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--latency-ms", type=float, default=25.0)
    parser.add_argument("--vaults", default="1000,10000", help="the vault sizes (10000: all)")
    args = parser.parse_args()
    runs = args.runs
    python = wall([sys.executable, "-c", "pass"], runs)
    print(f"{'python -c pass':38} {python:7.3f} s")
    met = [report("notecards --help", wall([*NOTECARDS, "--help"], runs), 0.1,
                  [*NOTECARDS, "--help"])]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="notecards-startup-") as tmp:
        sizes = {int(size) for size in args.vaults.split(",")}
        for cards, goal in [(n, g) for n, g in ((1000, 0.2), (10000, 0.5)) if n in sizes]:
            root = Path(tmp, str(cards))
            vault = root / "vault"
            generate(vault, cards, with_ids=False)
            server = ServerProcess.start(
                root / "anki" / "collection.anki2",
                "--durable",
                f"--latency-ms={args.latency_ms}",
                "--mod-times",
            )
            try:
                sync = [*NOTECARDS, "sync", str(vault), "--url", server.url, "-q"]
                subprocess.run(sync, check=True, env=ENV, cwd=REPO, capture_output=True)
                # A note Anki modified in the last 2 s is read again by every sync (Anki counts
                # whole seconds: an edit in the same second keeps the time; state.mod_as_seen).
                # A no-op comes later than that after the sync that pushed (the 1,000 cards' first
                # sync ends so soon that the timed runs fell in those 2 s, and ran whole).
                time.sleep(2.5)
                met.append(report(f"no-op sync of {cards:,} cards", wall(sync, runs), goal, sync))
                if cards == 10000:
                    seconds = wall(sync, runs, before=edit_one(vault))
                    met.append(report("one-card edit of 10,000", seconds, 0.6, sync))
                    check = [*NOTECARDS, "check", str(vault), "-q"]
                    met.append(report("check of 10,000 after a sync alone", wall(check, runs),
                                      0.3, check))  # fmt: skip
                    build = [*NOTECARDS, "build", str(vault), "-o", str(root / "v.apkg"), "-q"]
                    subprocess.run(build, check=True, env=ENV, cwd=REPO, capture_output=True)
                    met.append(report("  and after a build", wall(check, runs),
                                      0.3, check))  # fmt: skip
            finally:
                server.stop()
            shutil.rmtree(root)
    print(f"goals met: {sum(met)} of {len(met)}")


if __name__ == "__main__":
    main()
