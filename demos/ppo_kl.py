"""RLHF with PPO against a learned reward model, with a per-token KL penalty to pi_SFT.

Card formula:  max_theta E_{Y ~ pi_theta(.|X)} [ r(X, Y) - beta KL(pi_theta || pi_SFT) ]

Tensors follow TRL: (B, T) rows aligned with input_ids; `logprobs[:, t]` is
log pi(input_ids[:, t] | input_ids[:, :t]); `response_mask` marks the tokens of Y.
"""

from __future__ import annotations

import torch


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
    positions = torch.arange(mask.shape[1], device=mask.device)
    last = (positions * response_mask.long()).argmax(dim=1)  # index of the last token of Y
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


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of x over the positions where mask is set (all response tokens of the batch)."""
    mask = mask.to(x.dtype)
    return (x * mask).sum() / mask.sum()


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
