"""Reward model: learn a score r(X, Y) from pairs where labellers preferred Y+ over Y-.

Card formula:  l_RM = -log sigma( r(X, Y+) - r(X, Y-) )

The labellers (preferences.py) like a friendly closing ("cheers!") and dislike a plain or
curt one. A copy of the pretrained model with a scalar head reads prompt + response and gives
one number at the response's last token. Trained on some questions and three closings of each
kind, it is tested on unseen questions whose pairs use closings it never saw ("thanks!",
"meh."); then probed with answers the labellers never compared, to show what it misses.

Two more claims of the card, measured here too:
- "relative preference is much more consistent than absolute scores (0 to 10)": simulated
  labellers, each with an offset and a scale of their own, rate answers on 0-10 or compare two;
- "a total order for each prompt": InstructGPT's K-way ranking loss (ranking_loss), a reward
  model trained on rankings of K = 3 answers against one trained on pairs.

    python demos/reward_model.py            (or: notecards demo reward_model)
"""

from __future__ import annotations

import copy
import math
import random

import torch
import torch.nn.functional as F

try:
    from . import cli, preferences, tinylm, toyworld, training
except ImportError:  # run as a script: python demos/reward_model.py
    import cli
    import preferences
    import tinylm
    import toyworld
    import training

# settings (each is also a --option; --quick uses the quick_ values)
DEFAULTS = {
    "steps": 60,  # reward-model training steps (each of the two models)
    "quick_steps": 40,
    "pretrain_steps": training.PRETRAIN_STEPS,  # stage 1: the base the reward model starts from
    "batch_size": 32,  # preference pairs per step
    "lr": 1e-3,  # AdamW, for the body and the new scalar head
    "print_every": 25,  # steps between progress lines
}


def reward_model_loss(rewards_chosen: torch.Tensor, rewards_rejected: torch.Tensor) -> torch.Tensor:
    r"""The card's loss (Bradley-Terry), averaged over the batch:

    .. math:: \ell_\mathrm{RM} = -\log \sigma\left(r_\vartheta(X, Y^+) - r_\vartheta(X, Y^-)\right)

    `rewards_chosen` is r_theta(X, Y+) and `rewards_rejected` r_theta(X, Y-), one per pair.
    """
    return -F.logsigmoid(rewards_chosen - rewards_rejected).mean()


def ranking_loss(rewards_ranked: torch.Tensor) -> torch.Tensor:
    r"""InstructGPT's loss for a total order of K answers to one prompt (Ouyang et al. 2022):

    .. math:: \ell = -\frac{1}{\binom{K}{2}} \sum_{i < j}
        \log \sigma\left(r_\vartheta(X, Y_i) - r_\vartheta(X, Y_j)\right)

    `rewards_ranked` (B, K): r_theta(X, Y_i) with Y_1 the best and Y_K the worst of each row.
    Every one of the K(K-1)/2 pairs a ranking implies is a Y+ / Y- pair of the card's loss.
    """
    K = rewards_ranked.shape[1]
    i, j = torch.triu_indices(K, K, offset=1, device=rewards_ranked.device)
    return -F.logsigmoid(rewards_ranked[:, i] - rewards_ranked[:, j]).mean()


def rewards(
    reward_model: tinylm.ScalarHead, prompts: list[str], responses: list[str]
) -> torch.Tensor:
    """r(X, Y) for each row: the scalar at the last response token (EOS), after reading it all."""
    device = next(reward_model.parameters()).device
    input_ids, response_mask = training.pad_batch(prompts, responses, device=device)
    return training.last_token_values(reward_model(input_ids), response_mask)


def pair_rewards(
    reward_model: tinylm.ScalarHead, pairs: list[preferences.PreferencePair]
) -> tuple[torch.Tensor, torch.Tensor]:
    """(r(X, Y+), r(X, Y-)) for a batch of pairs, scored in one forward pass."""
    input_ids, response_mask = preferences.pair_batch(pairs, next(reward_model.parameters()).device)
    chosen, rejected = training.last_token_values(reward_model(input_ids), response_mask).chunk(2)
    return chosen, rejected


@torch.no_grad()
def accuracy_and_margin(
    reward_model: tinylm.ScalarHead, pairs: list[preferences.PreferencePair]
) -> tuple[float, float]:
    """How often r(X, Y+) > r(X, Y-), and the mean margin r(X, Y+) - r(X, Y-)."""
    chosen, rejected = pair_rewards(reward_model, pairs)
    margin = chosen - rejected
    return (margin > 0).float().mean().item(), margin.mean().item()


def train_reward_model(
    base: tinylm.TinyGPT,
    pairs: list[preferences.PreferencePair],
    steps: int,
    seed: int,
    lr: float = DEFAULTS["lr"],
    batch_size: int = DEFAULTS["batch_size"],
    print_every: int = DEFAULTS["print_every"],
) -> tuple[tinylm.ScalarHead, list[float]]:
    """r_theta: a copy of `base` with a scalar head, trained with l_RM; also its losses."""
    torch.manual_seed(seed)  # the new scalar head's initial weights
    reward_model = tinylm.ScalarHead(copy.deepcopy(base))
    optimizer = torch.optim.AdamW(reward_model.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    batches = preferences.batches(pairs, steps, batch_size, random.Random(seed))
    for step, batch in enumerate(batches, start=1):
        chosen, rejected = pair_rewards(reward_model, batch)
        loss = reward_model_loss(chosen, rejected)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % print_every == 0 or step == steps:
            accuracy = (chosen > rejected).float().mean().item()
            margin = (chosen - rejected).mean().item()
            print(
                f"reward model step {step}: loss {loss.item():.3f}, "
                f"accuracy {accuracy:.2f}, margin {margin:.2f}"
            )
    reward_model.eval()
    return reward_model, losses


def ranked_answers(question: preferences.Question, rng: random.Random) -> list[str]:
    """A total order of K = 3 answers to one question, best first: friendly, plain, curt
    (human_score 3, 2, 1), with training closings."""
    right = toyworld.answer(*question)
    return [
        preferences.styled(right, rng.choice(preferences.TRAIN_FRIENDLY)),
        preferences.styled(right),
        preferences.styled(right, rng.choice(preferences.TRAIN_CURT)),
    ]


def train_ranking_model(
    base: tinylm.TinyGPT,
    questions: list[preferences.Question],
    steps: int,
    seed: int,
    lr: float,
    batch_size: int,
) -> tinylm.ScalarHead:
    """r_theta trained with ranking_loss on `batch_size` rankings of K = 3 answers per step."""
    torch.manual_seed(seed)  # the new scalar head's initial weights
    reward_model = tinylm.ScalarHead(copy.deepcopy(base))
    optimizer = torch.optim.AdamW(reward_model.parameters(), lr=lr, weight_decay=0.0)
    rng = random.Random(seed)
    device = next(reward_model.parameters()).device
    for _ in range(steps):
        batch = rng.choices(questions, k=batch_size)
        answers = [a for q in batch for a in ranked_answers(q, rng)]  # row-major: (B, K)
        prompts = [toyworld.question(*q) for q in batch for _ in range(3)]
        input_ids, mask = training.pad_batch(prompts, answers, device=device)
        ranked = training.last_token_values(reward_model(input_ids), mask).view(batch_size, 3)
        loss = ranking_loss(ranked)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    print(f"ranking model: {steps} steps of {batch_size} rankings, last loss {loss.item():.3f}")
    return reward_model.eval()


def labeller_agreement(rng: random.Random, n: int = 4000) -> dict[str, float]:
    """How often simulated labellers pick the better of two answers, rating each on 0-10
    (each answer rated by a different labeller) or comparing the two (one labeller).

    Each labeller has an offset (-2..2 points) and a scale (0.5..1.5) of their own, and some
    noise (0.7 points): what makes absolute scores unreliable. A comparison cancels the offset
    and a positive scale cannot flip it; only the noise remains.
    """
    labellers = [(rng.uniform(-2, 2), rng.uniform(0.5, 1.5)) for _ in range(20)]

    def rating(quality: float, labeller: tuple[float, float]) -> float:
        offset, scale = labeller
        return min(10.0, max(0.0, round(5 + offset + scale * quality + rng.gauss(0, 0.7))))

    absolute = pairwise = 0.0
    for _ in range(n):
        good, bad = sorted((rng.uniform(-3, 3), rng.uniform(-3, 3)), reverse=True)
        a, b = rating(good, rng.choice(labellers)), rating(bad, rng.choice(labellers))
        absolute += 1.0 if a > b else 0.5 if a == b else 0.0  # a tie: a coin decides
        offset, scale = rng.choice(labellers)
        pairwise += scale * (good - bad) + rng.gauss(0, 0.7 * math.sqrt(2)) > 0
    return {"absolute": absolute / n, "pairwise": pairwise / n}


def probe_responses(question: preferences.Question, rng: random.Random) -> dict[str, str]:
    """Answers to one question, each varying one thing the labellers did or did not compare."""
    right, wrong = toyworld.answer(*question), preferences.wrong_answer(question, rng)
    friendly, curt = preferences.FRIENDLY[0], preferences.CURT[1]
    return {
        "friendly (preferred)": preferences.styled(right, friendly),
        "plain": preferences.styled(right),
        "curt": preferences.styled(right, curt),
        "WRONG but friendly": preferences.styled(wrong, friendly),
        "curt, ending in '!'": preferences.styled(right, curt.rstrip(".") + "!"),
        "rambling: closing x2": preferences.styled(right, f"{friendly} {friendly}"),
    }


def draw(axes, losses, accuracies) -> None:
    """The training loss, and held-out accuracy of each kind of pair."""
    cli.curve(axes[0], losses, "l_RM on the batch")
    axes[0].axhline(math.log(2), color="grey", linestyle=":", label="log 2 (r ties)")
    cli.label_axes(axes[0], "training", "step", "loss (nats)")
    names, values = zip(*accuracies.items(), strict=True)
    axes[1].bar(range(len(names)), values, color=["C0", "C1", "C2", "C3"][: len(names)])
    axes[1].axhline(0.5, color="grey", linestyle=":", label="chance")
    axes[1].set_xticks(range(len(names)), names, fontsize=7)
    axes[1].set_ylim(0, 1)
    cli.label_axes(axes[1], "held out: how often r(X,Y+) > r(X,Y-)", "", "accuracy")


def main(argv: list[str] | None = None) -> dict:
    args = cli.demo_args("reward_model", __doc__.splitlines()[0], DEFAULTS, argv)
    training.set_seed(args.seed)
    device = cli.pick_device(args.device)
    rng = random.Random(args.seed)

    print(f"== pretraining a base model ({args.pretrain_steps} steps)")
    base = training.pretrain(steps=args.pretrain_steps, seed=args.seed, device=device)

    train_questions, test_questions = preferences.split_questions(args.seed)
    train_pairs = preferences.style_pairs(train_questions, rng)
    test_pairs = preferences.style_pairs(
        test_questions,
        rng,
        per_question=6,
        friendly=preferences.HELD_OUT_FRIENDLY,
        curt=preferences.HELD_OUT_CURT,
    )
    example = train_pairs[0]
    print(f"\n== {len(train_pairs)} preference pairs on {len(train_questions)} questions, e.g.")
    print(f"X  = {example.prompt!r}\nY+ = {example.chosen!r}\nY- = {example.rejected!r}")
    print(f"closings in training: {preferences.TRAIN_FRIENDLY} vs {preferences.TRAIN_CURT} or none")
    print("loss: l_RM = -log sigma(r(X,Y+) - r(X,Y-))")
    reward_model, losses = train_reward_model(
        base, train_pairs, args.steps, args.seed, args.lr, args.batch_size, args.print_every
    )

    held_out_accuracy, held_out_margin = accuracy_and_margin(reward_model, test_pairs)
    correctness = preferences.correctness_pairs(test_questions, rng)
    correctness_accuracy, correctness_margin = accuracy_and_margin(reward_model, correctness)
    chance_band = 2 * math.sqrt(0.25 / len(correctness))  # two standard errors around 1/2
    at_chance = abs(correctness_accuracy - 0.5) <= chance_band
    print(
        f"\n== held out: {len(test_pairs)} pairs on {len(test_questions)} unseen questions, "
        f"closings never seen in training: {preferences.HELD_OUT_FRIENDLY} vs "
        f"{preferences.HELD_OUT_CURT} or none"
    )
    print(
        f"style pairs (friendly vs plain/curt): accuracy {held_out_accuracy:.2f}, "
        f"margin {held_out_margin:.2f}"
    )
    print(
        f"right vs WRONG answer ({len(correctness)} pairs, never varied in training): accuracy "
        f"{correctness_accuracy:.2f}, margin {correctness_margin:.2f}"
        + (
            f": AT CHANCE (within {chance_band:.2f} of 0.5). The reward model has no idea "
            "whether an answer is right: the labellers' pairs never contrasted right and wrong."
            if at_chance
            else ""
        )
    )

    question = min(test_questions, key=lambda q: len(toyworld.question(*q) + toyworld.answer(*q)))
    probes = probe_responses(question, rng)
    with torch.no_grad():
        scores = rewards(
            reward_model, [toyworld.question(*question)] * len(probes), list(probes.values())
        )
    print(f"\n== what it rewards: {toyworld.question(*question)!r}")
    print(f"{'response':40} {'r(X,Y)':>7} {'labellers':>9}")
    for (label, response), score in zip(probes.items(), scores.tolist(), strict=True):
        truth = preferences.human_score(question, response + toyworld.EOS)
        print(f"{response!r:40} {score:7.2f} {truth:9.0f}   {label}")

    probe = dict(zip(probes, scores.tolist(), strict=True))
    for flaw, seen in (
        (
            "a wrong answer with a friendly closing beats a right plain one: correctness was never "
            "varied in the pairs",
            probe["WRONG but friendly"] > probe["plain"],
        ),
        (
            "a curt closing ending in '!' scores above one ending in '.': every friendly closing "
            "ended in '!', a spurious correlate",
            probe["curt, ending in '!'"] > probe["curt"],
        ),
        (
            "a doubled closing scores at least as high as a single one: more of what it likes, "
            "which the labellers call garbled",
            probe["rambling: closing x2"] >= probe["friendly (preferred)"],
        ),
    ):
        if seen:
            print(f"misses: {flaw}")

    print("\n== the card: relative preferences are more consistent than absolute 0-10 scores")
    agreement = labeller_agreement(random.Random(args.seed))
    print(
        "simulated labellers, each with their own offset and scale: the better of two answers "
        f"wins {agreement['absolute']:.0%} of the time when each is rated 0-10 by a different "
        f"labeller, {agreement['pairwise']:.0%} when one labeller compares the two"
    )
    print("\n== the card's 'total order for each prompt': InstructGPT's K-way ranking loss")
    ranker = train_ranking_model(
        base, train_questions, args.steps, args.seed, args.lr, max(args.batch_size // 2, 1)
    )
    ranking_accuracy, _ = accuracy_and_margin(ranker, test_pairs)
    print(
        f"trained on rankings friendly > plain > curt (K = 3, 3 pairs each): held-out accuracy "
        f"{ranking_accuracy:.2f}, against {held_out_accuracy:.2f} for the pairs model"
    )

    cli.save_figure(
        args.plot,
        lambda axes: draw(
            axes,
            losses,
            {
                "style pairs\n(new closings)": held_out_accuracy,
                "right vs wrong": correctness_accuracy,
                "K-way model,\nstyle pairs": ranking_accuracy,
            },
        ),
        "Reward model: what it learned from the labellers' pairs",
        panels=2,
    )
    consistent = agreement["pairwise"] > agreement["absolute"] + 0.05
    ok = held_out_accuracy >= 0.75 and consistent
    line = cli.verdict(
        ok,
        f"the reward model ranks {held_out_accuracy:.0%} of unseen pairs (new closings) like the "
        "labellers"
        + ("" if held_out_accuracy >= 0.75 else " (does not hold: under 75%)")
        + f"; right-vs-wrong, never shown to it: {correctness_accuracy:.0%}"
        + (" (chance)" if at_chance else "")
        + f"; pairwise labels agree {agreement['pairwise']:.0%} vs absolute "
        f"{agreement['absolute']:.0%}",
    )
    return {
        "held_out_accuracy": held_out_accuracy,
        "held_out_margin": held_out_margin,
        "correctness_accuracy": correctness_accuracy,
        "correctness_at_chance": at_chance,
        "ranking_accuracy": ranking_accuracy,
        "agreement": agreement,
        "first_loss": losses[0],
        "final_loss": training.smooth(losses, 10),
        "probe_scores": probe,
        "verdict": line,
    }


if __name__ == "__main__":
    main()
