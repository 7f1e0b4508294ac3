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
