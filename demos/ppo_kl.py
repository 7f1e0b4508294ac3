"""RLHF: PPO against a learned reward model, with a per-token KL penalty to pi_SFT.

Card formula:  max_theta E_{Y ~ pi_theta(.|X)} [ r(X, Y) - beta KL(pi_theta || pi_SFT) ]

The reward model of reward_model.py (trained on the labellers' pairs) scores each sampled answer;
PPO (clipped objective, GAE advantages, a value model: a copy of the reward model whose scalar
head becomes V, as TRL does) raises that score. The run is repeated for several beta, each from
pi_SFT with its own sampling generator (same seed), so no beta's result depends on which ran
before: with beta = 0 nothing holds the policy near pi_SFT, so it drifts as far as the reward
model lets it; a positive beta charges for every nat of drift. The labellers' own rule
(preferences.human_score, the "target") is set beside the reward model's score (the "proxy"),
against sqrt(KL): the over-optimisation curve of Gao, Schulman and Hilton (2022). --full sweeps
more beta over three seeds.

Where the score goes: here r(X, Y) is added to the reward of the last response token, the EOS
when the policy stopped (or the last token it was allowed). TRL's PPOTrainer adds it one
position later (at sequence_length + 1 of its truncated response) and can subtract a
`missing_eos_penalty` from the score of answers that never emit EOS; this reward model has no
such penalty, so an answer that never ends is scored on what it said.

Tensors follow TRL: (B, T) rows aligned with input_ids; `logprobs[:, t]` is
log pi(input_ids[:, t] | input_ids[:, :t]); `response_mask` marks the tokens of Y.

    python demos/ppo_kl.py            (or: notecards demo ppo_kl)
"""

from __future__ import annotations

import copy
import math
import random

import torch
import torch.nn.functional as F

try:
    from . import cli, preferences, tinylm, training
    from .reward_model import train_reward_model
    from .training import masked_mean
except ImportError:  # run as a script: python demos/ppo_kl.py
    import cli
    import preferences
    import tinylm
    import training
    from reward_model import train_reward_model
    from training import masked_mean

# settings (each is also a --option; --quick is the default: at 15 steps the beta runs had not
# yet drifted apart at seed 1, KL 3.55 nats at beta 0 against 3.38 at beta 0.5; beta 1, not
# 0.5: on another CPU, whose kernels round differently, seed 1 gave 5.44 against 4.30 at 0.5,
# 21% less where the verdict asks 30%, and 2.89 at beta 1)
DEFAULTS = {
    "steps": 30,  # PPO iterations per beta (sample a batch, then update on it)
    "betas": "0,1",  # the KL coefficients to compare, comma-separated
    "full_betas": "0,0.02,0.05,0.1,0.2,0.5,1",
    "seeds": 1,  # runs (seed, seed+1, ...) averaged per beta
    "full_seeds": 3,
    "samples": 256,  # answers sampled per beta to judge it (held-out questions in turn)
    "pretrain_steps": training.PRETRAIN_STEPS,  # stage 1 -> base model
    "sft_steps": preferences.SFT_STEPS,  # -> pi_SFT: the start of every run, and the KL's reference
    "rm_steps": 40,  # -> the reward model r(X, Y)
    "batch_size": 16,  # prompts sampled per iteration
    "max_new_tokens": preferences.MAX_NEW_TOKENS,  # longest answer the policy may write
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
    r"""Per-token reward, whose sum over Y is the card's objective for one sample:

    .. math:: \max_\theta \mathbb{E}_{Y\sim\pi_\theta(. \mid X)}\left[r_\vartheta(X, Y)
        - \beta\mathrm{KL}(\pi_\theta \| \pi_{SFT})\right],
        \qquad r_t = -\beta\left(\log \pi_\theta(y_t \mid \cdot)
        - \log \pi_{SFT}(y_t \mid \cdot)\right) + [t = |Y|]\, r_\vartheta(X, Y)

    scores = r_vartheta(X, Y) (the reward model, one per row), logprobs = log pi_theta and
    ref_logprobs = log pi_SFT of each sampled token, beta = beta. Summed over Y this is
    r(X, Y) - beta log(pi(Y|X) / pi_SFT(Y|X)), whose mean over samples Y ~ pi is the objective.
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
    r"""Generalized advantage estimation over the tokens of Y (the value after the last one is 0):

    .. math:: \delta_t = r_t + \gamma V_{t+1} - V_t, \qquad
        A_t = \delta_t + \gamma \lambda A_{t+1}, \qquad R_t = A_t + V_t

    rewards = r_t, values = V_t, gamma = gamma, lam = lambda; returns (A, R).
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
    r"""PPO's clipped surrogate (Schulman et al. 2017), averaged over the response tokens:

    .. math:: L = -\mathbb{E}_t\left[\min\left(\rho_t A_t,\;
        \mathrm{clip}(\rho_t, 1-\epsilon, 1+\epsilon)\, A_t\right)\right],
        \qquad \rho_t = \frac{\pi_\theta(y_t \mid \cdot)}{\pi_{\theta_\mathrm{old}}(y_t \mid \cdot)}

    logprobs = log pi_theta, old_logprobs = log pi_theta_old (when sampled), advantages = A_t,
    clip_range = epsilon.
    """
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
def evaluate(policy, reference, reward_model, questions, samples, seed) -> dict:
    """`samples` fresh answers (their own generator): the reward model's score r(X, Y) (the
    proxy), the labellers' (the target), and KL(pi || pi_SFT) in nats."""
    device = next(policy.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed + 1)
    asked = [questions[i % len(questions)] for i in range(samples)]
    input_ids, response_mask, logprobs = preferences.rollout(
        policy, asked, preferences.MAX_NEW_TOKENS, generator
    )
    ref_logprobs = training.token_logprobs(reference(input_ids), input_ids)
    texts = training.response_texts(input_ids, response_mask)
    return {
        "reward": training.last_token_values(reward_model(input_ids), response_mask).mean().item(),
        "kl": training.sampled_kl(logprobs, ref_logprobs, response_mask).item(),
        **preferences.judge(asked, texts),
        "example": texts[0],
    }


def ppo(args, beta, reference, reward_model, questions, seed) -> tuple[tinylm.TinyGPT, dict]:
    """One RLHF run from pi_SFT at this beta, with its own generators (seeded by `seed` alone:
    every beta sees the same random draws). Returns the policy and its per-iteration curves."""
    rng = random.Random(seed)
    device = next(reference.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    policy = copy.deepcopy(reference).train().requires_grad_(True)
    critic = copy.deepcopy(reward_model).train().requires_grad_(True)  # V starts from r, as in TRL
    optimizer = torch.optim.AdamW(
        [*policy.parameters(), *critic.parameters()], lr=args.lr, weight_decay=0.0
    )
    curves = {k: [] for k in ("reward", "kl", "human_score", "clipfrac", "approxkl", "vf_loss")}
    for step in range(1, args.steps + 1):
        batch = rng.choices(questions, k=args.batch_size)
        input_ids, mask, old_logprobs = preferences.rollout(
            policy, batch, args.max_new_tokens, generator
        )
        # V before any update, read once: GAE takes it detached, the first epoch's value loss
        # with its graph (the same numbers as a separate no-grad pass, one pass fewer)
        current_values = state_values(critic, input_ids)
        with torch.no_grad():
            ref_logprobs = training.token_logprobs(reference(input_ids), input_ids) * mask
            scores = training.last_token_values(reward_model(input_ids), mask)
            values = current_values.detach() * mask
            rewards = kl_penalized_rewards(scores, old_logprobs, ref_logprobs, mask, beta)
            advantages, returns = gae(rewards, values, mask, args.gamma, args.lam)
            advantages = whiten(advantages, mask)

        for epoch in range(args.ppo_epochs):
            logprobs = training.token_logprobs(policy(input_ids), input_ids)
            policy_loss = ppo_clip_loss(logprobs, old_logprobs, advantages, mask, args.clip_range)
            if epoch:  # the critic has moved since current_values
                current_values = state_values(critic, input_ids)
            value_loss = 0.5 * masked_mean((current_values - returns) ** 2, mask)
            optimizer.zero_grad(set_to_none=True)
            (policy_loss + args.vf_coef * value_loss).backward()
            optimizer.step()
        with torch.no_grad():  # what TRL logs, from the last epoch: how far one update moved pi
            log_ratio = logprobs - old_logprobs
            clipfrac = masked_mean(((log_ratio.exp() - 1).abs() > args.clip_range).float(), mask)
            approxkl = 0.5 * masked_mean(log_ratio**2, mask)

        kl = training.sampled_kl(old_logprobs, ref_logprobs, mask).item()
        texts = training.response_texts(input_ids, mask)
        curves["reward"].append(scores.mean().item())
        curves["kl"].append(kl)
        curves["human_score"].append(preferences.judge(batch, texts)["human_score"])
        curves["clipfrac"].append(clipfrac.item())
        curves["approxkl"].append(approxkl.item())
        curves["vf_loss"].append(value_loss.item())
        if step == 1 or step % args.print_every == 0 or step == args.steps:
            print(
                f"beta {beta} step {step}: reward {scores.mean():.2f}, KL {kl:.2f}, "
                f"labellers {curves['human_score'][-1]:.2f}, clipfrac {clipfrac:.2f}, "
                f"approxkl {approxkl:.4f}, value loss {value_loss:.3f}, e.g. {texts[0]!r}"
            )
    return policy, curves


def run_seed(args, seed: int, betas: list[float], device) -> tuple[dict, dict, dict]:
    """pi_SFT, the reward model and one PPO run per beta at this seed, each judged on samples
    of the held-out questions: (pi_SFT's figures, each beta's, each beta's curves)."""
    training.set_seed(seed)
    print(f"== seed {seed}: pi_SFT (pretrain {args.pretrain_steps}, SFT {args.sft_steps} steps)")
    reference = preferences.sft_policy(args.sft_steps, seed, device, args.pretrain_steps)
    reference.eval().requires_grad_(False)
    base = training.pretrain(steps=args.pretrain_steps, seed=seed, device=device)
    train_questions, test_questions = preferences.split_questions(seed)
    print(f"== reward model: {args.rm_steps} steps on the labellers' pairs")
    reward_model, _ = train_reward_model(
        base,
        preferences.style_pairs(train_questions, random.Random(seed)),
        args.rm_steps,
        seed,
        print_every=max(args.rm_steps // 2, 1),
    )
    reward_model.requires_grad_(False)
    start = evaluate(reference, reference, reward_model, test_questions, args.samples, seed)
    runs, curves = {}, {}
    for beta in betas:
        print(f"\n== PPO, beta {beta}")
        policy, curves[beta] = ppo(args, beta, reference, reward_model, train_questions, seed)
        runs[beta] = evaluate(policy, reference, reward_model, test_questions, args.samples, seed)
    return start, runs, curves


def mean_of(dicts: list[dict]) -> dict:
    """The mean of each number over runs (seeds)."""
    return {k: sum(d[k] for d in dicts) / len(dicts) for k in dicts[0] if k != "example"}


def draw(axes, start, runs, curves) -> None:
    """Left: proxy and target against sqrt(KL), one point per beta. Right: the KL per step."""
    ax = axes[0]
    points = [("SFT", start)] + [(f"{b:g}", r) for b, r in sorted(runs.items(), reverse=True)]
    xs = [math.sqrt(max(r["kl"], 0.0)) for _, r in points]
    ax.plot(xs, [r["reward"] for _, r in points], "o-", label="reward model r(X,Y) (proxy)")
    ax.plot(xs, [r["human_score"] for _, r in points], "s-", label="labellers (target)")
    for x, (name, r) in zip(xs, points, strict=True):
        ax.annotate(f"beta {name}" if name != "SFT" else name, (x, r["human_score"]), fontsize=7)
    cli.label_axes(
        ax,
        "over-optimisation: one point per beta",
        "sqrt(KL(pi || pi_SFT)) (sqrt nats)",
        "mean score of sampled answers",
    )
    for beta, c in curves.items():
        cli.curve(axes[1], c["kl"], f"beta {beta:g}")
    cli.label_axes(axes[1], "drift from pi_SFT during PPO", "PPO iteration", "sampled KL (nats)")


def main(argv: list[str] | None = None) -> dict:
    args = cli.demo_args("ppo_kl", __doc__.splitlines()[0], DEFAULTS, argv)
    device = cli.pick_device(args.device)
    betas = sorted(float(b) for b in args.betas.split(","))
    print(
        "per-token reward: -beta (log pi - log pi_SFT), plus r(X, Y) on the last token (EOS); "
        "advantages by GAE; loss: clipped surrogate + value loss"
    )
    print(
        "(TRL adds the score one position later, after its truncated response, and can take "
        "missing_eos_penalty off answers without EOS; here nothing charges for not stopping)"
    )
    per_seed = [run_seed(args, args.seed + i, betas, device) for i in range(args.seeds)]
    start = mean_of([s for s, _, _ in per_seed])
    runs = {b: mean_of([r[b] for _, r, _ in per_seed]) for b in betas}
    curves = per_seed[0][2]

    n = args.samples * args.seeds
    print(f"\n== {n} sampled answers to held-out questions per row ({args.seeds} seed(s))")
    print("proxy = the reward model's score; target = the labellers' rule it imitates")
    print(
        f"{'beta':>5} {'proxy':>7} {'KL':>6} {'target':>7} {'friendly':>8} {'stops':>6} "
        f"{'garbled':>7}  a sampled answer (seed {args.seed})"
    )
    rows = [("SFT", start, per_seed[0][0]["example"])]
    rows += [(f"{b:g}", runs[b], per_seed[0][1][b]["example"]) for b in betas]
    for name, r, example in rows:
        print(
            f"{name:>5} {r['reward']:7.2f} {r['kl']:6.2f} {r['human_score']:7.2f} "
            f"{r['friendly']:8.0%} {r['finished']:6.0%} {r['garbled']:7.0%}  {example!r}"
        )
    cli.save_figure(
        args.plot,
        lambda axes: draw(axes, start, runs, curves),
        "PPO with a KL penalty: proxy reward vs the labellers' target",
        panels=2,
    )
    low, high = runs[betas[0]], runs[betas[-1]]
    margin = 0.1  # scores are means of hundreds of samples: a gap under this is noise
    proxy_up = low["reward"] > high["reward"] + margin
    if proxy_up and low["human_score"] < high["human_score"] - margin:
        print(
            f"reward hacking: at beta {betas[0]:g} the reward model scores the answers higher "
            f"({low['reward']:.2f} vs {high['reward']:.2f}) and the labellers lower "
            f"({low['human_score']:.2f} vs {high['human_score']:.2f})"
        )
    else:
        print(
            f"no reward hacking beyond noise ({margin}) between beta {betas[0]:g} and "
            f"{betas[-1]:g}: the labellers and the reward model do not disagree on them"
        )
    # the card's claim: the KL term keeps pi near pi_SFT while r(X, Y) still rises
    closer = high["kl"] < 0.7 * low["kl"] and low["kl"] - high["kl"] > 0.2
    rose = high["reward"] > start["reward"] + 0.3
    line = cli.verdict(
        len(betas) > 1 and closer and rose,
        f"the KL term kept pi closer to pi_SFT: KL {low['kl']:.2f} nats at beta {betas[0]:g}, "
        f"{high['kl']:.2f} at beta {betas[-1]:g}"
        + ("" if closer else " (does not hold: not 30% and 0.2 nats lower)")
        + f"; r(X,Y) {start['reward']:.2f} -> {high['reward']:.2f} at beta {betas[-1]:g}"
        + ("" if rose else " (did not rise by 0.3)"),
    )
    return {"start": start, "runs": runs, "curves": curves, "verdict": line}


if __name__ == "__main__":
    main()
