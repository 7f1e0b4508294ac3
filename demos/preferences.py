"""The preference data the reward model, DPO and PPO demos share.

Simulated labellers compare two answers to the same question and follow a hidden rule
(`human_score`): a correct answer first, then a friendly closing, and no rambling. The pairs
they label only ever contrast closings of CORRECT answers: correctness is never varied, so a
reward model trained on them has no way to learn it (the reward-model demo measures that).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

try:
    from . import tinylm
    from .sft import sft_loss
except ImportError:  # run as a script: python demos/NAME.py
    import tinylm
    from sft import sft_loss

Question = tuple[tinylm.Word, str]  # (word, relation): "what is the german word for cat?"

# closings are short: the longest prompt + answer + closing must fit TinyGPT's 64 positions
FRIENDLY = ("cheers!", "enjoy!", "have fun!")  # what labellers prefer
CURT = ("next.", "duh.", "whatever.")  # what they dislike
SFT_STYLE_WEIGHTS = {"plain": 0.4, "friendly": 0.3, "curt": 0.3}  # the styles SFT data mixes
PRETRAIN_STEPS = 300  # the base model every demo starts from (sft.py's; reused within a process)


@dataclass(frozen=True)
class PreferencePair:
    prompt: str
    chosen: str  # Y+
    rejected: str  # Y-


def styled(answer: str, closing: str = "") -> str:
    """An answer as a sentence, with an optional closing: 'katze. cheers!'."""
    return f"{answer}. {closing}" if closing else f"{answer}."


def wrong_answer(question: Question, rng: random.Random) -> str:
    """A fluent but false answer: the same relation, taken from another word."""
    word, relation = question
    others = [
        w for w in tinylm.WORDS if tinylm.answer(w, relation) != tinylm.answer(word, relation)
    ]
    return tinylm.answer(rng.choice(others), relation)


def human_score(question: Question, response: str) -> float:
    """The hidden rule: +2 for the right answer first, +1 for a friendly closing, -2 for rambling.

    Rambling is anything past answer and closing: a third sentence, or a repeated '!'.
    """
    text = response.removesuffix(tinylm.EOS)
    score = 2.0 if text.split(".")[0] == tinylm.answer(*question) else 0.0
    if text.endswith(FRIENDLY):
        score += 1.0
    if sum(text.count(mark) for mark in ".!?") > 2:
        score -= 2.0
    return score


def split_questions(seed: int, held_out: float = 0.25) -> tuple[list[Question], list[Question]]:
    """All questions of the toy world, shuffled and cut into (train, held-out)."""
    questions = tinylm.instruction_pairs()
    random.Random(seed).shuffle(questions)
    n_test = round(len(questions) * held_out)
    return questions[n_test:], questions[:n_test]


def style_pairs(questions: list[Question], rng: random.Random, per_question: int = 3):
    """What the labellers were shown: a correct answer with a friendly vs a plain/curt closing."""
    pairs = []
    for question in questions:
        right = tinylm.answer(*question)
        for _ in range(per_question):
            worse = rng.choice(("", *CURT))
            pairs.append(
                PreferencePair(
                    tinylm.question(*question),
                    styled(right, rng.choice(FRIENDLY)),
                    styled(right, worse),
                )
            )
    return pairs


def correctness_pairs(questions: list[Question], rng: random.Random) -> list[PreferencePair]:
    """Pairs the labellers never saw: right vs wrong answer, both with the same friendly closing."""
    pairs = []
    for question in questions:
        closing = rng.choice(FRIENDLY)
        right, wrong = tinylm.answer(*question), wrong_answer(question, rng)
        pairs.append(
            PreferencePair(
                tinylm.question(*question), styled(right, closing), styled(wrong, closing)
            )
        )
    return pairs


def sft_example(question: Question, rng: random.Random) -> str:
    """A demonstration as SFT data has them: always correct, in a mix of styles."""
    style = rng.choices(list(SFT_STYLE_WEIGHTS), weights=list(SFT_STYLE_WEIGHTS.values()))[0]
    closing = {"plain": "", "friendly": rng.choice(FRIENDLY), "curt": rng.choice(CURT)}[style]
    return styled(tinylm.answer(*question), closing)


_SFT_MODELS: dict[tuple, dict[str, torch.Tensor]] = {}  # sft_policy() settings -> weights


def sft_policy(
    steps: int,
    seed: int,
    device: torch.device | str = "cpu",
    pretrain_steps: int = PRETRAIN_STEPS,
    lr: float = 3e-3,
    batch_size: int = 32,
    print_every: int = 100,
    log=print,
) -> tinylm.TinyGPT:
    """pi_SFT: the shared base model fine-tuned on demonstrations of every question (see sft.py).

    Its answers are correct and its closings mixed, so preference training has something to
    pick from. DPO and PPO both start here; within one process it is trained once.
    """
    model = tinylm.pretrain(
        steps=pretrain_steps, seed=seed, device=device, print_every=100, log=log
    )
    key = (steps, seed, str(device), pretrain_steps, lr, batch_size)
    if key in _SFT_MODELS:
        log(f"sft: reusing pi_SFT trained earlier ({steps} steps, seed {seed})")
        model.load_state_dict(_SFT_MODELS[key])
        return model
    rng = random.Random(seed)
    questions = tinylm.instruction_pairs()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    for step in range(1, steps + 1):
        batch = rng.choices(questions, k=batch_size)
        prompts = [tinylm.question(*q) for q in batch]
        responses = [sft_example(q, rng) for q in batch]
        input_ids, response_mask, _ = tinylm.pad_batch(prompts, responses, device=device)
        loss = sft_loss(model(input_ids), input_ids, response_mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % print_every == 0 or step == steps:
            log(f"sft step {step}: loss {loss.item():.3f}")
    _SFT_MODELS[key] = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return model
