"""In-context learning: a task read from the prompt, with no weight updated at test time.

Two tiny GPTs, trained only on next-token prediction:

1. Algorithmic ICL (an induction head). Trained on random letter strings that repeat
   themselves ("qdkfm" + "qdkfm"), the model learns the rule "find where the current letter
   appeared before and copy the letter that followed it": prompt A B C ... A B -> C.
   It is tested on strings whose neighbouring letters never stood together in training,
   so it cannot have memorized them.

2. Semantic ICL. Pretrained on lists of facts, one relation a list
   ("cat -> katze, dog -> hund" or "cat -> cats, dog -> dogs" or "cat -> animal, egg -> food"),
   the model knows the facts; the prompt's examples tell it which relation is asked:
   "cow -> kuh, egg -> ei, cat -> ?" gives "katze". More examples, more accurate.

Run: notecards demo icl   (or: python demos/icl.py --quick)
"""

from __future__ import annotations

import random

import torch
import torch.nn.functional as F

try:
    from . import tinylm  # imported as demos.icl or notecards.demos.icl
except ImportError:  # run as a script: python demos/icl.py
    import tinylm

# settings
INDUCTION_STEPS = 400  # training steps for the induction model
SEMANTIC_STEPS = 400  # pretraining steps for the fact-list model
QUICK_STEPS = 300  # --quick: both models
LETTERS = "abcdefghijklmnopqrst"  # the induction model's "tokens"
HELD_OUT_PAIRS = 0.3  # share of letter pairs (x then y) never adjacent in training
SEGMENT_LENGTHS = (4, 10)  # the repeated segment is 4..10 letters; varying it forces real lookup
SHOTS = (0, 1, 2, 4)  # numbers of examples in the semantic prompts
TEST_PROMPTS = 120  # per measurement
LR = 3e-3
BATCH_SIZE = 32
PRINT_EVERY = 100


# ------------------------------------------------------------------------------------------------
# 1. algorithmic ICL


def letter_pairs(rng: random.Random) -> tuple[set[str], set[str]]:
    """Split all ordered letter pairs "xy" into those seen in training and those held out."""
    pairs = [a + b for a in LETTERS for b in LETTERS if a != b]
    rng.shuffle(pairs)
    n_held = int(len(pairs) * HELD_OUT_PAIRS)
    return set(pairs[n_held:]), set(pairs[:n_held])


def random_walk(rng: random.Random, length: int, pairs: set[str]) -> str:
    """A string of distinct letters in which every neighbouring pair is in `pairs`."""
    while True:
        text = rng.choice(LETTERS)
        while len(text) < length:
            options = [b for b in LETTERS if text[-1] + b in pairs and b not in text]
            if not options:
                break
            text += rng.choice(options)
        if len(text) == length:
            return text


def repeat_batch(rng: random.Random, n: int, pairs: set[str]) -> list[str]:
    """Strings "segment + segment": the second half is predictable only by looking back."""
    return [random_walk(rng, rng.randint(*SEGMENT_LENGTHS), pairs) * 2 for _ in range(n)]


def encode_equal(texts: list[str], device) -> torch.Tensor:
    """Right-pad and stack; causal attention never lets a letter see the padding after it."""
    rows = [tinylm.TOKENIZER.encode(t) for t in texts]
    width = max(map(len, rows))
    padded = [r + [tinylm.TOKENIZER.pad_id] * (width - len(r)) for r in rows]
    return torch.tensor(padded, device=device)


@torch.no_grad()
def repeat_accuracy(model: tinylm.TinyGPT, texts: list[str], device) -> tuple[float, float]:
    """Next-letter accuracy in the second copy (after its first letter) and in the first copy."""
    ids = encode_equal(texts, device)
    predicted = model(ids).argmax(-1)  # predicted[:, t] is the guess for ids[:, t + 1]
    hits = {"repeat": [], "first": []}
    for i, text in enumerate(texts):
        half = len(text) // 2
        for t in range(1, len(text) - 1):
            part = "repeat" if t >= half else "first"
            hits[part].append(predicted[i, t].item() == ids[i, t + 1].item())
    return sum(hits["repeat"]) / len(hits["repeat"]), sum(hits["first"]) / len(hits["first"])


def train_induction(steps: int, rng: random.Random, pairs: set[str], device) -> tinylm.TinyGPT:
    model = tinylm.TinyGPT(tinylm.TOKENIZER.vocab_size, max_len=2 * SEGMENT_LENGTHS[1]).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    for step in range(1, steps + 1):
        ids = encode_equal(repeat_batch(rng, BATCH_SIZE, pairs), device)
        logits = model(ids[:, :-1])
        targets = ids[:, 1:].masked_fill(ids[:, 1:] == tinylm.TOKENIZER.pad_id, -100)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % PRINT_EVERY == 0 or step == steps:
            print(f"induction step {step}: loss {loss.item():.3f}")
    return model


# ------------------------------------------------------------------------------------------------
# 2. semantic ICL


def fact_list(rng: random.Random, relation: str, n: int) -> list[tuple[str, str]]:
    """n facts of one relation about n different words, as (word, answer) pairs."""
    return [(w.english, tinylm.answer(w, relation)) for w in rng.sample(tinylm.WORDS, n)]


def fact_list_text(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{x} -> {y}" for x, y in pairs)


def fact_corpus(rng: random.Random, n_lines: int) -> str:
    """Pretraining text: lists of 1..5 facts, each list about one relation."""
    lines = [
        fact_list_text(fact_list(rng, rng.choice(tinylm.RELATIONS), rng.randint(1, 5)))
        for _ in range(n_lines)
    ]
    return "\n".join(lines) + "\n"


def train_semantic(steps: int, rng: random.Random, device) -> tinylm.TinyGPT:
    model = tinylm.TinyGPT(tinylm.TOKENIZER.vocab_size, max_len=96).to(device)
    ids = torch.tensor(tinylm.TOKENIZER.encode(fact_corpus(rng, 3000)))
    generator = torch.Generator().manual_seed(rng.randint(0, 2**31))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    for step in range(1, steps + 1):
        x, y = tinylm.text_batch(ids, BATCH_SIZE, model.max_len, generator)
        logits = model(x.to(device))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.to(device).reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % PRINT_EVERY == 0 or step == steps:
            print(f"fact-list step {step}: loss {loss.item():.3f}")
    return model


def few_shot_prompt(rng: random.Random, relation: str, shots: int) -> tuple[str, str]:
    """k examples of one relation and a query word: ("cow -> kuh, egg -> ei, cat -> ", "katze")."""
    *examples, (query, target) = fact_list(rng, relation, shots + 1)
    prefix = fact_list_text(examples) + ", " if examples else ""
    return f"\n{prefix}{query} -> ", target


def few_shot_accuracy(model: tinylm.TinyGPT, rng: random.Random, shots: int) -> float:
    prompts, targets = [], []
    for _ in range(TEST_PROMPTS):
        prompt, target = few_shot_prompt(rng, rng.choice(tinylm.RELATIONS), shots)
        prompts.append(prompt)
        targets.append(target)
    answers = tinylm.answer_batch(model, prompts, max_new_tokens=12)
    right = [a.split(",")[0].split("\n")[0] == t for a, t in zip(answers, targets, strict=True)]
    return sum(right) / len(right)


def main(argv: list[str] | None = None) -> dict:
    args = tinylm.demo_args(
        "icl",
        "In-context learning: an induction head, and a task read from examples.",
        {"steps": INDUCTION_STEPS, "quick_steps": QUICK_STEPS, "semantic_steps": SEMANTIC_STEPS},
        argv,
    )
    if args.quick and "--semantic-steps" not in (argv or []):
        args.semantic_steps = QUICK_STEPS
    tinylm.set_seed(args.seed)
    device = tinylm.pick_device(args.device)
    rng = random.Random(args.seed)

    print("1. algorithmic ICL: train on random strings that repeat, like 'qdkfm' + 'qdkfm'")
    seen_pairs, held_pairs = letter_pairs(rng)
    test_texts = repeat_batch(rng, TEST_PROMPTS, held_pairs)
    untrained = tinylm.TinyGPT(tinylm.TOKENIZER.vocab_size, max_len=2 * SEGMENT_LENGTHS[1])
    repeat_before, _ = repeat_accuracy(untrained.to(device), test_texts, device)
    model = train_induction(args.steps, rng, seen_pairs, device)
    repeat_acc, first_acc = repeat_accuracy(model, test_texts, device)
    example = test_texts[0]
    half = len(example) // 2
    completion = tinylm.generate(model, tinylm.TOKENIZER, example[: half + 2], half - 2)
    prompt, rest = example[: half + 2], example[half + 2 :]
    print(f"  unseen string: {prompt!r} -> {completion!r} (right: {rest!r})")
    print(f"  next-letter accuracy on unseen strings, second copy: {repeat_acc:.0%}")
    print(
        f"  (first copy, nothing to look back at: {first_acc:.0%}; untrained: {repeat_before:.0%})"
    )

    print("\n2. semantic ICL: pretrain on fact lists like 'cat -> katze, dog -> hund'")
    semantic = train_semantic(args.semantic_steps, rng, device)
    accuracy = {k: few_shot_accuracy(semantic, rng, k) for k in SHOTS}
    prompt, target = few_shot_prompt(rng, "german", 2)
    said = tinylm.generate(semantic, tinylm.TOKENIZER, prompt, 12).split(",")[0]
    print(f"  prompt {prompt.strip()!r} -> {said!r} (right: {target!r})")
    for k in SHOTS:
        print(f"  {k} examples in the prompt: {accuracy[k]:.0%} right")
    tinylm.save_plot(
        args.plot, {"semantic ICL accuracy": [accuracy[k] for k in SHOTS]}, "ICL", "shots index"
    )

    more_is_better = accuracy[SHOTS[-1]] > accuracy[0]
    ok = repeat_acc >= 0.9 and more_is_better
    line = tinylm.verdict(
        ok,
        f"induction copies unseen letter pairs ({repeat_acc:.0%}); examples in the prompt "
        f"pick the task ({accuracy[0]:.0%} with none, "
        f"{accuracy[SHOTS[-1]]:.0%} with {SHOTS[-1]})",
    )
    return {
        "repeat_accuracy": repeat_acc,
        "first_copy_accuracy": first_acc,
        "untrained_repeat_accuracy": repeat_before,
        "shot_accuracy": accuracy,
        "verdict": line,
    }


if __name__ == "__main__":
    main()
