"""The DPO demo: the loss starts at log 2, and sampled answers move toward Y+."""

import math

import pytest

pytest.importorskip("torch")

from demos import dpo  # noqa: E402


@pytest.fixture(scope="module")
def result():
    return dpo.main(["--seed", "0"])  # --quick leaves out the frontier's beta 10


def test_dpo_loss_starts_at_log2(result):
    # policy == reference at step 1, so every log-ratio margin is 0
    assert result["first_loss"] == pytest.approx(math.log(2), abs=1e-4)


def test_card_form_does_not_start_at_log2(result):
    # without a reference the first margin is pi_SFT's own log pi(Y+) - log pi(Y-)
    assert abs(result["first_card_loss"] - math.log(2)) > 1e-3


def test_dpo_loss_falls(result):
    assert result["final_loss"] < result["first_loss"] - 0.05


def test_sampled_answers_move_toward_y_plus_and_the_score_holds(result):
    sft, runs = result["sft"], result["results"]
    assert sft["kl"] == pytest.approx(0.0, abs=1e-5)
    for (variant, beta), run in runs.items():
        assert run["kl"] > 0.05, (variant, beta)
    betas = sorted({beta for _, beta in runs})
    judged = runs["paper", dpo.DEFAULTS["beta"]]
    margin = dpo.noise(dpo.DEFAULTS["verdict_samples"])
    assert judged["friendly"] > sft["friendly"] + margin
    assert judged["human_score"] >= sft["human_score"] - dpo.preferences.score_noise(
        judged, sft, dpo.DEFAULTS["verdict_samples"]
    )
    # a large beta holds the policy closer to pi_SFT, and more so with the reference
    assert runs["paper", betas[-1]]["kl"] < runs["paper", betas[0]]["kl"]
    assert runs["paper", betas[-1]]["kl"] < runs["card", betas[-1]]["kl"]
    assert result["verdict"].startswith("PASS")


def test_the_pairs_include_pi_sft_answers_the_labellers_told_apart(result):
    """Besides the closing contrasts (always a right answer), DPO trains on pairs of pi_SFT's
    own sampled answers: the garbled closings it writes are shown to the labellers, as Y-."""
    pairs = result["pairs"]
    assert any(dpo.preferences.is_garbled(p.rejected) for p in pairs)
    assert any(
        dpo.preferences.closing_of(p.chosen) in dpo.preferences.TRAIN_FRIENDLY for p in pairs
    )


def test_the_curves_follow_y_plus_y_minus_and_the_share_that_stops(result):
    for curves in result["curves"].values():
        assert len(curves["loss"]) == len(curves["chosen_logp"]) == len(curves["rejected_logp"])
        assert curves["stop_step"][0] == 1 and all(0 <= s <= 1 for s in curves["stops"])
        # log pi(Y-) falls more than log pi(Y+) rises, with or without pi_ref
        assert curves["rejected_logp"][-1] < curves["rejected_logp"][0]


def test_noise_is_two_standard_errors_of_a_share():
    assert dpo.noise(100) == pytest.approx(0.1)
