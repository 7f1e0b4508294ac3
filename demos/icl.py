"""In-context learning: an induction head, and a task read from examples.

A task is read from the prompt, with no weight updated at test time. Two tiny GPTs, trained
only on plain next-token prediction (the loss on every token), then frozen:

1. Algorithmic ICL (an induction head). Trained on random strings of syllables that repeat
   themselves ("ko mi ta ru" + "ko mi ta ru"), the model learns the rule "find where the current
   token appeared before and copy the token that followed it": A B C ... A B -> C.
   It is tested on strings made only of pairs (A then B) that never stood together in any
   training string, so it cannot have memorized them: it must look them up in the prompt.
   Every few steps it prints the in-context learning score of Olsson et al. (2022): the loss
   on the second copy minus the loss on the first. It stays near 0 through a plateau, then
   drops within a few dozen steps: the phase change in which the induction head forms. The
   causal test: let no head read, from a repeated token, the token after its earlier
   occurrence (every other read stays) and the repeat accuracy falls to chance. Zeroing the
   named head alone does less: several heads, in both layers, read that token.

2. Semantic ICL. Pretrained on lists of facts, one relation a list, the relation never named
   ("cat -> katze , dog -> hund" or "cat -> cats , dog -> dogs" or "cat -> animal , egg -> food"),
   the model knows the facts; the examples in the prompt tell it which relation is asked:
   "cow -> kuh , egg -> ei , cat ->" gives "katze". With no example it can only guess the
   relation; with examples it reads it from the prompt.

Both models read whole tokens (a syllable, a word), not characters: the ideas are the same and
training takes seconds.

Run: notecards demo icl   (or: python demos/icl.py --quick)
"""

from __future__ import annotations

import argparse
import random

import torch

try:
    from . import cli, tinylm, toyworld, training  # imported as demos.icl or notecards.demos.icl
except ImportError:  # run as a script: python demos/icl.py
    import cli
    import tinylm
    import toyworld
    import training

# settings (each is also a --option; --quick is the default: the phase change needs the steps)
DEFAULTS = {
    "steps": 300,  # training steps, for each of the two models (--quick too: the phase change
    # comes after a plateau of 100 to 200 steps, and at 250 some seeds have not finished it)
    "lr": 6e-3,  # high for a transformer, fine for one this small: the induction head forms sooner
    "batch_size": 64,  # training strings (1.) or fact lists (2.) per step
    "test_prompts": 200,  # per measurement
    "print_every": 50,  # steps between progress lines
    "eval_every": 10,  # steps between two ICL scores (the phase-change curve)
}

# the two tasks: what the models learn and are tested on, so not options
# 1. algorithmic ICL
SYLLABLES = [c + v for c in "bdfgkmnprst" for v in "aeiou"]  # 55 tokens: "ba", "be", ... "tu"
HELD_OUT_SHARE = 0.2  # share of ordered pairs (A then B) that no training string contains
SEGMENT_LENGTHS = (6, 12)  # the repeated part is 6..12 tokens: a fixed offset would not work
# 2. semantic ICL
MAX_FACTS = 6  # a pretraining list holds 1..MAX_FACTS facts
SHOTS = (0, 1, 2, 4)  # numbers of examples in the test prompts
INDUCTION_SCORE = 0.3  # a head that reads "the token after" this much is an induction head


# ------------------------------------------------------------------------------------------------
# 1. algorithmic ICL: an induction head

PAD = len(SYLLABLES)  # fills short rows; never predicted


def split_pairs(rng: random.Random) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """All ordered token pairs (A, B), A != B, split into those training may use and held-out."""
    pairs = [(a, b) for a in range(len(SYLLABLES)) for b in range(len(SYLLABLES)) if a != b]
    rng.shuffle(pairs)
    n_held = int(len(pairs) * HELD_OUT_SHARE)
    return set(pairs[n_held:]), set(pairs[:n_held])


def random_segment(rng: random.Random, length: int, successors: list[list[int]]) -> list[int]:
    """Distinct tokens in which every neighbouring pair, and the pair (last, first) where the
    repeat starts, is allowed: b may follow a where b is in successors[a]."""
    while True:
        segment = [rng.randrange(len(SYLLABLES))]
        while len(segment) < length:
            options = [b for b in successors[segment[-1]] if b not in segment]
            if not options:
                break
            segment.append(rng.choice(options))
        if len(segment) == length and segment[0] in successors[segment[-1]]:
            return segment


def repeat_batch(
    rng: random.Random, n: int, allowed: set[tuple[int, int]]
) -> tuple[torch.Tensor, torch.Tensor]:
    """n rows "segment + segment", right-padded: ids (n, T), and repeat_mask (n, T) marking the
    tokens of the second copy from its second token on: the ones the first copy predicts."""
    tokens = range(len(SYLLABLES))
    successors = [[b for b in tokens if (a, b) in allowed] for a in tokens]  # in token order
    segments = [random_segment(rng, rng.randint(*SEGMENT_LENGTHS), successors) for _ in range(n)]
    T = 2 * SEGMENT_LENGTHS[1]
    ids = torch.full((n, T), PAD)
    repeat_mask = torch.zeros(n, T, dtype=torch.bool)
    for i, segment in enumerate(segments):
        L = len(segment)
        ids[i, : 2 * L] = torch.tensor(segment * 2)
        repeat_mask[i, L + 1 : 2 * L] = True
    return ids, repeat_mask


@torch.no_grad()
def next_token_accuracy(
    model: tinylm.TinyGPT, ids: torch.Tensor, mask: torch.Tensor, reads: torch.Tensor | None = None
) -> float:
    """Share of the tokens marked in `mask` that the model predicts from the tokens before
    (only from those `reads` allows, where given: see without_match_reads)."""
    right = model(ids[:, :-1], reads=reads).argmax(-1) == ids[:, 1:]
    return right[mask[:, 1:]].float().mean().item()


def without_match_reads(ids: torch.Tensor, repeat_mask: torch.Tensor) -> torch.Tensor:
    """(B, T-1, T-1) reads for model(ids[:, :-1]): causal, except that no head of any layer
    may read, from a repeated token, the token after that token's earlier occurrence: the
    one position an induction head reads (the attention pattern induction_scores measures)."""
    T = ids.shape[1] - 1
    reads = torch.ones(T, T, dtype=torch.bool, device=ids.device).tril()
    reads = reads.expand(ids.shape[0], T, T).clone()
    lengths = (ids != PAD).sum(1) // 2
    rows, queries = repeat_mask[:, 1:].nonzero(as_tuple=True)  # query t predicts ids[t + 1]
    reads[rows, queries, queries - lengths[rows] + 1] = False
    return reads


def first_copy_mask(ids: torch.Tensor) -> torch.Tensor:
    """The first copy from its second token on: nothing earlier to copy, so ~1/55 is chance."""
    lengths = (ids != PAD).sum(1) // 2
    positions = torch.arange(ids.shape[1], device=ids.device)
    return (positions >= 1) & (positions < lengths[:, None])


def second_copy_mask(ids: torch.Tensor) -> torch.Tensor:
    """The second copy from its second token on: each predictable by looking back."""
    lengths = (ids != PAD).sum(1) // 2
    positions = torch.arange(ids.shape[1], device=ids.device)
    return (positions > lengths[:, None]) & (positions < 2 * lengths[:, None])


@torch.no_grad()
def icl_score(model: tinylm.TinyGPT, ids: torch.Tensor) -> tuple[float, float]:
    r"""The in-context learning score of Olsson et al. (2022), on repeated strings:

    .. math:: \mathrm{ICL} = \mathcal{L}_\text{second copy} - \mathcal{L}_\text{first copy}

    the mean next-token loss on the tokens of the second copy minus that on the first (from
    their second tokens on). Near 0 while the model cannot use the context; strongly negative
    once it copies from it. Returns (score, repeat accuracy).
    """
    was_training = model.training
    model.eval()
    logits = model(ids[:, :-1])
    losses = torch.nn.functional.cross_entropy(
        logits.transpose(1, 2), ids[:, 1:], reduction="none"
    )  # (B, T-1): losses[:, t] is the loss of ids[:, t+1]
    first, second = first_copy_mask(ids)[:, 1:], second_copy_mask(ids)[:, 1:]
    score = losses[second].mean() - losses[first].mean()
    accuracy = (logits.argmax(-1) == ids[:, 1:])[second].float().mean()
    model.train(was_training)
    return score.item(), accuracy.item()


def train_induction(
    args: argparse.Namespace,
    rng: random.Random,
    allowed: set[tuple[int, int]],
    device: torch.device,
    test_ids: torch.Tensor,
) -> tuple[tinylm.TinyGPT, dict[str, list[float]]]:
    """A fresh model trained with the plain next-token loss on repeated strings of `allowed`
    pairs; every eval_every steps, its ICL score and repeat accuracy on `test_ids`."""
    model = tinylm.TinyGPT(len(SYLLABLES) + 1, max_len=2 * SEGMENT_LENGTHS[1]).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    curves = {"loss": [], "step": [], "icl_score": [], "repeat_accuracy": []}
    for step in range(1, args.steps + 1):
        ids, _ = repeat_batch(rng, args.batch_size, allowed)
        ids = ids.to(device)
        # next-token loss on every token (padding aside), as in pretraining: the first copy is
        # random and cannot be predicted, the second can, by looking back
        loss = training.lm_loss(model, ids, ids != PAD)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        curves["loss"].append(loss.item())
        if step % args.eval_every == 0 or step == args.steps:
            score, acc = icl_score(model, test_ids)
            curves["step"].append(step)
            curves["icl_score"].append(score)
            curves["repeat_accuracy"].append(acc)
            if step % args.print_every == 0 or step == args.steps:
                print(
                    f"  induction step {step}: loss {loss.item():.3f}, ICL score {score:+.2f} "
                    f"nats, repeat accuracy {acc:.0%}"
                )
    return model, curves


class ablated:
    """`with ablated(model, heads):` the heads [(layer, head), ...] write nothing: each one's
    slice of its block's attention output is zeroed before the output projection."""

    def __init__(self, model: tinylm.TinyGPT, heads: list[tuple[int, int]]):
        self.model, self.heads, self.handles = model, heads, []

    def __enter__(self):
        for layer, head in self.heads:
            proj = self.model.blocks[layer].proj
            width = proj.in_features // self.model.blocks[layer].n_heads
            columns = torch.arange(head * width, (head + 1) * width, device=proj.weight.device)

            def zero_head(_module, inputs, columns=columns):
                return (inputs[0].index_fill(-1, columns, 0.0),)

            self.handles.append(proj.register_forward_pre_hook(zero_head))
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()


@torch.no_grad()
def complete(model: tinylm.TinyGPT, prompt: list[int], n_tokens: int) -> list[int]:
    """Greedy continuation: append the most likely next token, n_tokens times."""
    device = next(model.parameters()).device
    ids = list(prompt)
    for _ in range(n_tokens):
        ids.append(model(torch.tensor([ids], device=device)).argmax(-1)[0, -1].item())
    return ids[len(prompt) :]


@torch.no_grad()
def induction_scores(model: tinylm.TinyGPT, ids, repeat_mask) -> dict[tuple[int, int], float]:
    """Per (layer, head): how much, from a repeated token, it reads the token AFTER that token's
    earlier occurrence (mean attention weight there, over the repeated tokens; 1 = always)."""
    maps = tinylm.attention_maps(model, ids)  # per layer (B, heads, T, T)
    lengths = (ids != PAD).sum(1) // 2
    rows, queries = repeat_mask[:, 1:].nonzero(as_tuple=True)  # query t predicts ids[t + 1]
    keys = queries - lengths[rows] + 1  # the token after the first copy's ids[t]
    return {
        (layer, head): score
        for layer, att in enumerate(maps)
        for head, score in enumerate(att[rows, :, queries, keys].mean(0).tolist())
    }


def words(ids: list[int]) -> str:
    return " ".join(SYLLABLES[i] for i in ids)


def algorithmic_icl(args: argparse.Namespace, rng: random.Random, device: torch.device) -> dict:
    allowed, held_out = split_pairs(rng)
    print(
        f"1. algorithmic ICL: {len(SYLLABLES)} syllables; {len(held_out)} of their "
        f"{len(allowed) + len(held_out)} ordered pairs never stand together in training"
    )
    test_ids, test_repeat = repeat_batch(rng, args.test_prompts, held_out)  # only held-out pairs
    test_ids, test_repeat = test_ids.to(device), test_repeat.to(device)
    untrained = tinylm.TinyGPT(len(SYLLABLES) + 1, max_len=2 * SEGMENT_LENGTHS[1]).to(device)
    before = next_token_accuracy(untrained, test_ids, test_repeat)

    model, curves = train_induction(args, rng, allowed, device, test_ids)
    model.eval()
    repeat_acc = next_token_accuracy(model, test_ids, test_repeat)
    first_acc = next_token_accuracy(model, test_ids, first_copy_mask(test_ids))
    scores = curves["icl_score"]
    formed = next((s for s, v in zip(curves["step"], scores, strict=True) if v < -1.0), None)

    row = test_ids[0][test_ids[0] != PAD].tolist()
    segment = row[: len(row) // 2]
    prompt = segment + segment[:2]  # A B C ... A B
    said = complete(model, prompt, len(segment) - 2)
    print(f"  unseen string: {words(prompt)} -> {words(said)}")
    print(f"  (right: {words(segment[2:])})")
    scores_by_head = induction_scores(model, test_ids, test_repeat)
    (layer, head), score = max(scores_by_head.items(), key=lambda item: item[1])
    att = tinylm.attention_maps(model, torch.tensor([prompt], device=device))[layer][0, head, -1]
    read = int(att.argmax())
    print(
        f"  induction head = layer {layer + 1} head {head + 1}: the last token "
        f"'{SYLLABLES[prompt[-1]]}' reads position {read} ('{SYLLABLES[prompt[read]]}', right "
        f"after the earlier '{SYLLABLES[prompt[-1]]}') with weight {att[read]:.2f}"
    )
    print(
        "  induction score of each head: "
        + ", ".join(f"L{lay + 1}H{h + 1} {v:.2f}" for (lay, h), v in scores_by_head.items())
    )
    with ablated(model, [(layer, head)]):
        alone_acc = next_token_accuracy(model, test_ids, test_repeat)
    heads = [h for h, v in scores_by_head.items() if v > INDUCTION_SCORE]
    with ablated(model, heads):
        ablated_acc = next_token_accuracy(model, test_ids, test_repeat)
    blocked_acc = next_token_accuracy(
        model, test_ids, test_repeat, without_match_reads(test_ids, test_repeat)
    )
    names = " ".join(f"L{lay + 1}H{h + 1}" for lay, h in heads)
    # what attention spread evenly over the positions a repeated token may read would put on
    # the token after the earlier occurrence: the baseline an induction score is read against
    queries = test_repeat[:, 1:].nonzero(as_tuple=True)[1]
    even = (1.0 / (queries + 1).float()).mean().item()
    print(
        f"  next-token accuracy on the repeats of unseen pairs: {repeat_acc:.0%} "
        f"(untrained {before:.0%}; first copy, nothing to look back at: {first_acc:.0%}; "
        f"chance 1/{len(SYLLABLES)} = {1 / len(SYLLABLES):.0%})"
    )
    print(
        f"  (attention spread evenly would put {even:.2f} on that position; heads above it "
        "read it on purpose, several of them, in both layers)"
    )
    print(
        f"  zero L{layer + 1}H{head + 1} alone: {alone_acc:.0%}; zero every head with an "
        f"induction score over {INDUCTION_SCORE} ({names}): {ablated_acc:.0%}: the other heads "
        "that read the token after the match still copy some"
    )
    print(
        "  causal test: no head of any layer may read, from a repeated token, the token after "
        f"its earlier occurrence (every other read kept): {blocked_acc:.0%}"
    )
    print(
        "  phase change: ICL score "
        + (f"below -1 nat from step {formed} on" if formed else "never below -1 nat")
        + f" (final {scores[-1]:+.2f})"
    )
    heatmap = tinylm.attention_maps(model, test_ids[:1, : 2 * len(segment)])[layer][0, head]
    return {
        "repeat_accuracy": repeat_acc,
        "first_copy_accuracy": first_acc,
        "untrained_repeat_accuracy": before,
        "ablated_repeat_accuracy": ablated_acc,
        "blocked_repeat_accuracy": blocked_acc,
        "even_attention": even,
        "single_ablated_repeat_accuracy": alone_acc,
        "ablated_heads": heads,
        "induction_head": (layer, head),
        "induction_head_score": score,
        "phase_change_step": formed,
        "curves": curves,
        "heatmap": heatmap.cpu(),
        "heatmap_tokens": [SYLLABLES[t] for t in row],
    }


# ------------------------------------------------------------------------------------------------
# 2. semantic ICL: knowledge from pretraining, the task from the prompt

START, ARROW, COMMA = "<s>", "->", ","
VOCAB = list(
    dict.fromkeys(
        ["<pad>", START, ARROW, COMMA]
        + [getattr(w, field) for field in ("english", *toyworld.RELATIONS) for w in toyworld.WORDS]
    )
)
TOKEN_ID = {word: i for i, word in enumerate(VOCAB)}


def fact_list(rng: random.Random, relation: str, n: int) -> list[tuple[str, str]]:
    """n facts of one relation about n different words, as (word, answer) pairs."""
    return [(w.english, toyworld.answer(w, relation)) for w in rng.sample(toyworld.WORDS, n)]


def list_tokens(facts: list[tuple[str, str]]) -> list[str]:
    """[("cat", "katze"), ("dog", "hund")] -> <s> cat -> katze , dog -> hund"""
    tokens = [START]
    for x, y in facts:
        tokens += [x, ARROW, y, COMMA]
    return tokens[:-1]


def fact_list_batch(rng: random.Random, n: int) -> torch.Tensor:
    """Pretraining documents: lists of 1..MAX_FACTS facts, each list about one relation."""
    docs = [
        list_tokens(fact_list(rng, rng.choice(toyworld.RELATIONS), rng.randint(1, MAX_FACTS)))
        for _ in range(n)
    ]
    ids = torch.zeros(n, 4 * MAX_FACTS, dtype=torch.long)  # 0 is <pad>
    for i, doc in enumerate(docs):
        ids[i, : len(doc)] = torch.tensor([TOKEN_ID[t] for t in doc])
    return ids


def train_semantic(
    args: argparse.Namespace, rng: random.Random, device: torch.device
) -> tinylm.TinyGPT:
    """A fresh model pretrained on fact lists: it learns the facts, and never a relation's name."""
    model = tinylm.TinyGPT(len(VOCAB), max_len=4 * MAX_FACTS).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    for step in range(1, args.steps + 1):
        ids = fact_list_batch(rng, args.batch_size).to(device)
        loss = training.lm_loss(model, ids, ids != TOKEN_ID["<pad>"])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % args.print_every == 0 or step == args.steps:
            print(f"  fact-list step {step}: loss {loss.item():.3f}")
    return model


def prompt_tokens(examples: list[toyworld.Word], query: toyworld.Word, relation: str) -> list[str]:
    """The examples as facts of `relation`, then the query: <s> cow -> kuh , cat ->"""
    tokens = [START]
    for word in examples:
        tokens += [word.english, ARROW, toyworld.answer(word, relation), COMMA]
    return tokens + [query.english, ARROW]


def few_shot_prompt(rng: random.Random, relation: str, shots: int) -> tuple[list[str], str]:
    """k examples of one relation, then a new query word; and the right answer.

    (["<s>", "cow", "->", "kuh", ",", "cat", "->"], "katze") for shots=1, relation "german".
    """
    *examples, query = rng.sample(toyworld.WORDS, shots + 1)
    return prompt_tokens(examples, query, relation), toyworld.answer(query, relation)


@torch.no_grad()
def few_shot_answers(
    model: tinylm.TinyGPT, rng: random.Random, shots: int, n: int, device: torch.device
) -> list[tuple[str, str, str]]:
    """(relation, right answer, the model's next token) for n random prompts."""
    relations = [rng.choice(toyworld.RELATIONS) for _ in range(n)]
    prompts, targets = zip(*(few_shot_prompt(rng, r, shots) for r in relations), strict=True)
    ids = torch.tensor([[TOKEN_ID[t] for t in p] for p in prompts], device=device)
    said = model(ids)[:, -1].argmax(-1).tolist()  # all prompts of one k have the same length
    return [(r, t, VOCAB[s]) for r, t, s in zip(relations, targets, said, strict=True)]


def semantic_icl(args: argparse.Namespace, rng: random.Random, device: torch.device) -> dict:
    print("\n2. semantic ICL: pretrain on lists of facts, one relation a list, never named:")
    for relation in toyworld.RELATIONS:
        print("    " + " ".join(list_tokens(fact_list(rng, relation, 3))[1:]))
    model = train_semantic(args, rng, device).eval()

    accuracy = {}
    for k in SHOTS:
        answers = few_shot_answers(model, rng, k, args.test_prompts, device)
        accuracy[k] = sum(t == s for _, t, s in answers) / len(answers)
    *examples, query = random.Random(1).sample(toyworld.WORDS, 3)
    print("  one query, alone and after examples of each relation:")
    for shown, relation in [([], "german")] + [(examples, r) for r in toyworld.RELATIONS]:
        prompt = prompt_tokens(shown, query, relation)
        ids = torch.tensor([[TOKEN_ID[t] for t in prompt]], device=device)
        print(f"    {' '.join(prompt[1:])} {VOCAB[model(ids)[0, -1].argmax()]}")
    for k in SHOTS:
        print(f"  {k} examples in the prompt: {accuracy[k]:.0%} right")
    print("  (the model is frozen: no optimizer runs at test time, only the prompt changes)")
    return {"shot_accuracy": accuracy}


# ------------------------------------------------------------------------------------------------


def draw(axes, result) -> None:
    """The phase change (loss, ICL score, repeat accuracy by step), the induction head's
    attention on one unseen string, and semantic ICL by number of examples."""
    c = result["curves"]
    cli.curve(axes[0], c["loss"], "training loss (all tokens)")
    axes[0].plot(c["step"], c["icl_score"], "o-", markersize=3, label="ICL score (2nd - 1st copy)")
    axes[0].axhline(0, color="grey", linewidth=0.8)
    cli.label_axes(axes[0], "the phase change", "training step", "nats per token")
    axes[1].plot(c["step"], c["repeat_accuracy"], "o-", markersize=3, label="trained model")
    layer, head = result["induction_head"]
    axes[1].axhline(
        result["single_ablated_repeat_accuracy"],
        color="C1",
        linestyle="--",
        label=f"final, L{layer + 1}H{head + 1} zeroed",
    )
    axes[1].axhline(
        result["ablated_repeat_accuracy"],
        color="C3",
        linestyle="--",
        label=f"final, all {len(result['ablated_heads'])} induction heads zeroed",
    )
    axes[1].axhline(
        result["blocked_repeat_accuracy"],
        color="C4",
        linestyle="-.",
        label="final, no head reads the token after the match",
    )
    axes[1].axhline(1 / len(SYLLABLES), color="grey", linestyle=":", label="chance")
    axes[1].set_ylim(0, 1.02)
    cli.label_axes(axes[1], "repeats of unseen pairs", "training step", "next-token accuracy")
    tokens = result["heatmap_tokens"]
    image = axes[2].imshow(result["heatmap"].numpy(), cmap="viridis", vmin=0, vmax=1)
    axes[2].set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=6)
    axes[2].set_yticks(range(len(tokens)), tokens, fontsize=6)
    axes[2].figure.colorbar(image, ax=axes[2], fraction=0.046, label="attention weight")
    cli.label_axes(
        axes[2],
        f"head L{layer + 1}H{head + 1}: the off-diagonal stripe",
        "key (read)",
        "query (reading)",
        legend=False,
    )
    shots = result["shot_accuracy"]
    axes[3].plot(list(SHOTS), [shots[k] for k in SHOTS], "o-", label="semantic ICL")
    axes[3].axhline(1 / 3, color="grey", linestyle=":", label="guessing the relation (1/3)")
    axes[3].set_ylim(0, 1.02)
    cli.label_axes(axes[3], "task read from examples", "examples in the prompt (k)", "accuracy")


def main(argv: list[str] | None = None) -> dict:
    args = cli.demo_args("icl", __doc__.splitlines()[0], DEFAULTS, argv)
    training.set_seed(args.seed)
    device = cli.pick_device(args.device)
    rng = random.Random(args.seed)

    result = algorithmic_icl(args, rng, device) | semantic_icl(args, rng, device)
    shots = result["shot_accuracy"]
    cli.save_figure(args.plot, lambda axes: draw(axes, result), "In-context learning", panels=4)
    chance = 1 / len(SYLLABLES)
    copies = result["repeat_accuracy"] >= 0.9
    causal = result["blocked_repeat_accuracy"] <= chance + 0.1
    reads = shots[SHOTS[-1]] > shots[0] + 0.2
    result["verdict"] = cli.verdict(
        copies and causal and reads,
        f"the induction head completes repeats of unseen pairs ({result['repeat_accuracy']:.0%}"
        + ("" if copies else ", does not hold: under 90%")
        + f"; {result['blocked_repeat_accuracy']:.0%} when no head may read the token after "
        "the earlier occurrence"
        + ("" if causal else ", not chance: does not hold")
        + f"); examples in the prompt pick the task ({shots[0]:.0%} right with none, "
        f"{shots[SHOTS[-1]]:.0%} with {SHOTS[-1]}"
        + ("" if reads else ", does not hold")
        + "), no weight updated",
    )
    return result


if __name__ == "__main__":
    main()
