"""Reward model: learn a score r(X, Y) from pairs where labellers preferred Y+ over Y-.

Card formula:  l_RM = -log sigma( r(X, Y+) - r(X, Y-) )

The labellers (preferences.py) like a friendly closing ("cheers!") and dislike a plain or
curt one. A copy of the pretrained model with a scalar head reads prompt + response and gives
one number at the response's last token. Trained on some questions, tested on unseen ones; then
probed with answers the labellers never compared, to show what the learned reward misses.

    python demos/reward_model.py            (or: notecards demo reward_model)
"""

from __future__ import annotations

import copy
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
    "steps": 60,  # reward-model training steps
    "quick_steps": 40,
    "pretrain_steps": training.PRETRAIN_STEPS,  # stage 1: the base the reward model starts from
    "batch_size": 32,  # preference pairs per step
    "lr": 1e-3,  # AdamW, for the body and the new scalar head
    "print_every": 25,  # steps between progress lines
}


def reward_model_loss(rewards_chosen: torch.Tensor, rewards_rejected: torch.Tensor) -> torch.Tensor:
    """l_RM = -log sigma(r(X,Y+) - r(X,Y-)), mean over the batch (Bradley-Terry)."""
    return -F.logsigmoid(rewards_chosen - rewards_rejected).mean()


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


def main(argv: list[str] | None = None) -> dict:
    args = cli.demo_args("reward_model", __doc__.splitlines()[0], DEFAULTS, argv)
    training.set_seed(args.seed)
    device = cli.pick_device(args.device)
    rng = random.Random(args.seed)

    print(f"== pretraining a base model ({args.pretrain_steps} steps)")
    base = training.pretrain(steps=args.pretrain_steps, seed=args.seed, device=device)

    train_questions, test_questions = preferences.split_questions(args.seed)
    train_pairs = preferences.style_pairs(train_questions, rng)
    test_pairs = preferences.style_pairs(test_questions, rng)
    example = train_pairs[0]
    print(f"\n== {len(train_pairs)} preference pairs on {len(train_questions)} questions, e.g.")
    print(f"X  = {example.prompt!r}\nY+ = {example.chosen!r}\nY- = {example.rejected!r}")
    print("loss: l_RM = -log sigma(r(X,Y+) - r(X,Y-))")
    reward_model, losses = train_reward_model(
        base, train_pairs, args.steps, args.seed, args.lr, args.batch_size, args.print_every
    )

    held_out_accuracy, held_out_margin = accuracy_and_margin(reward_model, test_pairs)
    correctness = preferences.correctness_pairs(test_questions, rng)
    correctness_accuracy, correctness_margin = accuracy_and_margin(reward_model, correctness)
    print(f"\n== held out: {len(test_pairs)} pairs on {len(test_questions)} unseen questions")
    print(
        f"style pairs (friendly vs plain/curt): accuracy {held_out_accuracy:.2f}, "
        f"margin {held_out_margin:.2f}"
    )
    print(
        f"right vs WRONG answer (never varied in training): accuracy {correctness_accuracy:.2f}, "
        f"margin {correctness_margin:.2f}"
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
        truth = preferences.human_score(question, response)
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
            "which the labellers call rambling",
            probe["rambling: closing x2"] >= probe["friendly (preferred)"],
        ),
    ):
        if seen:
            print(f"misses: {flaw}")

    cli.save_plot(args.plot, {"l_RM": losses}, "reward model training", "step")
    ok = held_out_accuracy >= 0.9
    cli.verdict(
        ok,
        f"the reward model ranks {held_out_accuracy:.0%} of unseen pairs like the labellers; "
        f"on right-vs-wrong answers, which it was never shown, {correctness_accuracy:.0%}",
    )
    return {
        "held_out_accuracy": held_out_accuracy,
        "held_out_margin": held_out_margin,
        "correctness_accuracy": correctness_accuracy,
        "first_loss": losses[0],
        "final_loss": training.smooth(losses, 10),
        "probe_scores": probe,
    }


if __name__ == "__main__":
    main()
