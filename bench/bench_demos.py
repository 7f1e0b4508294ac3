"""Time of each demo at its default settings against the 30 s budget on a 2-core laptop.

Each demo runs in a fresh process, twice: "cold", with an empty weight cache (the first demo a
learner runs trains the shared base model and pi_SFT), then "warm" (they come from the cache
folder, demos/training.py). Torch runs on one thread (demos/cli.py says why). The figure is CPU
time (user + system of the demo's process): on shared cores a busy neighbour stretches the wall
time, not the work; the wall time and the load average are printed beside it.
Run: python bench/bench_demos.py [--runs N] [NAME ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from notecards.demo_catalog import DEMOS

BUDGET_S = 30.0  # the target per demo, at default settings, on 2 CPU cores
# this checkout's demos/, even where an installed notecards.demos (another checkout's editable
# install) would be found first
ROOT = Path(__file__).resolve().parent.parent


def run_demo(name: str, cache: str) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run of demo `name` with the weight cache `cache`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, "NOTECARDS_DEMO_CACHE": cache, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", f"demos.{name}"], capture_output=True, text=True, env=env, cwd=ROOT
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"demo {name} failed (exit {result.returncode}): {result.stderr[-500:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return cpu, wall


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs of each (medians printed)")
    parser.add_argument("names", nargs="*", default=list(DEMOS))
    args = parser.parse_args(argv)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPU cores, load average {load}; budget {BUDGET_S:.0f} s per demo")
    print(
        f"{'':14} {'cold CPU':>9} {'warm CPU':>9} {'cold wall':>10} {'warm wall':>10}  warm/budget"
    )
    over = 0
    for name in args.names:
        runs = {"cold": [], "warm": []}
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="demo-weights-") as cache:
                runs["cold"].append(run_demo(name, cache))
                runs["warm"].append(run_demo(name, cache))
        cpu = {k: statistics.median(c for c, _ in v) for k, v in runs.items()}
        wall = {k: statistics.median(w for _, w in v) for k, v in runs.items()}
        ratio = cpu["warm"] / BUDGET_S
        over += ratio > 1
        print(
            f"{name:14} {cpu['cold']:8.1f}s {cpu['warm']:8.1f}s {wall['cold']:9.1f}s "
            f"{wall['warm']:9.1f}s  {ratio:4.2f}x"
        )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
