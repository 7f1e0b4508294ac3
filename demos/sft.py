"""Supervised fine-tuning: the same next-token loss, counted on the response tokens only.

A tiny GPT pretrained on plain sentences ("the german word for cat is katze.") only continues
text. Fine-tuning it on instruction-response pairs ("q: what is the german word for cat?\\na: "
-> "katze|") turns it into something that answers: one word, then stop, also for questions it
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
    from . import tinylm  # imported as demos.sft or notecards.demos.sft
except ImportError:  # run as a script: python demos/sft.py
    import tinylm

# settings
PRETRAIN_STEPS = 300  # stage 1: next-token prediction on raw sentences
SFT_STEPS = 100  # stage 2: next-token prediction on question -> answer pairs
QUICK_SFT_STEPS = 60
LR = 3e-3  # smaller than pretraining: adjust the model, don't overwrite it
BATCH_SIZE = 32
HELD_OUT = 0.25  # share of the questions kept out of SFT, to see whether answering generalizes
PRINT_EVERY = 25
SHOW = 4  # held-out questions printed before and after


def sequence_logprob(
    logits: torch.Tensor, input_ids: torch.Tensor, response_mask: torch.Tensor
) -> torch.Tensor:
    """log pi(Y|X) = sum_t log P(y_t | X, y_<t), summed over the response tokens: (B,)."""
    return (tinylm.token_logprobs(logits, input_ids) * response_mask).sum(-1)


def sft_loss(
    logits: torch.Tensor, input_ids: torch.Tensor, response_mask: torch.Tensor
) -> torch.Tensor:
    """-mean log P(y_t | X, y_<t) over all response tokens of the batch; prompts don't count."""
    token_logps = tinylm.token_logprobs(logits, input_ids)
    return -tinylm.masked_mean(token_logps, response_mask)


def train_sft(
    model: tinylm.TinyGPT,
    batches: list[list[tuple[str, str]]],
    print_every: int = PRINT_EVERY,
) -> list[float]:
    """Fine-tune `model` with L_SFT, one optimizer step per batch of (prompt, response) pairs.

    Returns the loss of each step. preferences.sft_policy trains pi_SFT with it too.
    """
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    losses = []
    for step, batch in enumerate(batches, start=1):
        prompts, responses = zip(*batch, strict=True)
        input_ids, response_mask = tinylm.pad_batch(prompts, responses, device=device)
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
    return text.endswith(tinylm.EOS) and text[:-1].isalpha()


def evaluate(model: tinylm.TinyGPT, pairs: list[tuple[tinylm.Word, str]]) -> dict:
    """Share of questions answered in the format, and share answered correctly."""
    answers = tinylm.answer_batch(model, [tinylm.question(w, r) for w, r in pairs])
    right = [tinylm.answer(w, r) + tinylm.EOS for w, r in pairs]
    correct = [a == r for a, r in zip(answers, right, strict=True)]
    return {
        "answers": answers,
        "format": sum(map(is_answer, answers)) / len(pairs),
        "accuracy": sum(correct) / len(pairs),
    }


@torch.no_grad()
def mean_logprob(model: tinylm.TinyGPT, pairs, device) -> float:
    """Average log pi(Y|X) of the right answers: how likely the model finds them."""
    prompts = [tinylm.question(w, r) for w, r in pairs]
    input_ids, response_mask = tinylm.pad_batch(
        prompts, [tinylm.answer(w, r) for w, r in pairs], device=device
    )
    return sequence_logprob(model(input_ids), input_ids, response_mask).mean().item()


def main(argv: list[str] | None = None) -> dict:
    args = tinylm.demo_args(
        "sft",
        "Supervised fine-tuning turns a text continuer into an answerer.",
        {"steps": SFT_STEPS, "quick_steps": QUICK_SFT_STEPS, "pretrain_steps": PRETRAIN_STEPS},
        argv,
    )
    tinylm.set_seed(args.seed)
    device = tinylm.pick_device(args.device)
    rng = random.Random(args.seed)

    print("stage 1: pretraining on sentences like 'the german word for cat is katze.'")
    model = tinylm.pretrain(args.pretrain_steps, args.seed, device)

    pairs = tinylm.instruction_pairs()
    rng.shuffle(pairs)
    n_held = int(len(pairs) * HELD_OUT)
    held_out, train = pairs[:n_held], pairs[n_held:]
    before = evaluate(model, held_out)
    logprob_before = mean_logprob(model, held_out, device)

    print(f"\nstage 2: SFT on {len(train)} question -> answer pairs ({n_held} held out)")
    batches = [
        [(tinylm.question(w, r), tinylm.answer(w, r)) for w, r in rng.choices(train, k=BATCH_SIZE)]
        for _ in range(args.steps)
    ]
    losses = train_sft(model, batches)

    after = evaluate(model, held_out)
    seen = evaluate(model, train)
    logprob_after = mean_logprob(model, held_out, device)

    print("\nheld-out questions (never in SFT), answered greedily; '|' is EOS:")
    for i in range(min(SHOW, n_held)):
        word, relation = held_out[i]
        print(f"  {tinylm.question(word, relation)!r}")
        print(f"    base model: {before['answers'][i]!r}")
        print(f"    after SFT:  {after['answers'][i]!r}")
    print(f"\n{'':24}{'before':>8}{'after':>8}")
    print(f"{'answers in the format':24}{before['format']:8.0%}{after['format']:8.0%}")
    print(f"{'right answer':24}{before['accuracy']:8.0%}{after['accuracy']:8.0%}")
    print(f"{'log pi(Y|X), right Y':24}{logprob_before:8.2f}{logprob_after:8.2f}")
    print(f"(questions seen in SFT: {seen['accuracy']:.0%} right; unseen ones: often made up)")
    tinylm.save_plot(args.plot, {"sft loss": losses}, "SFT on response tokens", "step")

    ok = after["format"] >= 0.9 and before["format"] <= 0.1
    line = tinylm.verdict(
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
