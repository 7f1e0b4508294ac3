"""Benchmark `notecards build` on a generated vault (default 10,000 cards).

Figures printed:
- baseline: bare markdown-it-py (one MarkdownIt, commonmark + tables + strikethrough)
  rendering every field of the vault, nothing else;
- cold build: no render cache, no manifest, no package (goal: at most 1.2x the baseline);
- warm build: nothing changed since the last build (goal: under 1 s);
- one edit: one card changed, everything else cached.

    python bench/bench_build.py [--cards 10000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from genvault import generate  # bench/ is on sys.path when this script runs
from markdown_it import MarkdownIt

from notecards.build import build_vault
from notecards.vault import load_vault


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def bare_markdown_seconds(root: Path) -> float:
    fields = [text for note in load_vault(root).parsed.notes for text in note.fields.values()]
    md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    seconds, _ = timed(lambda: [md.render(text) for text in fields])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="generate the vault here and keep it")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="notecards-bench-"))
    try:
        files = generate(root / "vault", args.cards)
        vault, output = root / "vault", root / "out.apkg"
        baseline = bare_markdown_seconds(vault)
        cold, summary = timed(lambda: build_vault(vault, output))
        warm, _ = timed(lambda: build_vault(vault, output))
        text = files[0].read_text(encoding="utf-8")
        edited = text.replace("Back: \n", "Back: \nedited ", 1)  # one existing card's text
        assert edited != text, "the generated vault has no 'Back:' field to edit"
        files[0].write_text(edited, encoding="utf-8")
        edit, _ = timed(lambda: build_vault(vault, output))
    finally:
        if args.keep is None:
            shutil.rmtree(root)
    print(f"notes:                 {summary.notes}")
    print(f"bare markdown-it-py:   {baseline:7.3f} s")
    print(f"cold build:            {cold:7.3f} s   ratio {cold / baseline:.2f}x (goal <= 1.2x)")
    print(f"unchanged rebuild:     {warm:7.3f} s   (goal < 1 s)")
    print(f"rebuild after 1 edit:  {edit:7.3f} s")


if __name__ == "__main__":
    main()
