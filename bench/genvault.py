"""Generate a realistic vault of N cards for the benchmarks: math, lists, links, tables, code.

Cards are spread over topic folders, 25 per file (or `--per-file`), with TARGET DECK / FILE
TAGS headers, and (by default) an ID each, as a vault looks after its first sync. `--short`
cards have a back of one line. Deterministic per --seed.

    python bench/genvault.py /tmp/vault --cards 10000
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

CARDS_PER_FILE = 25
FIRST_ID = 1_700_000_000_000
TOPICS = ("optimisation", "probability", "transformers", "alignment", "vision", "rl")
WORDS = (
    "gradient", "loss", "policy", "reward", "model", "token", "attention", "softmax", "entropy",
    "prior", "posterior", "sample", "batch", "layer", "weight", "bias", "variance",
    "expectation", "kernel", "update", "step", "schedule",
)  # fmt: skip
FORMULAS = (
    r"\ell_\mathrm{DPO} = -\log \sigma\left(\beta[\log \pi_\theta(Y^+ | X)"
    r" - \log \pi_\theta(Y^- | X)]\right)",
    r"\max_\theta \mathbb{E}_{Y\sim\pi_\theta(. | X)}\left[r_\vartheta(X, Y)"
    r" - \beta\mathrm{KL}(\pi_\theta || \pi_{SFT})\right]",
    r"\mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}",
    r"\{X^{(1)},..., X^{(n)}\} \text{ with } a_{ij} < b_{ij} \;\&\; c > d",
    r"\theta_{t+1} = \theta_t - \eta \nabla_\theta \mathcal{L}(\theta_t)",
)


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def card_back(rng: random.Random, topic: str) -> str:
    """A back of about 1-2 KB: heading, bullets with inline math, display math, a link."""
    parts = [f"## {sentence(rng, 3).title()}", ""]
    for _ in range(rng.randint(3, 7)):
        parts.append(
            f"- **{sentence(rng, 2)}** {sentence(rng, 8)} ${rng.choice(FORMULAS)}$ "
            f"see [[{topic} {rng.randint(1, 40)}]]"
        )
    parts += ["", "$$", rng.choice(FORMULAS), "$$", ""]
    if rng.random() < 0.3:
        parts += ["| term | meaning |", "|---|---|", f"| {sentence(rng, 1)} | {sentence(rng, 5)} |"]
    if rng.random() < 0.2:
        parts += ["```python", "loss = -F.logsigmoid(beta * margin).mean()", "```"]
    parts.append(f"1) {sentence(rng, 6)}\n2) {sentence(rng, 6)}")
    return "\n".join(parts)


def short_back(rng: random.Random, topic: str) -> str:
    """A back of one line: a sentence, a formula, a link (where a vault's cost is its files)."""
    return f"{sentence(rng, 8)} ${rng.choice(FORMULAS)}$ see [[{topic} {rng.randint(1, 40)}]]"


def card(rng: random.Random, topic: str, note_id: int | None, *, short: bool = False) -> str:
    lines = ["START", "Basic", f"what is **{sentence(rng, 3)}**?", f"- {sentence(rng, 6)}"]
    back = short_back(rng, topic) if short else card_back(rng, topic)
    lines += ["Back: ", back, "", f"Tags: ml {topic}"]
    if note_id is not None:
        lines.append(f"<!--ID: {note_id}-->")
    lines.append("END")
    return "\n".join(lines)


def generate(
    root: Path,
    cards: int,
    *,
    seed: int = 0,
    with_ids: bool = True,
    per_file: int = CARDS_PER_FILE,
    short: bool = False,
) -> list[Path]:
    """Write the vault (`per_file` cards a file, `short` ones of a line); returns the markdown
    files written."""
    rng = random.Random(seed)
    files = []
    for file_index, start in enumerate(range(0, cards, per_file)):
        topic = TOPICS[file_index % len(TOPICS)]
        path = root / topic / f"notes {file_index:05d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        blocks = [f"TARGET DECK: ML::{topic}", "", f"# {topic} {file_index}", sentence(rng, 20)]
        for index in range(start, min(start + per_file, cards)):
            note_id = FIRST_ID + index if with_ids else None
            blocks += ["", card(rng, topic, note_id, short=short), ""]
        path.write_text("\n".join(blocks) + "\n", encoding="utf-8")
        files.append(path)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--cards", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--without-ids", action="store_true", help="cards as written, before sync")
    parser.add_argument("--per-file", type=int, default=CARDS_PER_FILE, help="cards in each file")
    parser.add_argument("--short", action="store_true", help="backs of one line")
    args = parser.parse_args()
    files = generate(
        args.root,
        args.cards,
        seed=args.seed,
        with_ids=not args.without_ids,
        per_file=args.per_file,
        short=args.short,
    )
    print(f"{args.cards} cards in {len(files)} files under {args.root}")


if __name__ == "__main__":
    main()
