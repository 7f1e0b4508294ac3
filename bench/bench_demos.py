"""Wall time of each demo at its default settings against the 30 s budget on a 2-core laptop.

Each demo runs in a fresh process (`notecards demo --time` does the same), so no demo profits
from a base model another one trained; torch runs on one thread there (demos/cli.py says why).
The load average is printed first: on shared cores a busy neighbour stretches every figure.
Run: python bench/bench_demos.py [NAME ...]
"""

from __future__ import annotations

import os
import sys

from notecards.commands.demo import time_demo
from notecards.demo_catalog import DEMOS

BUDGET_S = 30.0  # the target per demo, at default settings, on 2 CPU cores


def main(names: list[str]) -> int:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPU cores, load average {load}; budget {BUDGET_S:.0f} s per demo")
    over = 0
    for name in names or list(DEMOS):
        seconds = time_demo(name)
        ratio = seconds / BUDGET_S
        over += ratio > 1
        print(f"{name:14} {seconds:6.1f} s   {ratio:4.2f}x budget")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
