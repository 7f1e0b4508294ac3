"""Benchmark every scanner on the input that would make it quadratic: a field (or a file)
of 100k and of 200k of one thing, repeated.

Figures printed, for each case: CPU seconds (what else the machine runs does not count) to
parse and to render at the size and at twice the size, and the ratio of the two (about 2
where the work is linear, 4 where it is quadratic); then the same for bare markdown-it-py
(commonmark + tables + strikethrough, rendering the same text) as the baseline. Nothing is
asserted. A field is parsed in a Cloze block and rendered as a Cloze field; a file is parsed
only (most of its cases hold no note to render). The settings turn on every scanner: curly
and highlight clozes, Obsidian tags, context, a custom regexp. Each figure is the best of
two runs.

    python bench/bench_scanners.py [--size 100000] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from markdown_it import MarkdownIt

from notecards.config import VaultConfig
from notecards.parse import parse_file
from notecards.problems import NotecardsError
from notecards.render import Renderer

CONFIG = VaultConfig(
    vault_name="bench",
    curly_cloze=True,
    highlights_to_cloze=True,
    add_obsidian_tags=True,
    add_context=True,
    custom_regexps={"Basic": r"^Q: (.+)\nA: (.+)"},
)
BARE = MarkdownIt("commonmark").enable(["table", "strikethrough"])

# A field: this text repeated up to the size, in characters.
FIELDS = {
    "[": "[",
    "![[": "![[",
    "$": "$",
    "$a ": "$a ",  # inline math openers without a closer
    "$$a\\n\\n": "$$a\n\n",  # display math openers without a closer
    "==": "==",
    "==a": "==a",
    "{": "{",
    "a{": "a{",
    "<!--": "<!--",
    "%%": "%%",  # Obsidian comments, each closing the one before it
    "%%\\n": "%%\n",  # block comments, a line each
    "a %%b\\n\\n": "a %%b\n\n",  # comment openers that nothing closes
    "![[n#h]] ": "![[n#h]] ",  # embeds of a note the vault lacks: a warning and a link each
    "x ^id\\n\\n": "x ^id\n\n",  # block ids, hidden
    "`": "`",
    "> [!note]": "> [!note]\n\n",
}


def repeat(unit: str) -> Callable[[int], str]:
    return lambda size: unit * (size // len(unit))


# A file: this line repeated up to the size, in lines (a one-line case: in characters).
FILES: dict[str, Callable[[int], str]] = {
    "START": lambda n: "START\n" * n,
    "STARTI": lambda n: "STARTI\n" * n,
    "STARTI [Basic] x ENDI": lambda n: "STARTI [Basic] x ENDI\n" * n,
    "END": lambda n: "END\n" * n,
    "Tags: a": lambda n: "Tags: a\n" * n,
    "Tags: in a block": lambda n: "START\nBasic\nq\n" + "Tags: a\n" * n + "END\n",
    "<!--ID: 1-->": lambda n: "<!--ID: 1-->\n" * n,
    "<!--": lambda n: "<!--\n" * n,
    "%%": lambda n: "%%\n" * n,
    "$a": lambda n: "$a\n" * n,
    "blank lines in a block": lambda n: "START\n" + "\n" * n + "Basic\nq\nEND\n",
    "# heading, note": lambda n: "# h\nSTARTI [Basic] x ENDI\n" * (n // 2),
    "Q: / A: (regexp notes)": lambda n: "Q: a\nA: b\n\n" * (n // 3),
    "one line: Tags: a, spaces, b": lambda n: "START\nBasic\nq\nTags: a" + " " * n + "b\nEND\n",
    "one line: STARTI, spaces": lambda n: "STARTI [Basic] a" + " " * n + "b ENDI\n",
}


@dataclass(frozen=True)
class Case:
    name: str
    text: Callable[[int], str]  # the field's (or the file's) text at a size
    is_field: bool
    config: VaultConfig = field(default_factory=lambda: CONFIG)

    def file(self, size: int) -> str:
        return f"START\nCloze\n{self.text(size)}\nEND\n" if self.is_field else self.text(size)


def frozen_fields(size: int) -> str:
    return "FROZEN - Basic:\n" + "x\n" * (size // 2) + "\nSTARTI [Basic] x ENDI\n" * (size // 2)


CASES = [
    *(Case(f"field of {name}", repeat(unit), True) for name, unit in FIELDS.items()),
    *(Case(f"file of {name}", lines, False) for name, lines in FILES.items()),
    # without context: with it, each note carries its own copy of the frozen lines (n^2 output)
    Case("file of FROZEN, notes", frozen_fields, False, replace(CONFIG, add_context=False)),
]
RUNS = 2  # the best of: the garbage collector and the caches only add time


def seconds(action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(RUNS):
        start = time.process_time()
        action()
        best = min(best, time.process_time() - start)
    return best


def parsing(case: Case, size: int) -> float:
    text = case.file(size)
    return seconds(lambda: parse_file(text, "bench.md", case.config))


def rendering(case: Case, size: int, renderer: Renderer) -> float:
    text = case.text(size)

    def render() -> None:
        # a field that cannot render (a missing embed) has been scanned all the same
        with contextlib.suppress(NotecardsError):
            renderer.render_field(text, cloze=True, path="bench.md", line=3)

    return seconds(render)


def bare_markdown_it(case: Case, size: int) -> float:
    text = case.text(size)
    return seconds(lambda: BARE.render(text))


def figures(case: Case, size: int, measure: Callable[[Case, int], float] | None) -> str:
    if measure is None:
        return f"{'-':>8} {'-':>8} {'-':>6}"
    small, large = measure(case, size), measure(case, 2 * size)
    return f"{small:8.2f} {large:8.2f} {large / max(small, 1e-9):6.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--only", nargs="*", help="case names to run (default: all)")
    args = parser.parse_args()
    renderer = Renderer(CONFIG, Path(tempfile.mkdtemp(prefix="notecards-bench-")))
    size = f"{args.size // 1000}k"
    print(
        f"{'case':38} {'parse ' + size:>8} {'x2':>8} {'ratio':>6} | {'render':>8} {'x2':>8}"
        f" {'ratio':>6} | {'bare md':>8} {'x2':>8} {'ratio':>6}"
    )
    for case in CASES:
        if args.only and case.name.split(" of ", 1)[1] not in args.only:
            continue
        render = partial(rendering, renderer=renderer) if case.is_field else None
        row = " | ".join(figures(case, args.size, m) for m in (parsing, render, bare_markdown_it))
        print(f"{case.name:38} {row}", flush=True)


if __name__ == "__main__":
    main()
