"""Supervised fine-tuning turns a text continuer into an answerer.

The same next-token loss as pretraining, counted on the response tokens only. A tiny GPT
pretrained on plain sentences ("the german word for cat is katze.") only continues text.
Fine-tuning it on instruction-response pairs ("q: what is the german word for cat?\\na: " ->
"katze|") turns it into something that answers: one word, then stop, also for questions it
never saw in SFT. Whether those unseen answers are right is another matter: SFT teaches the
format, it gives no feedback on wrong answers, and a model this small often makes one up
(the card's limitation: hallucinations are not prevented).

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
}


def sequence_logprob(
    logits: torch.Tensor, input_ids: torch.Tensor, response_mask: torch.Tensor
) -> torch.Tensor:
    """log pi(Y|X) = sum_t log P(y_t | X, y_<t), summed over the response tokens: (B,)."""
    return (training.token_logprobs(logits, input_ids) * response_mask).sum(-1)


def sft_loss(
    logits: torch.Tensor, input_ids: torch.Tensor, response_mask: torch.Tensor
) -> torch.Tensor:
    """-mean log P(y_t | X, y_<t) over all response tokens of the batch; prompts don't count."""
    token_logps = training.token_logprobs(logits, input_ids)
    return -training.masked_mean(token_logps, response_mask)


def train_sft(
    model: tinylm.TinyGPT,
    batches: list[list[tuple[str, str]]],
    lr: float = DEFAULTS["lr"],
    print_every: int = DEFAULTS["print_every"],
) -> list[float]:
    """Fine-tune `model` with L_SFT, one optimizer step per batch of (prompt, response) pairs.

    Returns the loss of each step. preferences.sft_policy trains pi_SFT with it too.
    """
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    for step, batch in enumerate(batches, start=1):
        prompts, responses = zip(*batch, strict=True)
        input_ids, response_mask = training.pad_batch(prompts, responses, device=device)
        logits = model(input_ids)
        loss = sft_loss(logits, input_ids, response_mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % print_every == 0 or step == len(batches):
            logp = sequence_logprob(logits, input_ids, response_mask).mean().item()
            print(f"step {step}: sft loss {loss.item():.3f}, log pi(Y|X) {logp:.2f}")
    return losses


def is_answer(text: str) -> bool:
    """An answer in the trained format: one word, then EOS (right or wrong)."""
    return text.endswith(toyworld.EOS) and text[:-1].isalpha()


def evaluate(model: tinylm.TinyGPT, pairs: list[tuple[toyworld.Word, str]]) -> dict:
    """Share of questions answered in the format, and share answered correctly."""
    answers = training.answer_batch(model, [toyworld.question(w, r) for w, r in pairs])
    right = [toyworld.answer(w, r) + toyworld.EOS for w, r in pairs]
    correct = [a == r for a, r in zip(answers, right, strict=True)]
    return {
        "answers": answers,
        "format": sum(map(is_answer, answers)) / len(pairs),
        "accuracy": sum(correct) / len(pairs),
    }


@torch.no_grad()
def mean_logprob(model: tinylm.TinyGPT, pairs, device) -> float:
    """Average log pi(Y|X) of the right answers: how likely the model finds them."""
    prompts = [toyworld.question(w, r) for w, r in pairs]
    input_ids, response_mask = training.pad_batch(
        prompts, [toyworld.answer(w, r) for w, r in pairs], device=device
    )
    return sequence_logprob(model(input_ids), input_ids, response_mask).mean().item()


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
    before = evaluate(model, held_out)
    logprob_before = mean_logprob(model, held_out, device)

    print(f"\nstage 2: SFT on {len(train)} question -> answer pairs ({n_held} held out)")
    batches = [
        [
            (toyworld.question(w, r), toyworld.answer(w, r))
            for w, r in rng.choices(train, k=args.batch_size)
        ]
        for _ in range(args.steps)
    ]
    losses = train_sft(model, batches, args.lr, args.print_every)

    after = evaluate(model, held_out)
    seen = evaluate(model, train)
    logprob_after = mean_logprob(model, held_out, device)

    print("\nheld-out questions (never in SFT), answered greedily; '|' is EOS:")
    for i in range(min(args.show, n_held)):
        word, relation = held_out[i]
        print(f"  {toyworld.question(word, relation)!r}")
        print(f"    base model: {before['answers'][i]!r}")
        print(f"    after SFT:  {after['answers'][i]!r}")
    print(f"\n{'':24}{'before':>8}{'after':>8}")
    print(f"{'answers in the format':24}{before['format']:8.0%}{after['format']:8.0%}")
    print(f"{'right answer':24}{before['accuracy']:8.0%}{after['accuracy']:8.0%}")
    print(f"{'log pi(Y|X), right Y':24}{logprob_before:8.2f}{logprob_after:8.2f}")
    print(f"(questions seen in SFT: {seen['accuracy']:.0%} right; unseen ones: often made up)")
    cli.save_plot(args.plot, {"sft loss": losses}, "SFT on response tokens", "step")

    ok = after["format"] >= 0.9 and before["format"] <= 0.1
    line = cli.verdict(
        ok,
        f"SFT turned a text continuer into an answerer "
        f"({before['format']:.0%} -> {after['format']:.0%} of unseen questions answered in format)",
    )
    return {
        "format_before": before["format"],
        "format_after": after["format"],
        "accuracy_before": before["accuracy"],
        "accuracy_after": after["accuracy"],
        "accuracy_seen": seen["accuracy"],
        "logprob_before": logprob_before,
        "logprob_after": logprob_after,
        "losses": losses,
        "verdict": line,
    }


if __name__ == "__main__":
    main()
