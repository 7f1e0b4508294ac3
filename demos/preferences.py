"""The preference data the reward model, DPO and PPO demos share.

Simulated labellers compare two answers to the same question and follow a hidden rule
(`human_score`): a correct answer first, then a friendly closing, an answer that ends, and no
rambling or garbled closing. The pairs of style_pairs (the reward model's, DPO's and PPO's)
only ever contrast closings of CORRECT answers: correctness is never varied, so a reward model
trained on them has no way to learn it (the reward-model demo measures that). The pipeline's
pairs (sampled_pairs) are pi_SFT's own answers, compared whole.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

import torch

try:
    from . import sft, tinylm, toyworld, training
except ImportError:  # run as a script: python demos/NAME.py
    import sft
    import tinylm
    import toyworld
    import training

Question = tuple[toyworld.Word, str]  # (word, relation): "what is the german word for cat?"

# closings are short: the longest prompt + answer + closing must fit TinyGPT's 64 positions.
# Training data (SFT demonstrations, the labellers' pairs) only ever uses the TRAIN_ closings;
# the HELD_OUT_ ones test whether a model learned "friendly" or only memorised three strings.
TRAIN_FRIENDLY = ("cheers!", "enjoy!", "have fun!", "nice one!", "you got it!")  # liked
TRAIN_CURT = ("next.", "duh.", "whatever.", "fine.", "obviously.")  # disliked
HELD_OUT_FRIENDLY = ("thanks!", "good luck!")
HELD_OUT_CURT = ("meh.", "so what.")
FRIENDLY = TRAIN_FRIENDLY + HELD_OUT_FRIENDLY  # the labellers know all of them
CURT = TRAIN_CURT + HELD_OUT_CURT
MAX_NEW_TOKENS = 24  # room for the longest answer + closing + EOS ("schluessel. good luck!|")
SFT_STYLE_WEIGHTS = {"plain": 0.4, "friendly": 0.3, "curt": 0.3}  # the styles SFT data mixes
SFT_PRINT_EVERY = 100  # pi_SFT is a means to an end here: few lines about its training
# SFT steps of the pi_SFT that dpo, ppo_kl and pipeline share (their --sft-steps default). At 150
# steps its closings were half-learnt: on held-out questions 12 to 28% of the sampled answers at
# seeds 0 to 2 had a garbled closing ("nice onice!", "whatevers!"), and a DPO that made closings
# more frequent made more of them garbled. At 300, 9 to 16% (5 to 7% on training questions).
SFT_STEPS = 300


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
        w for w in toyworld.WORDS if toyworld.answer(w, relation) != toyworld.answer(word, relation)
    ]
    return toyworld.answer(rng.choice(others), relation)


def is_finished(response: str) -> bool:
    """The answer stopped: it ends with EOS (a sampled answer that ran out of tokens does not)."""
    return response.endswith(toyworld.EOS)


def closing_of(response: str) -> str | None:
    """What follows the answer's '. ': '' for a plain answer, None when there is no '.'."""
    text = response.removesuffix(toyworld.EOS)
    _, dot, rest = text.partition(".")
    if not dot:
        return None
    if not rest:
        return ""
    return rest[1:] if rest.startswith(" ") else None


def is_right(question: Question, response: str) -> bool:
    """The right answer first: 'katze. cheers!' to 'what is the german word for cat?'."""
    return response.removesuffix(toyworld.EOS).split(".")[0] == toyworld.answer(*question)


def is_friendly(response: str) -> bool:
    """Closes with exactly one of the closings the labellers like."""
    return closing_of(response) in FRIENDLY


def is_garbled(response: str) -> bool:
    """Anything but '', a friendly or a curt closing after the answer: a repeated closing
    ('cheers! cheers!'), a third sentence, a misspelt one ('cheers!!!'), no '.' at all."""
    return closing_of(response) not in ("", *FRIENDLY, *CURT)


def human_score(question: Question, response: str) -> float:
    """The hidden rule: +2 for the right answer first, +1 for a friendly closing, -1 for a curt
    one, -2 for a garbled closing, -2 for an answer that never ends (no EOS).

    So 'katze. cheers!|' scores 3, 'katze.|' 2, 'katze. duh.|' 1, a wrong friendly answer 1,
    and the right answer rambling on without stopping ('katze. cheers! cheers! ch') -2.
    """
    score = 2.0 if is_right(question, response) else 0.0
    if is_friendly(response):
        score += 1.0
    if closing_of(response) in CURT:
        score -= 1.0
    if is_garbled(response):
        score -= 2.0
    if not is_finished(response):
        score -= 2.0
    return score


def judge(questions: list[Question], responses: list[str]) -> dict[str, float]:
    """How the labellers see a batch of answers: the shares right, friendly, finished (EOS)
    and garbled, the mean score and the standard deviation of the scores."""
    n = len(responses)
    scores = list(map(human_score, questions, responses))
    mean = sum(scores) / n
    return {
        "right": sum(map(is_right, questions, responses)) / n,
        "friendly": sum(map(is_friendly, responses)) / n,
        "finished": sum(map(is_finished, responses)) / n,
        "garbled": sum(map(is_garbled, responses)) / n,
        "human_score": mean,
        "score_sd": math.sqrt(sum((x - mean) ** 2 for x in scores) / max(n - 1, 1)),
    }


def score_noise(a: dict[str, float], b: dict[str, float], samples: int) -> float:
    """Two standard errors of the difference of two mean scores (judge's) on `samples`
    answers each: a score that moves less than this moved within noise."""
    return 2 * math.sqrt((a["score_sd"] ** 2 + b["score_sd"] ** 2) / samples)


@torch.no_grad()
def rollout(
    model: tinylm.TinyGPT,
    questions: list[Question],
    max_new_tokens: int,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One sampled answer per question: (input_ids, response_mask, log-probs when sampled)."""
    prompts_ids = [toyworld.TOKENIZER.encode(toyworld.question(*q)) for q in questions]
    return training.sample(model, prompts_ids, max_new_tokens, generator=generator)


@torch.no_grad()
def sampled_report(
    model: tinylm.TinyGPT,
    reference: tinylm.TinyGPT,
    questions: list[Question],
    samples: int,
    generator: torch.Generator,
    max_new_tokens: int = MAX_NEW_TOKENS,
) -> dict[str, float]:
    """`samples` answers sampled from `model` (the questions in turn), as the labellers judge
    them (judge), and the sampled KL(model || reference) in nats."""
    asked = [questions[i % len(questions)] for i in range(samples)]
    input_ids, response_mask, logprobs = rollout(model, asked, max_new_tokens, generator)
    ref_logprobs = training.token_logprobs(reference(input_ids), input_ids)
    return {
        "kl": training.sampled_kl(logprobs, ref_logprobs, response_mask).item(),
        **judge(asked, training.response_texts(input_ids, response_mask)),
    }


def pair_batch(
    pairs: list[PreferencePair], device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every Y+ row, then every Y- row, as one padded batch: one forward pass scores both."""
    prompts = [p.prompt for p in pairs]
    responses = [p.chosen for p in pairs] + [p.rejected for p in pairs]
    return training.pad_batch(prompts * 2, responses, device=device)


def batches(
    pairs: list[PreferencePair], steps: int, size: int, rng: random.Random
) -> list[list[PreferencePair]]:
    """`steps` random batches of `size` pairs (all pairs when there are fewer)."""
    return [rng.sample(pairs, min(size, len(pairs))) for _ in range(steps)]


def split_questions(seed: int, held_out: float = 0.25) -> tuple[list[Question], list[Question]]:
    """All questions of the toy world, shuffled and cut into (train, held-out)."""
    questions = toyworld.instruction_pairs()
    random.Random(seed).shuffle(questions)
    n_test = round(len(questions) * held_out)
    return questions[n_test:], questions[:n_test]


def style_pairs(
    questions: list[Question],
    rng: random.Random,
    per_question: int = 3,
    friendly: tuple[str, ...] = TRAIN_FRIENDLY,
    curt: tuple[str, ...] = TRAIN_CURT,
) -> list[PreferencePair]:
    """What the labellers were shown: a correct answer with a friendly vs a plain/curt closing
    (the training closings unless told otherwise: held-out pairs use HELD_OUT_ ones)."""
    pairs = []
    for question in questions:
        right = toyworld.answer(*question)
        for _ in range(per_question):
            worse = rng.choice(("", *curt))
            pairs.append(
                PreferencePair(
                    toyworld.question(*question),
                    styled(right, rng.choice(friendly)),
                    styled(right, worse),
                )
            )
    return pairs


@torch.no_grad()
def sampled_pairs(
    model: tinylm.TinyGPT,
    questions: list[Question],
    per_question: int,
    generator: torch.Generator,
) -> list[PreferencePair]:
    """What the labellers are shown in the DPO paper's recipe: `per_question` answers sampled
    from `model` (pi_SFT, the later pi_ref) to each question, and every two of them that
    human_score tells apart as a pair, the better one Y+. Unlike style_pairs, the answers
    pi_SFT garbles are among the labelled ones. An answer that never ended is left out (a
    pair's response is trained with EOS after it)."""
    asked = [q for q in questions for _ in range(per_question)]
    input_ids, response_mask, _ = rollout(model, asked, MAX_NEW_TOKENS, generator)
    texts = training.response_texts(input_ids, response_mask)
    pairs = []
    for i, question in enumerate(questions):
        answers = [t for t in texts[i * per_question : (i + 1) * per_question] if is_finished(t)]
        scored = [(human_score(question, t), t.removesuffix(toyworld.EOS)) for t in answers]
        for (score_a, text_a), (score_b, text_b) in itertools.combinations(scored, 2):
            if score_a != score_b:
                better, worse = (text_a, text_b) if score_a > score_b else (text_b, text_a)
                pairs.append(PreferencePair(toyworld.question(*question), better, worse))
    return pairs


def correctness_pairs(
    questions: list[Question], rng: random.Random, per_question: int = 4
) -> list[PreferencePair]:
    """Pairs the labellers never saw: right vs wrong answer, both with the same (held-out)
    friendly closing."""
    pairs = []
    for question in questions:
        for _ in range(per_question):
            closing = rng.choice(HELD_OUT_FRIENDLY)
            right, wrong = toyworld.answer(*question), wrong_answer(question, rng)
            pairs.append(
                PreferencePair(
                    toyworld.question(*question), styled(right, closing), styled(wrong, closing)
                )
            )
    return pairs


def sft_example(question: Question, rng: random.Random) -> str:
    """A demonstration as SFT data has them: always correct, in a mix of styles."""
    style = rng.choices(list(SFT_STYLE_WEIGHTS), weights=list(SFT_STYLE_WEIGHTS.values()))[0]
    closing = {"plain": "", "friendly": rng.choice(TRAIN_FRIENDLY), "curt": rng.choice(TRAIN_CURT)}[
        style
    ]
    return styled(toyworld.answer(*question), closing)


def sft_policy(
    steps: int,
    seed: int,
    device: torch.device | str = "cpu",
    pretrain_steps: int = training.PRETRAIN_STEPS,
) -> tinylm.TinyGPT:
    """pi_SFT: the shared base model fine-tuned on demonstrations (see sft.py) of the training
    questions of split_questions(seed) only: the held-out ones, on which DPO, PPO and the
    pipeline are judged, are never in any training stage after pretraining.

    Its answers are correct and its closings mixed, so preference training has something to
    pick from. DPO and PPO both start here; within one process it is trained once.
    """
    key = ("sft", steps, seed, str(device), pretrain_steps)
    model = training.fresh_model(seed, device)
    if training.load_trained(key, model):
        print(f"sft: reusing pi_SFT trained earlier ({steps} steps, seed {seed})")
        return model
    model = training.pretrain(pretrain_steps, seed, device)
    rng = random.Random(seed)
    questions, _ = split_questions(seed)
    batches = [
        [
            (toyworld.question(*q), sft_example(q, rng))
            for q in rng.choices(questions, k=sft.DEFAULTS["batch_size"])
        ]
        for _ in range(steps)
    ]
    sft.train_sft(model, batches, print_every=SFT_PRINT_EVERY)
    training.keep_trained(key, model)
    return model
