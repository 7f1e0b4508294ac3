"""Supervised fine-tuning turns a text continuer into an answerer.

The same next-token loss as pretraining, counted on the response tokens only. A tiny GPT
pretrained on plain sentences ("the german word for cat is katze.", and FAQ lines "what is the
german word for cat? katze.") only continues text. Fine-tuning it on instruction-response pairs
("q: what is the german word for cat?\na: " -> "katze|") turns it into something that answers:
one word, then stop, also for questions it never saw in SFT.

The card mixes three things this demo keeps apart, each measured on sampled answers:
1. the FORMAT SFT teaches (one word, then EOS), on questions held out of SFT;
2. KNOWLEDGE the base model has (it completes the FAQ line of a held-out fact) and whether SFT
   draws it out in the new format: often it does not, a lesson of its own;
3. HALLUCINATION: questions about words that were never in any training text
   (toyworld.NEVER_SEEN) still get a confident one-word answer: nothing in SFT says "I don't
   know" (the card's "hallucinations is not prevented").

The card's formulas:
    pi_theta(Y | X) = P_theta(Y | X) = prod_t P_theta(y_t | X, y_<t)
    log pi_theta(Y | X) = sum_t log P_theta(y_t | X, y_<t)            -> sequence_logprob
    L_SFT = - mean over response tokens of log P_theta(y_t | X, y_<t)  -> sft_loss

Run: notecards demo sft   (or: python demos/sft.py --quick)
"""

from __future__ import annotations

import random

import torch

try:
    from . import cli, tinylm, toyworld, training  # imported as demos.sft or notecards.demos.sft
except ImportError:  # run as a script: python demos/sft.py
    import cli
    import tinylm
    import toyworld
    import training

# settings (each is also a --option; --quick uses the quick_ values)
DEFAULTS = {
    "steps": 100,  # stage 2: next-token prediction on question -> answer pairs
    "quick_steps": 60,
    "pretrain_steps": training.PRETRAIN_STEPS,  # stage 1: the base model the demos share
    "lr": 3e-3,  # smaller than pretraining: adjust the model, don't overwrite it
    "batch_size": 32,  # question -> answer pairs per step
    "held_out": 0.25,  # share of the questions kept out of SFT: does answering generalize?
    "print_every": 25,  # steps between progress lines
    "show": 4,  # held-out questions printed before and after
    "samples": 240,  # answers sampled per measurement (the questions in turn)
    "quick_samples": 120,
}


def sequence_logprob(
    logits: torch.Tensor, input_ids: torch.Tensor, response_mask: torch.Tensor
) -> torch.Tensor:
    r"""The card's sequence log-probability, summed over the response tokens:

    .. math:: \log \pi_\theta(Y \mid X) = \sum_t \log \mathbb{P}_\theta(y_t \mid X, y_{<t})

    `logits` (B, T, V) are the model's outputs on `input_ids` (B, T) = X then Y;
    `response_mask` (B, T) marks the y_t. Returns (B,).
    """
    return (training.token_logprobs(logits, input_ids) * response_mask).sum(-1)


def sft_loss(
    logits: torch.Tensor, input_ids: torch.Tensor, response_mask: torch.Tensor
) -> torch.Tensor:
    r"""The SFT loss: the pretraining loss, counted only on the response tokens of the batch:

    .. math:: L_\mathrm{SFT} = -\frac{1}{\sum_i |Y_i|} \sum_i \sum_t
        \log \mathbb{P}_\theta(y_{i,t} \mid X_i, y_{i,<t})

    Same arguments as sequence_logprob; the prompt tokens X never count.
    """
    token_logps = training.token_logprobs(logits, input_ids)
    return -training.masked_mean(token_logps, response_mask)


def train_sft(
    model: tinylm.TinyGPT,
    batches: list[list[tuple[str, str]]],
    lr: float = DEFAULTS["lr"],
    print_every: int = DEFAULTS["print_every"],
    held_out: list[tuple[str, str]] | None = None,
) -> dict[str, list[float]]:
    """Fine-tune `model` with L_SFT, one optimizer step per batch of (prompt, response) pairs.

    Returns the loss of each step ("train") and, with `held_out` pairs, their loss every
    print_every steps ("held_out", at "held_out_step"). preferences.sft_policy uses it too.
    """
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    curves = {"train": [], "held_out": [], "held_out_step": []}
    for step, batch in enumerate(batches, start=1):
        prompts, responses = zip(*batch, strict=True)
        input_ids, response_mask = training.pad_batch(prompts, responses, device=device)
        logits = model(input_ids)
        loss = sft_loss(logits, input_ids, response_mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        curves["train"].append(loss.item())
        if step == 1 or step % print_every == 0 or step == len(batches):
            held_text = ""
            if held_out:
                with torch.no_grad():
                    ids, mask = training.pad_batch(*zip(*held_out, strict=True), device=device)
                    curves["held_out"].append(sft_loss(model(ids), ids, mask).item())
                curves["held_out_step"].append(step)
                held_text = f", held-out loss {curves['held_out'][-1]:.3f}"
            if step % print_every == 0 or step == len(batches):
                logp = sequence_logprob(logits, input_ids, response_mask).mean().item()
                print(f"step {step}: sft loss {loss.item():.3f}{held_text}, log pi(Y|X) {logp:.2f}")
    return curves


def is_answer(text: str) -> bool:
    """An answer in the trained format: one word, then EOS (right or wrong)."""
    return text.endswith(toyworld.EOS) and text[:-1].isalpha()


def sampled(model: tinylm.TinyGPT, prompts: list[str], n: int, seed: int, tokens: int = 16):
    """n sampled continuations of the prompts, taken in turn: (prompt index, text) each."""
    generator = torch.Generator(device=next(model.parameters()).device).manual_seed(seed)
    asked = [i % len(prompts) for i in range(n)]
    ids, mask, _ = training.sample(
        model, [toyworld.TOKENIZER.encode(prompts[i]) for i in asked], tokens, generator=generator
    )
    return list(zip(asked, training.response_texts(ids, mask), strict=True))


def evaluate(model: tinylm.TinyGPT, facts: list[tuple[toyworld.Word, str]], n: int, seed: int):
    """On n answers sampled for the q/a questions of `facts`: the shares in the format and right."""
    answers = sampled(model, [toyworld.question(w, r) for w, r in facts], n, seed)
    right = [toyworld.answer(*facts[i]) + toyworld.EOS == text for i, text in answers]
    return {
        "answers": [text for _, text in answers],
        "format": sum(is_answer(text) for _, text in answers) / n,
        "accuracy": sum(right) / n,
    }


def knows(model: tinylm.TinyGPT, facts: list[tuple[toyworld.Word, str]], n: int, seed: int):
    """Share of n sampled continuations of the FAQ line 'what is the german word for cat?' that
    give the right answer: what the base model knows, asked in its own phrasing."""
    answers = sampled(model, [toyworld.ask(w, r) for w, r in facts], n, seed)
    right = [text.startswith(f" {toyworld.answer(*facts[i])}.") for i, text in answers]
    return sum(right) / n


@torch.no_grad()
def mean_logprob(model: tinylm.TinyGPT, pairs, device) -> float:
    """Average log pi(Y|X) of the right answers: how likely the model finds them."""
    prompts = [toyworld.question(w, r) for w, r in pairs]
    input_ids, response_mask = training.pad_batch(
        prompts, [toyworld.answer(w, r) for w, r in pairs], device=device
    )
    return sequence_logprob(model(input_ids), input_ids, response_mask).mean().item()


def draw(axes, curves, shares: dict[str, tuple[float, float]]) -> None:
    """Training and held-out SFT loss by step; the three things SFT does and does not do."""
    cli.curve(axes[0], curves["train"], "training questions (batch)")
    axes[0].plot(curves["held_out_step"], curves["held_out"], "o-", label="held-out questions")
    axes[0].set_yscale("log")
    cli.label_axes(axes[0], "L_SFT on response tokens", "SFT step", "loss (nats per token, log)")
    names = list(shares)
    for n, (when, color) in enumerate((("base model", "C0"), ("after SFT", "C1"))):
        xs = [k + 0.4 * n for k in range(len(names))]
        axes[1].bar(xs, [shares[name][n] for name in names], 0.4, color=color, label=when)
    axes[1].set_xticks([k + 0.2 for k in range(len(names))], names, fontsize=7)
    axes[1].set_ylim(0, 1.05)
    cli.label_axes(axes[1], "sampled answers", "", "share of answers")


def main(argv: list[str] | None = None) -> dict:
    args = cli.demo_args("sft", __doc__.splitlines()[0], DEFAULTS, argv)
    training.set_seed(args.seed)
    device = cli.pick_device(args.device)
    rng = random.Random(args.seed)

    print("stage 1: pretraining on sentences like 'the german word for cat is katze.'")
    model = training.pretrain(args.pretrain_steps, args.seed, device)

    pairs = toyworld.instruction_pairs()
    rng.shuffle(pairs)
    n_held = int(len(pairs) * args.held_out)
    held_out, train = pairs[:n_held], pairs[n_held:]
    never_seen = [(w, "german") for w in toyworld.NEVER_SEEN]
    n = args.samples
    before = evaluate(model, held_out, n, args.seed)
    invented_before = evaluate(model, never_seen, n, args.seed)["format"]
    known = knows(model, held_out, n, args.seed)
    logprob_before = mean_logprob(model, held_out, device)

    print(f"\nstage 2: SFT on {len(train)} question -> answer pairs ({n_held} held out)")
    batches = [
        [
            (toyworld.question(w, r), toyworld.answer(w, r))
            for w, r in rng.choices(train, k=args.batch_size)
        ]
        for _ in range(args.steps)
    ]
    held_pairs = [(toyworld.question(w, r), toyworld.answer(w, r)) for w, r in held_out]
    curves = train_sft(model, batches, args.lr, args.print_every, held_out=held_pairs)

    after = evaluate(model, held_out, n, args.seed)
    seen = evaluate(model, train, n, args.seed)
    invented = evaluate(model, never_seen, n, args.seed)
    logprob_after = mean_logprob(model, held_out, device)

    print("\nheld-out questions (never in SFT), one sampled answer each; '|' is EOS:")
    for i in range(min(args.show, n_held)):
        word, relation = held_out[i]
        print(f"  {toyworld.question(word, relation)!r} (right: {toyworld.answer(word, relation)})")
        print(f"    base model: {before['answers'][i]!r}")
        print(f"    after SFT:  {after['answers'][i]!r}")
    word = toyworld.NEVER_SEEN[0]
    print(f"  never-seen {toyworld.question(word, 'german')!r} -> {invented['answers'][0]!r}")
    print(f"\n{n} sampled answers per cell{'':8}{'before':>8}{'after':>8}")
    print(f"{'1. format: held-out answers in it':40}{before['format']:8.0%}{after['format']:8.0%}")
    print(f"{'2. knowledge: held-out right':40}{before['accuracy']:8.0%}{after['accuracy']:8.0%}")
    print(f"{'   base model, asked in its FAQ phrasing':40}{known:8.0%}")
    print(f"{'   questions seen in SFT, right':40}{'':8}{seen['accuracy']:8.0%}")
    print(f"{'3. never-seen words: a confident answer':40}{'':8}{invented['format']:8.0%}")
    print(f"{'   ... that is right':40}{'':8}{invented['accuracy']:8.0%}")
    print(f"{'log pi(Y|X), right held-out Y':40}{logprob_before:8.2f}{logprob_after:8.2f}")
    held_loss = curves["held_out"][-1]
    print(
        f"SFT loss at the end: {training.smooth(curves['train'], 5):.3f} on training questions, "
        f"{held_loss:.3f} on held-out ones"
    )
    drawn = after["accuracy"] >= known - 0.1
    print(
        f"the base model knows {known:.0%} of the held-out facts in its own phrasing; after SFT "
        f"{after['accuracy']:.0%} of the answers are right: SFT "
        + ("drew that knowledge out" if drawn else "did NOT draw most of it out")
        + f"; on words no text ever had, {invented['format']:.0%} of the answers are confident "
        "inventions: nothing in SFT teaches 'I don't know'"
    )
    shares = {
        "1. held-out:\nin the format": (before["format"], after["format"]),
        "2. held-out:\nright (base: FAQ)": (known, after["accuracy"]),
        "3. never-seen:\nconfident answer": (invented_before, invented["format"]),
    }
    cli.save_figure(
        args.plot,
        lambda axes: draw(axes, curves, shares),
        "SFT: the format, the knowledge, the hallucinations",
        panels=2,
    )

    ok = after["format"] >= 0.8 and before["format"] <= 0.1
    line = cli.verdict(
        ok,
        f"SFT turned a text continuer into an answerer ({before['format']:.0%} -> "
        f"{after['format']:.0%} of sampled held-out answers in format"
        + ("" if ok else ", does not hold: needs <= 10% before and >= 80% after")
        + f"); hallucination not prevented: {invented['format']:.0%} confident answers about "
        "never-seen words",
    )
    return {
        "format_before": before["format"],
        "format_after": after["format"],
        "accuracy_before": before["accuracy"],
        "accuracy_after": after["accuracy"],
        "accuracy_seen": seen["accuracy"],
        "known_before": known,
        "hallucinated": invented["format"],
        "logprob_before": logprob_before,
        "logprob_after": logprob_after,
        "losses": curves["train"],
        "held_out_losses": curves["held_out"],
        "verdict": line,
    }


if __name__ == "__main__":
    main()
