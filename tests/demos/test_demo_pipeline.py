"""The two-stage paradigm: each stage answers the same held-out questions better."""

import pytest

torch = pytest.importorskip("torch")

from demos import cli, pipeline  # noqa: E402


@pytest.mark.parametrize("argv", [["--quick", "--samples", "7"], ["--quick", "--samples=7"]])
def test_quick_keeps_an_explicit_samples(argv):
    args = cli.demo_args("pipeline", "", pipeline.DEFAULTS, argv)
    assert (args.steps, args.samples) == (pipeline.DEFAULTS["steps"], 7)


@pytest.fixture(scope="module")
def quick_run():
    return pipeline.main(["--quick", "--seed", "0"])


def test_sft_makes_the_base_model_answer_and_stop(quick_run):
    stages = quick_run["stages"]
    assert stages["pretrained"]["finished"] <= 0.1
    assert stages["sft"]["finished"] >= 0.9


def test_dpo_moves_answers_toward_what_labellers_prefer(quick_run):
    stages = quick_run["stages"]
    assert stages["dpo"]["friendly"] > stages["sft"]["friendly"]
    assert stages["dpo"]["human_score"] > stages["sft"]["human_score"]
    assert quick_run["losses"][0] == pytest.approx(0.6931, abs=1e-3)  # log 2: pi == pi_ref


def test_pipeline_answers_the_same_questions_at_every_stage(quick_run):
    answers = quick_run["answers"]
    assert set(answers) == {"pretrained", "sft", "dpo"}
    assert len({len(a) for a in answers.values()}) == 1


def test_sampled_pairs_are_pi_sft_answers_the_labellers_told_apart(quick_run):
    from demos import preferences, toyworld

    model = preferences.sft_policy(pipeline.DEFAULTS["sft_steps"], 0)
    questions, _ = preferences.split_questions(0)
    pairs = preferences.sampled_pairs(model, questions, 8, torch.Generator().manual_seed(2))
    asked = {toyworld.question(*q): q for q in questions}
    assert len(pairs) > len(questions)
    for pair in pairs:
        question = asked[pair.prompt]
        chosen, rejected = (r + toyworld.EOS for r in (pair.chosen, pair.rejected))
        assert preferences.human_score(question, chosen) > preferences.human_score(
            question, rejected
        )
    # unlike the closing contrasts of style_pairs, what pi_SFT garbles gets labelled too
    assert any(preferences.is_garbled(p.rejected) for p in pairs)


def test_no_pair_to_learn_from_stops_with_a_line_not_a_traceback(capsys):
    """An untrained pi_SFT's answers never end, so its samples give DPO no pair: the run stops
    (exit 1) saying so and what to change, before DPO or any verdict."""
    argv = ["--pretrain-steps", "0", "--sft-steps", "0", "--per-question", "2", "--samples", "4"]
    with pytest.raises(SystemExit) as stopped:
        pipeline.main(argv)
    assert "DPO has no pair to learn from" in str(stopped.value.code)
    assert "--sft-steps" in str(stopped.value.code)
    assert "stage 2, step 2" not in capsys.readouterr().out
