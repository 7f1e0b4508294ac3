"""Benchmark the dispatching block parser (notecards/render/block_dispatch.py).

Renders the notes of a generated vault in one process, with the renderer as it is and with
markdown-it's own block Ruler, alternately in fresh processes, and prints the cost of each,
their medians and what the dispatch saves. The cost is the CPU seconds of the rendering
(process_time), or with --instructions the instructions valgrind's callgrind counts for the
whole process less those of one that renders nothing (deterministic: the machine is shared,
and its times are noise next to a 10% difference).

    python bench/bench_block_dispatch.py [--cards 10000] [--repeat 5] [--vault DIR]
    python bench/bench_block_dispatch.py --instructions --cards 1000 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from genvault import generate  # bench/ is on sys.path when this script runs

REPO = Path(__file__).resolve().parents[1]
_COLLECTED = re.compile(r"Collected : (\d+)")


def render_cpu_seconds(root: Path, stock: bool, notes: int | None) -> float:
    """CPU seconds of rendering the first `notes` notes of the vault at `root` (None: all)."""
    sys.path.insert(0, str(REPO))
    from notecards.render import renderer
    from notecards.vault import load_vault

    if stock:
        renderer.block_dispatch_plugin = lambda md: None
    vault = load_vault(root)
    rendering = renderer.Renderer(vault.config, root)
    start = time.process_time()
    for note in vault.parsed.notes[:notes]:
        rendering.render(note)
    return time.process_time() - start


def _in_fresh_process(root: Path, stock: bool, notes: int | None, instructions: bool) -> float:
    """CPU seconds, or instructions (whole process), of one process rendering the notes."""
    command = [sys.executable, __file__, "--vault", str(root), "--one"]
    command += ["--stock"] if stock else []
    command += ["--notes", str(notes)] if notes is not None else []
    if not instructions:
        return float(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    valgrind = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(valgrind + command, check=True, capture_output=True, text=True, env=env)
    return float(_COLLECTED.findall(done.stderr)[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--vault", type=Path, help="an existing vault (default: generated)")
    parser.add_argument("--notes", type=int, help="render only the first NOTES notes")
    parser.add_argument("--instructions", action="store_true", help="count with callgrind")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stock", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(render_cpu_seconds(args.vault, args.stock, args.notes))
        return
    unit = "instructions" if args.instructions else "CPU s"
    with tempfile.TemporaryDirectory() as scratch:
        root = args.vault
        if root is None:
            root = Path(scratch) / "vault"
            generate(root, cards=args.cards)
        baseline = _in_fresh_process(root, True, 0, True) if args.instructions else 0.0
        figures: dict[bool, list[float]] = {True: [], False: []}
        for run in range(args.repeat):
            for stock in (run % 2 == 0, run % 2 != 0):  # alternate which goes first
                cost = _in_fresh_process(root, stock, args.notes, args.instructions)
                figures[stock].append(cost - baseline)
            stock_cost, dispatch_cost = figures[True][-1], figures[False][-1]
            print(f"run {run + 1}: markdown-it's {stock_cost:.4g}, dispatching {dispatch_cost:.4g}")
    stock_cost, dispatch_cost = statistics.median(figures[True]), statistics.median(figures[False])
    print(f"rendering, {unit}, median of {args.repeat}: markdown-it's Ruler {stock_cost:.4g},")
    print(f"  dispatching Ruler {dispatch_cost:.4g}: {dispatch_cost / stock_cost:.3f}x,")
    print(f"  {100 * (1 - dispatch_cost / stock_cost):.1f}% saved")


if __name__ == "__main__":
    main()
