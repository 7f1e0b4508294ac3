"""CPU of rendering a vault's notes with markdown-it's own inline parser and with ours
(`notecards/render/inline_dispatch.py`), in turn, in one process (no render cache).

Figures printed: the medians of --repeat runs of each (time.process_time), and their ratio.
The two must give the same HTML, which is checked first.

    python bench/bench_inline.py [--cards 2000] [--repeat 5] [--vault DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from genvault import generate  # bench/ is on sys.path when this script runs

import notecards.render.renderer as renderer_module
from notecards.render.renderer import Renderer
from notecards.vault.load import load_vault


def stock_renderer(vault, root: Path) -> Renderer:
    """A Renderer configured as ours, keeping markdown-it's inline parser."""
    ours = renderer_module.InlineDispatch
    renderer_module.InlineDispatch = lambda parser: parser
    try:
        return Renderer(vault.config, root)
    finally:
        renderer_module.InlineDispatch = ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--vault", type=Path, help="a vault to render (default: generated)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.vault or Path(tmp) / "vault"
        if args.vault is None:
            generate(root, args.cards)
        vault = load_vault(root)
        notes = vault.parsed.notes
        ours, stock = Renderer(vault.config, root), stock_renderer(vault, root)
        for note in notes:
            assert ours.render(note).fields == stock.render(note).fields, note.path
        seconds: dict[str, list[float]] = {"stock": [], "ours": []}
        for _ in range(args.repeat):
            for name, renderer in (("stock", stock), ("ours", ours)):
                start = time.process_time()
                for note in notes:
                    renderer.render(note)
                seconds[name].append(time.process_time() - start)
    stock_s, ours_s = (statistics.median(seconds[name]) for name in ("stock", "ours"))
    print(f"{len(notes)} notes, medians of {args.repeat} (CPU s)")
    print(f"  markdown-it's inline parser  {stock_s:7.3f}")
    print(f"  InlineDispatch               {ours_s:7.3f}  ({ours_s / stock_s:.3f}x)")


if __name__ == "__main__":
    main()
