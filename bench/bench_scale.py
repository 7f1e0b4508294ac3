"""Benchmark how notecards' costs grow with the vault: 1,000, 10,000 and 20,000 cards and files.

Figures printed (medians of --repeat runs, each measured side by side with its baseline):
- cold build of the generated vault (25 cards a file, with IDs; no render cache, manifest or
  package) against bare markdown-it-py rendering the same fields in one process (goal at
  10,000 cards: at most 0.35x);
- a vault of one-card files without IDs (short cards: a line of text, a formula and a link,
  where the cost is the files, not the rendering): the first build, which writes an ID into
  every file (goal at 20,000: under 8 s; with --baseline-checkout, also as a ratio against
  that checkout's code, each run in a process of its own, in turn: the goal was 8 s where
  the code of the day took 22.2 s, 0.36x), `check` with the parse and render caches warm
  (goal: under 2 s) and the rebuild with nothing changed (goal: under 1 s; with
  --baseline-checkout, also as a ratio: 1 s where that code took 4.4 s, 0.23x);
- each figure per card, and how that grows from the smallest size (the goal: it does not);
- the first sync of 1,000 new cards against the AnkiConnect test server with a real Anki's
  costs (see bench_sync.py), against Obsidian_to_Anki's 4.38 s on the machine the issue was
  measured on (goal: at most 0.25x; with --baseline-checkout, also as a ratio against that
  checkout's first sync, each in a process of its own, in turn: the code issue 14 was filed
  against took 1.70 s, 0.39x, so the goal is 0.64x of it on any machine).

The goals in seconds and against Obsidian_to_Anki's figure hold on the issue's machine; on a
slower or quicker one the ratios against the code it was filed against
(`--baseline-checkout`, a checkout of f2b0fd0) are the ones to read.

Each copy of the one-card vault is made in a folder of its own on the disk (ext4's "top of a
hierarchy" flag on the folder that holds them, `chattr +T`, where the file system has it):
ext4 without a journal, as this machine's disk is, makes every create step over each inode
freed near it in the last minutes (`recently_deleted`), and the copy each run replaces is
20,000 such inodes; a user's vault has no copy of itself deleted beside it. So no copy is
deleted before the size's last run, and each is written out (`sync`) before the build is
timed (a build's one flush of the file system would write it too). The baseline's runs and
ours are made alike.

Builds and checks run in this process, as bench_build.py's do (an extra ~0.5 s of imports for
the command). The render pool uses every core (`NOTECARDS_RENDER_POOL` sets its threshold).

    python bench/bench_scale.py [--sizes 1000,10000,20000] [--repeat 3] [--no-sync]
        [--no-cold] [--baseline-checkout PATH]

(`--no-cold` leaves out the cold build and its baseline: at 20,000 cards bare markdown-it-py
alone takes a minute a run.)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench_build import bare_markdown_seconds  # bench/ is on sys.path when this script runs
from genvault import generate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' AnkiConnect server

from bench_sync import REAL_ANKI_ADD_NOTE_MS, Costs, first_sync  # noqa: E402

from notecards.build import build_vault  # noqa: E402
from notecards.commands.check import _check  # noqa: E402
from notecards.output import Reporter  # noqa: E402
from notecards.vault.state_dir import STATE_DIR  # noqa: E402

O2A_FIRST_SYNC_S = 4.38  # Obsidian_to_Anki's first sync of 1,000 new cards, the machine
# The *_ratio goals: issue 14's, against the code it was filed against: 8 s where that took
# 22.2 s, 1 s where it took 4.4 s, 0.25x Obsidian_to_Anki's 4.38 s where it took 1.70 s.
GOALS = {"cold": 0.35, "first": 8.0, "first_ratio": 0.36, "check": 2.0, "rebuild": 1.0,
         "rebuild_ratio": 0.23, "sync": 0.25, "sync_ratio": 0.64}  # fmt: skip
REPO = Path(__file__).resolve().parents[1]
# The first build, then the rebuild with nothing changed, imports done: what a checkout's
# code is timed by.
FIRST_BUILD = """
import sys, time
from pathlib import Path
from notecards.build import build_vault
for _ in range(2):
    start = time.perf_counter()
    build_vault(Path(sys.argv[1]), Path(sys.argv[2]))
    print(time.perf_counter() - start)
"""
# The first sync of a vault (argv[3]) by a checkout's code (argv[1]), into a new collection
# (argv[4]), at the costs of argv[5:]; the harness and the server are this checkout's
# (bench_sync.py, in argv[2]).
FIRST_SYNC = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import notecards  # the checkout's, before bench_sync puts this one on the path
sys.path.insert(0, sys.argv[2])
from bench_sync import Costs, first_sync
assert notecards.__file__.startswith(sys.argv[1])
costs = Costs(*map(float, sys.argv[5:]))
print(first_sync(Path(sys.argv[3]), Path(sys.argv[4]), costs)[0])
"""
SYNC_COSTS = Costs(latency_ms=25.0, add_note_ms=REAL_ANKI_ADD_NOTE_MS)  # a real Anki's


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def cold_build(root: Path, cards: int, repeat: int) -> tuple[float, float]:
    """Medians of (bare markdown-it-py, cold build), taken in turn."""
    vault, output = root / "cards", root / "cards.apkg"
    generate(vault, cards)
    bare, cold = [], []
    for _ in range(repeat):
        shutil.rmtree(vault / STATE_DIR, ignore_errors=True)
        output.unlink(missing_ok=True)
        bare.append(bare_markdown_seconds(vault))
        cold.append(timed(lambda: build_vault(vault, output)))
    return statistics.median(bare), statistics.median(cold)


def spread(folder: Path) -> Path:
    """`folder`, made, whose subfolders ext4 places as it places top-level ones (each in a
    block group of its own, not beside the copy just deleted); elsewhere just made."""
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # no chattr, or not ext2/3/4: nothing to spread
        subprocess.run(["chattr", "+T", str(folder)], capture_output=True, check=False)
    return folder


def on_disk_copy(pristine: Path, root: Path) -> Path:
    """A new copy of `pristine` in a folder of its own (`spread`), written out to the disk as
    a user's vault is before a build (not waiting in memory for the build's one flush of the
    file system). Copies stay until `root` goes: one deleted before the next is made would
    have the next made in the inodes it freed."""
    vault = Path(tempfile.mkdtemp(dir=spread(root / "copies"))) / "vault"
    shutil.copytree(pristine, vault)
    os.sync()
    return vault


def one_card_files(root: Path, files: int, repeat: int) -> tuple[float, float, float]:
    """Medians of (first build writing every ID, check warm, unchanged rebuild)."""
    pristine = root / "files-pristine"
    generate(pristine, files, with_ids=False, per_file=1, short=True)
    first, check, rebuild = [], [], []
    output = root / "files.apkg"
    for _ in range(repeat):
        output.unlink(missing_ok=True)
        vault = on_disk_copy(pristine, root)
        first.append(timed(partial(build_vault, vault, output)))
        check.append(timed(partial(_check, vault, Reporter(quiet=True))))
        rebuild.append(timed(partial(build_vault, vault, output)))
        assert not build_vault(vault, output).written, "the rebuild found something to do"
    return statistics.median(first), statistics.median(check), statistics.median(rebuild)


def first_build_by(checkout: Path, pristine: Path, root: Path) -> tuple[float, float]:
    """Seconds of the first build of a copy of `pristine` by `checkout`'s code, and of the
    rebuild after it, in a process of its own (its imports not counted)."""
    output = root / "files-by.apkg"
    output.unlink(missing_ok=True)
    vault = on_disk_copy(pristine, root)
    run = subprocess.run(
        [sys.executable, "-c", FIRST_BUILD, str(vault), str(output)],
        env={**os.environ, "PYTHONPATH": str(checkout)},
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    first, rebuild = map(float, run.stdout.split()[-2:])
    return first, rebuild


def first_build_against(
    root: Path, baseline: Path, repeat: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Medians of (the baseline's, this checkout's) first build, and of their rebuilds, taken
    in turn on copies of the same vault of one-card files (`one_card_files` made it)."""
    pristine = root / "files-pristine"
    theirs, ours = [], []
    for _ in range(repeat):
        theirs.append(first_build_by(baseline, pristine, root))
        ours.append(first_build_by(REPO, pristine, root))
    first, rebuild = (
        (statistics.median(t[step] for t in theirs), statistics.median(o[step] for o in ours))
        for step in (0, 1)
    )
    return first, rebuild


def first_sync_by(checkout: Path, vault: Path, collection: Path) -> float:
    """Seconds of the first sync of `vault` by `checkout`'s code, in a process of its own."""
    script = [FIRST_SYNC, str(checkout), str(REPO / "bench"), str(vault), str(collection),
              str(SYNC_COSTS.latency_ms), str(SYNC_COSTS.add_note_ms)]  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-c", *script], cwd=checkout, capture_output=True, text=True, check=True
    )
    return float(run.stdout.split()[-1])


def sync_against(root: Path, baseline: Path, repeat: int) -> tuple[float, float]:
    """Medians of (the baseline's first sync of 1,000 new cards, this checkout's), in turn,
    each of the vault `sync_figure` made, on a fresh server."""
    vault = root / "sync-vault"
    theirs, ours = [], []
    for run in range(repeat):
        for which, (checkout, seconds) in enumerate(((baseline, theirs), (REPO, ours))):
            collection = root / f"by-{run}-{which}" / "collection.anki2"
            seconds.append(first_sync_by(checkout, vault, collection))
    return statistics.median(theirs), statistics.median(ours)


def sync_figure(root: Path, repeat: int) -> float:
    """Median seconds of the first sync of 1,000 new cards, a fresh server each time."""
    vault = root / "sync-vault"
    generate(vault, 1000, with_ids=False)
    seconds = []
    for run in range(repeat):
        collection = root / f"anki-{run}" / "collection.anki2"
        seconds.append(first_sync(vault, collection, SYNC_COSTS)[0])
        shutil.rmtree(collection.parent.parent / "vault", ignore_errors=True)
    return statistics.median(seconds)


def per_card(seconds: float, cards: int) -> str:
    return f"{seconds / cards * 1e6:7.0f} us/card"


def growth(rows: list[tuple[int, float]]) -> str:
    """Cost per card at each size over the smallest's: 1.00 everywhere is linear."""
    base = rows[0][1] / rows[0][0]
    return " ".join(f"{seconds / cards / base:.2f}" for cards, seconds in rows)


def goal(value: float, limit: float, unit: str) -> str:
    return f"(goal <= {limit:g}{unit}: {'met' if value <= limit else 'NOT met'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,20000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-sync", action="store_true")
    parser.add_argument("--no-cold", action="store_true", help="only the one-card files")
    parser.add_argument(
        "--baseline-checkout",
        type=Path,
        help="a checkout of older code: the first build's ratio against it is printed too",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    cold_rows, first_rows, check_rows, rebuild_rows = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="notecards-scale-") as tmp:
        for size in sizes:
            root = Path(tmp) / str(size)
            if not args.no_cold:
                bare, cold = cold_build(root, size, args.repeat)
                cold_rows.append((size, cold))
            first, check, rebuild = one_card_files(root, size, args.repeat)
            if args.baseline_checkout:
                first_against, rebuild_against = first_build_against(
                    root, args.baseline_checkout.resolve(), args.repeat
                )
            shutil.rmtree(root)
            first_rows.append((size, first))
            check_rows.append((size, check))
            rebuild_rows.append((size, rebuild))
            if not args.no_cold:
                print(f"{size} cards:")
                print(f"  bare markdown-it-py     {bare:8.3f} s  {per_card(bare, size)}")
                ratio = cold / bare
                print(f"  cold build              {cold:8.3f} s  {per_card(cold, size)}  "
                      f"ratio {ratio:.2f}x {goal(ratio, GOALS['cold'], 'x')}")  # fmt: skip
            print(f"{size} one-card files:")
            print(f"  first build, IDs in all {first:8.3f} s  {per_card(first, size)}  "
                  f"{goal(first, GOALS['first'], ' s')}")  # fmt: skip
            if args.baseline_checkout:
                theirs, ours = first_against
                print(f"  first build, processes  {ours:8.3f} s  against {theirs:.3f} s of "
                      f"{args.baseline_checkout}: ratio {ours / theirs:.2f}x "
                      f"{goal(ours / theirs, GOALS['first_ratio'], 'x')}")  # fmt: skip
            print(f"  check, caches warm      {check:8.3f} s  {per_card(check, size)}  "
                  f"{goal(check, GOALS['check'], ' s')}")  # fmt: skip
            print(f"  unchanged rebuild       {rebuild:8.3f} s  {per_card(rebuild, size)}  "
                  f"{goal(rebuild, GOALS['rebuild'], ' s')}", flush=True)  # fmt: skip
            if args.baseline_checkout:
                theirs, ours = rebuild_against
                ratio = ours / theirs
                print(f"  rebuild, processes      {ours:8.3f} s  against {theirs:.3f} s: "
                      f"ratio {ratio:.2f}x {goal(ratio, GOALS['rebuild_ratio'], 'x')}",
                      flush=True)  # fmt: skip
        print(f"cost per card against {sizes[0]} (1.00: it does not grow):")
        rows = {"cold build": cold_rows, "first build": first_rows, "check": check_rows,
                "unchanged rebuild": rebuild_rows}  # fmt: skip
        for label, figures in rows.items():
            if figures:
                print(f"  {label + ':':20} {growth(figures)}")
        print("(the goals in seconds are for 20,000 files on an idle machine)")
        if not args.no_sync:
            sync = sync_figure(Path(tmp) / "sync", args.repeat)
            ratio = sync / O2A_FIRST_SYNC_S
            print(f"first sync of 1000 new cards, real Anki's costs: {sync:.3f} s  "
                  f"ratio {ratio:.2f}x Obsidian_to_Anki's {O2A_FIRST_SYNC_S} s "
                  f"{goal(ratio, GOALS['sync'], 'x')}")  # fmt: skip
            if args.baseline_checkout:
                root = Path(tmp) / "sync"
                theirs, ours = sync_against(root, args.baseline_checkout.resolve(), args.repeat)
                print(f"first sync, processes {ours:.3f} s against {theirs:.3f} s of "
                      f"{args.baseline_checkout}: ratio {ours / theirs:.2f}x "
                      f"{goal(ours / theirs, GOALS['sync_ratio'], 'x')}")  # fmt: skip


if __name__ == "__main__":
    main()
