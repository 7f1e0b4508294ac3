"""RLHF: PPO against a learned reward model, with a per-token KL penalty to pi_SFT.

Card formula:  max_theta E_{Y ~ pi_theta(.|X)} [ r(X, Y) - beta KL(pi_theta || pi_SFT) ]

The reward model of reward_model.py (trained on the labellers' pairs) scores each sampled answer;
PPO (clipped objective, GAE advantages, a value model: a copy of the reward model whose scalar
head becomes V, as TRL does) raises that score. The run is repeated for
several beta: with beta = 0 nothing holds the policy near pi_SFT, so it drifts as far as the
reward model lets it; a positive beta charges for every nat of drift. The labellers' own rule
(preferences.human_score) is printed next to the reward model's score to show where they part.

Tensors follow TRL: (B, T) rows aligned with input_ids; `logprobs[:, t]` is
log pi(input_ids[:, t] | input_ids[:, :t]); `response_mask` marks the tokens of Y.

    python demos/ppo_kl.py            (or: notecards demo ppo_kl)
"""

from __future__ import annotations

import copy
import random

import torch
import torch.nn.functional as F

try:
    from . import cli, preferences, tinylm, toyworld, training
    from .reward_model import train_reward_model
    from .training import masked_mean
except ImportError:  # run as a script: python demos/ppo_kl.py
    import cli
    import preferences
    import tinylm
    import toyworld
    import training
    from reward_model import train_reward_model
    from training import masked_mean

# settings (each is also a --option; --quick uses the quick_ values)
DEFAULTS = {
    "steps": 30,  # PPO iterations per beta (sample a batch, then update on it)
    "quick_steps": 15,
    "betas": "0,0.5",  # the KL coefficients to compare, comma-separated
    "pretrain_steps": training.PRETRAIN_STEPS,  # stage 1 -> base model
    "sft_steps": 100,  # -> pi_SFT: the start of every run, and the KL's reference
    "rm_steps": 40,  # -> the reward model r(X, Y)
    "batch_size": 16,  # prompts sampled per iteration
    "max_new_tokens": 20,  # longest answer the policy may write
    "ppo_epochs": 2,  # updates on each sampled batch (what the clip makes safe)
    "clip_range": 0.2,  # epsilon: the ratio pi/pi_old is clipped to [1 - eps, 1 + eps]
    "gamma": 1.0,  # no discount: the answer is one episode
    "lam": 0.95,  # GAE's bias/variance knob
    "vf_coef": 0.5,  # weight of the value loss
    "lr": 3e-4,  # AdamW, for policy and value model together
    "print_every": 5,  # steps between progress lines
}


def kl_penalized_rewards(
    scores: torch.Tensor,
    logprobs: torch.Tensor,
    ref_logprobs: torch.Tensor,
    response_mask: torch.Tensor,
    beta: float,
) -> torch.Tensor:
    """Per-token reward: -beta (log pi - log pi_SFT) on each token of Y, plus r(X, Y) on the last.

    Summed over Y this is r(X, Y) - beta * log(pi(Y|X) / pi_SFT(Y|X)), whose mean over samples
    Y ~ pi is the card's objective.
    """
    mask = response_mask.to(logprobs.dtype)
    rewards = -beta * (logprobs - ref_logprobs) * mask
    last = training.last_token_index(response_mask)  # where Y ends
    rewards[torch.arange(mask.shape[0], device=mask.device), last] += scores
    return rewards


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    response_mask: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimation over the tokens of Y (the value after the last one is 0).

    delta_t = r_t + gamma V_{t+1} - V_t;  A_t = delta_t + gamma lam A_{t+1};  returns = A + V.
    """
    mask = response_mask.bool()
    advantages = torch.zeros_like(rewards)
    next_value = torch.zeros_like(rewards[:, 0])
    next_advantage = torch.zeros_like(rewards[:, 0])
    for t in reversed(range(rewards.shape[1])):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        advantage = delta + gamma * lam * next_advantage
        advantages[:, t] = torch.where(mask[:, t], advantage, 0.0)
        next_value = torch.where(mask[:, t], values[:, t], next_value)
        next_advantage = torch.where(mask[:, t], advantage, next_advantage)
    returns = (advantages + values) * mask
    return advantages, returns


def ppo_clip_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    clip_range: float,
) -> torch.Tensor:
    """The clipped surrogate: -min(rho A, clip(rho, 1-eps, 1+eps) A), rho = pi / pi_old."""
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range)
    return masked_mean(torch.maximum(unclipped, clipped), response_mask)


def whiten(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit variance over the response tokens: one step size for every batch."""
    mean = masked_mean(x, mask)
    std = masked_mean((x - mean) ** 2, mask).sqrt()
    return (x - mean) / (std + 1e-8) * mask


def state_values(critic: tinylm.ScalarHead, input_ids: torch.Tensor) -> torch.Tensor:
    """V for each token of Y, aligned with input_ids: read where the token is about to be chosen."""
    return F.pad(critic(input_ids)[:, :-1], (1, 0))


@torch.no_grad()
def evaluate(policy, reference, reward_model, questions, max_new_tokens, generator) -> dict:
    """Reward-model score, KL(pi || pi_SFT) and the labellers' score of fresh samples."""
    input_ids, response_mask, logprobs = preferences.rollout(
        policy, questions, max_new_tokens, generator
    )
    ref_logprobs = training.token_logprobs(reference(input_ids), input_ids)
    return {
        "reward": training.last_token_values(reward_model(input_ids), response_mask).mean().item(),
        "kl": training.sampled_kl(logprobs, ref_logprobs, response_mask).item(),
        **preferences.judge(questions, training.response_texts(input_ids, response_mask)),
    }


def ppo(args, beta, reference, reward_model, questions, generator) -> tuple[tinylm.TinyGPT, dict]:
    """One RLHF run from pi_SFT at this beta. Returns the policy and its per-iteration curves."""
    rng = random.Random(args.seed)
    policy = copy.deepcopy(reference).train().requires_grad_(True)
    critic = copy.deepcopy(reward_model).train().requires_grad_(True)  # V starts from r, as in TRL
    optimizer = torch.optim.AdamW([*policy.parameters(), *critic.parameters()], lr=args.lr)
    curves = {"reward": [], "kl": [], "human_score": []}
    for step in range(1, args.steps + 1):
        batch = rng.choices(questions, k=args.batch_size)
        input_ids, mask, old_logprobs = preferences.rollout(
            policy, batch, args.max_new_tokens, generator
        )
        with torch.no_grad():
            ref_logprobs = training.token_logprobs(reference(input_ids), input_ids) * mask
            scores = training.last_token_values(reward_model(input_ids), mask)
            values = state_values(critic, input_ids) * mask
            rewards = kl_penalized_rewards(scores, old_logprobs, ref_logprobs, mask, beta)
            advantages, returns = gae(rewards, values, mask, args.gamma, args.lam)
            advantages = whiten(advantages, mask)

        for _ in range(args.ppo_epochs):
            logprobs = training.token_logprobs(policy(input_ids), input_ids)
            policy_loss = ppo_clip_loss(logprobs, old_logprobs, advantages, mask, args.clip_range)
            value_loss = 0.5 * masked_mean((state_values(critic, input_ids) - returns) ** 2, mask)
            optimizer.zero_grad(set_to_none=True)
            (policy_loss + args.vf_coef * value_loss).backward()
            optimizer.step()

        kl = training.sampled_kl(old_logprobs, ref_logprobs, mask).item()
        texts = training.response_texts(input_ids, mask)
        curves["reward"].append(scores.mean().item())
        curves["kl"].append(kl)
        curves["human_score"].append(preferences.judge(batch, texts)["human_score"])
        if step == 1 or step % args.print_every == 0 or step == args.steps:
            print(
                f"beta {beta} step {step}: reward {scores.mean():.2f}, KL {kl:.2f}, "
                f"reward - beta KL {scores.mean() - beta * kl:.2f}, "
                f"labellers {curves['human_score'][-1]:.2f}, e.g. {texts[0]!r}"
            )
    return policy, curves


def main(argv: list[str] | None = None) -> dict:
    args = cli.demo_args("ppo_kl", __doc__.splitlines()[0], DEFAULTS, argv)
    training.set_seed(args.seed)
    device = cli.pick_device(args.device)
    betas = [float(b) for b in args.betas.split(",")]
    generator = torch.Generator(device=device).manual_seed(args.seed)
    rng = random.Random(args.seed)

    print(f"== pi_SFT: pretrain {args.pretrain_steps} steps, SFT {args.sft_steps} steps")
    reference = preferences.sft_policy(args.sft_steps, args.seed, device, args.pretrain_steps)
    reference.eval().requires_grad_(False)
    base = training.pretrain(steps=args.pretrain_steps, seed=args.seed, device=device)
    train_questions, test_questions = preferences.split_questions(args.seed)
    print(f"\n== reward model: {args.rm_steps} steps on the labellers' pairs")
    reward_model, _ = train_reward_model(
        base,
        preferences.style_pairs(train_questions, rng),
        args.rm_steps,
        args.seed,
        print_every=max(args.rm_steps // 2, 1),
    )
    reward_model.requires_grad_(False)

    start = evaluate(
        reference, reference, reward_model, test_questions * 4, args.max_new_tokens, generator
    )
    print(
        f"\npi_SFT on unseen questions: reward {start['reward']:.2f}, "
        f"labellers {start['human_score']:.2f}, friendly {start['friendly']:.0%}"
    )
    print(
        "per-token reward: -beta (log pi - log pi_SFT), plus r(X, Y) on the last token; "
        "advantages by GAE; loss: clipped surrogate + value loss"
    )

    runs, curves = {}, {}
    for beta in betas:
        print(f"\n== PPO, beta {beta}")
        policy, curves[beta] = ppo(args, beta, reference, reward_model, train_questions, generator)
        runs[beta] = evaluate(
            policy, reference, reward_model, test_questions * 4, args.max_new_tokens, generator
        )
        prompt = toyworld.question(*test_questions[0])
        answer = training.answer_batch(policy, [prompt], args.max_new_tokens)[0]
        runs[beta]["example"] = answer.removesuffix(toyworld.EOS)

    print("\n== on unseen questions (the labellers' rule is the truth the reward model imitates)")
    print(f"{'beta':>5} {'reward':>7} {'KL':>6} {'labellers':>9} {'friendly':>8}  greedy answer")
    print(
        f"{'SFT':>5} {start['reward']:7.2f} {0.0:6.2f} {start['human_score']:9.2f} "
        f"{start['friendly']:8.0%}"
    )
    for beta, r in runs.items():
        print(
            f"{beta:5} {r['reward']:7.2f} {r['kl']:6.2f} {r['human_score']:9.2f} "
            f"{r['friendly']:8.0%}  {r['example']!r}"
        )

    cli.save_xy_plot(
        args.plot,
        {f"beta {b}": (c["kl"], c["reward"]) for b, c in curves.items()},
        "PPO: reward-model score against KL(pi || pi_SFT), one point per iteration",
        "KL(pi || pi_SFT) of the sampled batch (nats)",
        "mean r(X, Y)",
    )
    zero, penalized = runs[min(betas)], runs[max(betas)]
    if zero["human_score"] < penalized["human_score"]:
        hacked = zero["reward"] > penalized["reward"]
        print(
            f"at beta {min(betas)} the policy drifted {zero['kl']:.2f} nats from pi_SFT and the "
            f"labellers like its answers less ({zero['human_score']:.2f} vs "
            f"{penalized['human_score']:.2f})"
            + (", though the reward model scores them higher: reward hacking" if hacked else "")
        )
    else:
        print("in this run the labellers rank the betas as the reward model does")
    reward_rose = all(training.smooth(c["reward"], 5) > c["reward"][0] for c in curves.values())
    cli.verdict(
        reward_rose and zero["kl"] > penalized["kl"],
        f"PPO raised r(X,Y) from {start['reward']:.2f} to {zero['reward']:.2f} at beta "
        f"{min(betas)} (KL {zero['kl']:.2f}) and {penalized['reward']:.2f} at beta {max(betas)} "
        f"(KL {penalized['kl']:.2f}): the penalty kept pi closer to pi_SFT",
    )
    return {"start": start, "runs": runs, "curves": curves}


if __name__ == "__main__":
    main()
