"""The DPO demo: the loss starts at log 2 and the trained policy prefers Y+ on unseen pairs."""

import math

import pytest

pytest.importorskip("torch")

from demos import dpo  # noqa: E402


@pytest.fixture(scope="module")
def result():
    return dpo.main(["--quick", "--seed", "0"])


def test_dpo_loss_starts_at_log2(result):
    # policy == reference at step 1, so every log-ratio margin is 0
    assert result["first_loss"] == pytest.approx(math.log(2), abs=1e-4)


def test_card_form_does_not_start_at_log2(result):
    # without a reference the first margin is pi_SFT's own log pi(Y+) - log pi(Y-)
    assert abs(result["first_card_loss"] - math.log(2)) > 1e-3


def test_dpo_prefers_chosen_on_held_out_pairs(result):
    assert result["held_out_accuracy"] >= 0.9
    paper = result["results"]["paper"]
    assert paper["chosen_reward"] > paper["rejected_reward"]


def test_dpo_loss_falls(result):
    assert result["final_loss"] < 0.5 * result["first_loss"]


def test_dpo_moves_the_policy_away_from_the_reference_and_towards_y_plus(result):
    sft, paper = result["results"]["pi_SFT"], result["results"]["paper"]
    assert sft["kl"] == pytest.approx(0.0, abs=1e-5)
    assert paper["kl"] > 0.1
    assert paper["friendly"] > sft["friendly"]
