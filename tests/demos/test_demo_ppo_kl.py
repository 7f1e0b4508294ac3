"""The PPO demo: the reward-model score rises, the KL penalty keeps the policy near pi_SFT, and
each beta's run does not depend on the others."""

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
    assert result["verdict"].startswith("PASS")


def test_kl_is_zero_before_training_and_grows(result):
    for curves in result["curves"].values():
        assert curves["kl"][0] == pytest.approx(0.0, abs=1e-4)
        assert training.smooth(curves["kl"], 5) > 0.1


def test_what_trl_logs_is_recorded_per_iteration(result):
    for curves in result["curves"].values():
        assert all(0 <= c <= 1 for c in curves["clipfrac"])
        assert all(a >= 0 for a in curves["approxkl"])
        assert all(v >= 0 for v in curves["vf_loss"])


def test_plot_of_reward_against_kl_is_written(result, plot_path):
    pytest.importorskip("matplotlib")
    assert plot_path.read_bytes().startswith(b"\x89PNG")


def test_a_beta_gives_the_same_run_whichever_betas_ran_before():
    """Each beta has its own generator: beta 0.5 alone and after beta 0 are the same run."""
    tiny = ["--pretrain-steps", "3", "--sft-steps", "2", "--rm-steps", "2", "--steps", "2"]
    tiny += ["--samples", "8", "--batch-size", "4"]
    alone = ppo_kl.main([*tiny, "--betas", "0.5"])
    after = ppo_kl.main([*tiny, "--betas", "0,0.5"])
    assert alone["runs"][0.5] == after["runs"][0.5]
