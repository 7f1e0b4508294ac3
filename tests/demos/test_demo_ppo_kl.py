"""The PPO demo: the reward-model score rises, and the KL penalty keeps the policy near pi_SFT."""

import pytest

pytest.importorskip("torch")

from demos import ppo_kl, training  # noqa: E402


@pytest.fixture(scope="module")
def plot_path(tmp_path_factory):
    return tmp_path_factory.mktemp("ppo") / "reward_vs_kl.png"


@pytest.fixture(scope="module")
def result(plot_path):
    return ppo_kl.main(["--quick", "--seed", "0", "--betas", "0,0.5", "--plot", str(plot_path)])


def test_mean_reward_rises_for_every_beta(result):
    for beta, curves in result["curves"].items():
        assert training.smooth(curves["reward"], 5) > curves["reward"][0] + 1.0, beta
    for beta, run in result["runs"].items():
        assert run["reward"] > result["start"]["reward"] + 1.0, beta


def test_kl_at_beta_zero_exceeds_kl_at_positive_beta(result):
    assert result["runs"][0.0]["kl"] > result["runs"][0.5]["kl"]


def test_kl_is_zero_before_training_and_grows(result):
    for curves in result["curves"].values():
        assert curves["kl"][0] == pytest.approx(0.0, abs=1e-4)
        assert training.smooth(curves["kl"], 5) > 0.1


def test_plot_of_reward_against_kl_is_written(result, plot_path):
    pytest.importorskip("matplotlib")
    assert plot_path.read_bytes().startswith(b"\x89PNG")
