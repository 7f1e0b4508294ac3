"""The card formulas of the reward model, DPO and PPO demos, against values worked by hand."""

import math

import pytest

torch = pytest.importorskip("torch")

from demos.dpo import card_dpo_loss, dpo_loss  # noqa: E402
from demos.ppo_kl import (  # noqa: E402
    gae,
    kl_penalized_rewards,
    ppo_clip_loss,
    whiten,
)
from demos.reward_model import reward_model_loss  # noqa: E402
from demos.training import masked_mean  # noqa: E402

LOG2 = math.log(2.0)


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


def softplus(x: float) -> float:
    """-log sigma(-x), written out so the expected values do not reuse the code under test."""
    return math.log1p(math.exp(x))


# --- reward model: -log sigma(r+ - r-) ---------------------------------------------------------


def test_reward_model_loss_is_log2_when_rewards_tie():
    assert reward_model_loss(t(0.3, -2.0), t(0.3, -2.0)).item() == pytest.approx(LOG2)


def test_reward_model_loss_hand_values_mean_over_batch():
    # pair 1: margin 2 -> log(1 + e^-2) = 0.126928; pair 2: margin 0 -> log 2
    loss = reward_model_loss(t(2.0, 0.0), t(0.0, 0.0))
    assert loss.item() == pytest.approx((0.1269280110 + LOG2) / 2, abs=1e-9)


def test_reward_model_loss_punishes_the_wrong_order_more():
    right = reward_model_loss(t(1.0), t(0.0)).item()
    wrong = reward_model_loss(t(0.0), t(1.0)).item()
    assert right == pytest.approx(softplus(-1.0))
    assert wrong == pytest.approx(softplus(1.0))
    assert wrong - right == pytest.approx(1.0)  # softplus(x) - softplus(-x) = x


def test_reward_model_loss_ignores_a_shift_of_both_rewards():
    base = reward_model_loss(t(1.5, -0.5), t(0.2, 0.7))
    shifted = reward_model_loss(t(1.5, -0.5) + 10, t(0.2, 0.7) + 10)
    assert shifted.item() == pytest.approx(base.item())


def test_reward_model_loss_gradient_pushes_chosen_up_and_rejected_down():
    chosen, rejected = t(0.0).requires_grad_(), t(0.0).requires_grad_()
    reward_model_loss(chosen, rejected).backward()
    assert chosen.grad.item() == pytest.approx(-0.5)  # -sigma(-0)
    assert rejected.grad.item() == pytest.approx(0.5)


# --- DPO ---------------------------------------------------------------------------------------


def test_dpo_loss_is_log2_when_policy_equals_reference():
    logps_chosen, logps_rejected = t(-3.0, -10.0), t(-1.0, -7.5)
    for beta in (0.1, 1.0, 5.0):
        losses, chosen_rewards, rejected_rewards = dpo_loss(
            logps_chosen, logps_rejected, logps_chosen, logps_rejected, beta
        )
        assert losses.tolist() == pytest.approx([LOG2, LOG2])
        assert chosen_rewards.tolist() == [0.0, 0.0]
        assert rejected_rewards.tolist() == [0.0, 0.0]


def test_dpo_loss_hand_values():
    # log-ratios: chosen -1 - (-2) = 1, rejected -3 - (-2) = -1; beta (1 - (-1)) = 1
    losses, chosen_rewards, rejected_rewards = dpo_loss(t(-1.0), t(-3.0), t(-2.0), t(-2.0), 0.5)
    assert losses.item() == pytest.approx(softplus(-1.0))  # 0.313262
    assert losses.item() == pytest.approx(0.3132616875, abs=1e-9)
    assert chosen_rewards.item() == pytest.approx(0.5)
    assert rejected_rewards.item() == pytest.approx(-0.5)


def test_dpo_loss_returns_one_loss_per_pair():
    losses, _, _ = dpo_loss(t(-1.0, -3.0), t(-3.0, -1.0), t(-2.0, -2.0), t(-2.0, -2.0), 0.5)
    assert losses.tolist() == pytest.approx([softplus(-1.0), softplus(1.0)])


def test_dpo_loss_depends_on_the_reference():
    # the same policy log-probs, but the reference already preferred Y+ by 2 nats: margin 0
    losses, chosen_rewards, _ = dpo_loss(t(-1.0), t(-3.0), t(-1.0), t(-3.0), 0.5)
    assert losses.item() == pytest.approx(LOG2)
    assert chosen_rewards.item() == 0.0


def test_dpo_implicit_rewards_carry_no_gradient():
    policy_chosen = t(-1.0).requires_grad_()
    losses, chosen_rewards, _ = dpo_loss(policy_chosen, t(-3.0), t(-2.0), t(-2.0), 0.5)
    assert not chosen_rewards.requires_grad
    losses.sum().backward()
    # d/dx -log sigma(beta m) = -beta sigma(-beta m), m = 2, beta = 0.5
    assert policy_chosen.grad.item() == pytest.approx(-0.5 / (1 + math.e))


def test_card_dpo_loss_hand_values_and_matches_a_zero_reference():
    losses = card_dpo_loss(t(-1.0, -2.0), t(-3.0, -2.0), 0.5)
    assert losses.tolist() == pytest.approx([softplus(-1.0), LOG2])
    with_zero_reference, _, _ = dpo_loss(
        t(-1.0, -2.0), t(-3.0, -2.0), t(0.0, 0.0), t(0.0, 0.0), 0.5
    )
    assert losses.tolist() == pytest.approx(with_zero_reference.tolist())


# --- PPO with a KL penalty ---------------------------------------------------------------------


def test_kl_penalized_rewards_hand_values():
    # row 0: Y is tokens 2..4; row 1: Y is tokens 1..2, then padding
    mask = torch.tensor([[0, 0, 1, 1, 1], [0, 1, 1, 0, 0]])
    logprobs = t(0.0, 0.0, -1.0, -2.0, -0.5).repeat(2, 1)
    ref_logprobs = t(0.0, 0.0, -1.5, -1.0, -0.5).repeat(2, 1)
    rewards = kl_penalized_rewards(t(2.0, -1.0), logprobs, ref_logprobs, mask, beta=0.1)
    assert rewards[0].tolist() == pytest.approx([0.0, 0.0, -0.05, 0.1, 2.0])
    assert rewards[1].tolist() == pytest.approx([0.0, 0.0, -1.05, 0.0, 0.0])


def test_kl_penalized_rewards_sum_to_score_minus_beta_log_ratio():
    torch.manual_seed(0)
    mask = torch.tensor([[0, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1]])
    logprobs, ref_logprobs = -torch.rand(2, 6, dtype=torch.float64), -torch.rand(2, 6)
    scores, beta = t(0.7, -0.2), 0.3
    rewards = kl_penalized_rewards(scores, logprobs, ref_logprobs.double(), mask, beta)
    log_ratio = ((logprobs - ref_logprobs) * mask).sum(dim=1)
    assert rewards.sum(dim=1).tolist() == pytest.approx((scores - beta * log_ratio).tolist())


def test_kl_penalized_rewards_beta_zero_is_the_score_alone():
    mask = torch.tensor([[1, 1, 1]])
    rewards = kl_penalized_rewards(
        t(3.0), t(-1.0, -1.0, -1.0)[None], t(-9.0, -9.0, -9.0)[None], mask, 0.0
    )
    assert rewards[0].tolist() == [0.0, 0.0, 3.0]


def test_gae_monte_carlo_when_gamma_and_lambda_are_one():
    # Y is tokens 1..3; token 0 (prompt) and 4 (padding) must not leak into the result
    mask = torch.tensor([[0, 1, 1, 1, 0]])
    rewards = t(9.0, 0.0, 0.0, 1.0, 9.0)[None]
    values = t(5.0, 0.5, 0.2, 0.4, 7.0)[None]
    advantages, returns = gae(rewards, values, mask, gamma=1.0, lam=1.0)
    assert advantages[0].tolist() == pytest.approx([0.0, 0.5, 0.8, 0.6, 0.0])
    assert returns[0].tolist() == pytest.approx([0.0, 1.0, 1.0, 1.0, 0.0])


def test_gae_hand_values_gamma_09_lambda_05():
    mask = torch.tensor([[0, 1, 1, 1, 0]])
    rewards = t(9.0, 0.0, 0.0, 1.0, 9.0)[None]
    values = t(5.0, 0.5, 0.2, 0.4, 7.0)[None]
    advantages, returns = gae(rewards, values, mask, gamma=0.9, lam=0.5)
    # t=3: 1 + 0 - 0.4 = 0.6; t=2: 0.9*0.4 - 0.2 + 0.45*0.6 = 0.43;
    # t=1: 0.9*0.2 - 0.5 + 0.45*0.43 = -0.1265
    assert advantages[0].tolist() == pytest.approx([0.0, -0.1265, 0.43, 0.6, 0.0])
    assert returns[0].tolist() == pytest.approx([0.0, 0.3735, 0.63, 1.0, 0.0])


def test_gae_lambda_zero_is_the_one_step_td_error():
    mask = torch.tensor([[1, 1, 1]])
    rewards, values = t(0.1, 0.2, 0.3)[None], t(1.0, 2.0, 3.0)[None]
    advantages, _ = gae(rewards, values, mask, gamma=0.5, lam=0.0)
    assert advantages[0].tolist() == pytest.approx([0.1 + 1.0 - 1.0, 0.2 + 1.5 - 2.0, 0.3 - 3.0])


def test_gae_rows_are_independent():
    mask = torch.tensor([[1, 1, 0], [0, 1, 1]])
    rewards = t(1.0, 2.0, 0.0, 0.0, 3.0, 4.0).view(2, 3)
    values = torch.zeros(2, 3, dtype=torch.float64)
    advantages, _ = gae(rewards, values, mask, gamma=1.0, lam=1.0)
    assert advantages[0].tolist() == pytest.approx([3.0, 2.0, 0.0])
    assert advantages[1].tolist() == pytest.approx([0.0, 7.0, 4.0])


def test_masked_mean_counts_only_marked_positions():
    assert masked_mean(t(1.0, 2.0, 100.0), torch.tensor([1, 1, 0])).item() == pytest.approx(1.5)


def test_ppo_clip_loss_is_minus_mean_advantage_when_nothing_changed():
    mask = torch.tensor([[1, 1, 0]])
    logprobs = t(-1.0, -2.0, -3.0)[None]
    loss = ppo_clip_loss(logprobs, logprobs, t(1.0, 3.0, 50.0)[None], mask, clip_range=0.2)
    assert loss.item() == pytest.approx(-2.0)


def test_ppo_clip_loss_hand_values():
    # ratios 1.5 and 0.5 against old log-probs 0; clip range 0.2 -> [0.8, 1.2]
    logprobs = torch.log(t(1.5, 0.5))[None]
    old, mask = torch.zeros(1, 2, dtype=torch.float64), torch.ones(1, 2)
    # A = +1: max(-1.5, -1.2) = -1.2 and max(-0.5, -0.8) = -0.5
    gain = ppo_clip_loss(logprobs, old, t(1.0, 1.0)[None], mask, 0.2)
    assert gain.item() == pytest.approx(-0.85)
    # A = -1: max(1.5, 1.2) = 1.5 and max(0.5, 0.8) = 0.8
    loss = ppo_clip_loss(logprobs, old, t(-1.0, -1.0)[None], mask, 0.2)
    assert loss.item() == pytest.approx(1.15)


def test_ppo_clip_loss_has_no_gradient_once_clipped_in_the_advantage_direction():
    logprobs = torch.log(t(1.5, 1.1))[None].requires_grad_()
    old, mask = torch.zeros(1, 2, dtype=torch.float64), torch.ones(1, 2)
    ppo_clip_loss(logprobs, old, t(1.0, 1.0)[None], mask, 0.2).backward()
    # token 0 is past 1 + eps: no push further; token 1 inside: d(-rho A)/d logp / 2 = -1.1 / 2
    assert logprobs.grad[0].tolist() == pytest.approx([0.0, -0.55])


def test_whiten_uses_response_tokens_only_and_zeroes_the_rest():
    mask = torch.tensor([[0, 1, 1, 1]])
    whitened = whiten(t(100.0, 1.0, 2.0, 3.0)[None], mask)
    # mean 2, population std sqrt(2/3) over the three response tokens
    z = 1 / math.sqrt(2 / 3)
    assert whitened[0].tolist() == pytest.approx([0.0, -z, 0.0, z])
