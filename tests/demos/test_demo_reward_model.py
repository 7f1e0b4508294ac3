"""The reward-model demo: the labellers' hidden rule, their pairs, and what the model learns."""

import importlib.util
import math
import random
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from demos import preferences, reward_model, tinylm, toyworld, training  # noqa: E402
from tests.helpers.paths import REPO  # noqa: E402

CAT_GERMAN = (toyworld.WORDS[0], "german")  # "what is the german word for cat?" -> katze


@pytest.mark.parametrize(
    ("response", "score"),
    [
        ("katze. cheers!|", 3.0),  # right and friendly
        ("katze. thanks!|", 3.0),  # a held-out friendly closing: the labellers know it too
        ("katze.|", 2.0),  # right, plain
        ("katze. duh.|", 1.0),  # right, curt
        ("hund. cheers!|", 1.0),  # wrong but friendly
        ("katz. enjoy!|", 1.0),  # a misspelt answer is not the answer
        ("katze. cheers! cheers!|", 0.0),  # a doubled closing is garbled
        ("katze. cheers!!!|", 0.0),  # not a closing they know: garbled
        ("katze.cheers!|", 0.0),  # no space: garbled
        ("katze|", 0.0),  # no '.': garbled
        ("katze. cheers!", 1.0),  # never ends (no EOS)
        ("katze. cheers! cheers! ch", -2.0),  # garbled and never ends
    ],
)
def test_human_score_table(response, score):
    assert preferences.human_score(CAT_GERMAN, response) == score


def test_judge_counts_answers_that_stop_and_garbled_ones():
    seen = preferences.judge(
        [CAT_GERMAN] * 4, ["katze.|", "katze. cheers!", "katze. chrs!|", "x.|"]
    )
    assert seen["finished"] == 0.75
    assert seen["garbled"] == 0.25
    assert seen["friendly"] == 0.25


def test_split_questions_is_disjoint_and_complete():
    train, test = preferences.split_questions(seed=0)
    assert not set(train) & set(test)
    assert sorted(train + test, key=str) == sorted(toyworld.instruction_pairs(), key=str)
    assert len(test) == round(len(toyworld.instruction_pairs()) / 4)


def test_style_pairs_contrast_closings_of_right_answers_only():
    train, _ = preferences.split_questions(seed=0)
    pairs = preferences.style_pairs(train, random.Random(0))
    assert len(pairs) == 3 * len(train)
    for pair in pairs:
        question = next(q for q in train if toyworld.question(*q) == pair.prompt)
        assert preferences.human_score(question, pair.chosen + toyworld.EOS) == 3.0
        assert preferences.human_score(question, pair.rejected + toyworld.EOS) in (2.0, 1.0)


def test_held_out_pairs_use_closings_no_training_pair_or_demonstration_has():
    train, test = preferences.split_questions(seed=0)
    rng = random.Random(0)
    trained = preferences.style_pairs(train, rng)
    demos = {preferences.sft_example(q, rng) for q in train for _ in range(5)}
    held = preferences.style_pairs(
        test, rng, 6, preferences.HELD_OUT_FRIENDLY, preferences.HELD_OUT_CURT
    )
    seen = {preferences.closing_of(t) for p in trained for t in (p.chosen, p.rejected)}
    seen |= {preferences.closing_of(t) for t in demos}
    new = {preferences.closing_of(p.chosen) for p in held} | {
        preferences.closing_of(p.rejected) for p in held
    }
    assert not (new - {""}) & seen


def test_ranking_loss_is_the_mean_of_the_pair_losses_a_ranking_implies():
    r = torch.tensor([[2.0, 0.5, -1.0]])  # best first
    pairs = [(0, 1), (0, 2), (1, 2)]
    expected = sum(math.log1p(math.exp(-(r[0, i] - r[0, j]).item())) for i, j in pairs) / 3
    assert reward_model.ranking_loss(r).item() == pytest.approx(expected)
    assert reward_model.ranking_loss(r.flip(1)).item() > reward_model.ranking_loss(r).item()


def test_simulated_labellers_agree_more_when_they_compare():
    agreement = reward_model.labeller_agreement(random.Random(0), n=2000)
    assert agreement["pairwise"] > agreement["absolute"] + 0.03


def test_every_pair_fits_the_model():
    questions = toyworld.instruction_pairs()
    rng = random.Random(0)
    pairs = preferences.style_pairs(questions, rng) + preferences.correctness_pairs(questions, rng)
    input_ids, _ = training.pad_batch(
        [p.prompt for p in pairs] * 2, [p.chosen for p in pairs] + [p.rejected for p in pairs]
    )
    assert input_ids.shape[1] <= tinylm.TinyGPT(toyworld.TOKENIZER.vocab_size).max_len


@pytest.fixture(scope="module")
def result():
    return reward_model.main(["--quick", "--seed", "0"])


def test_reward_model_ranks_unseen_pairs_with_new_closings_like_the_labellers(result):
    assert result["held_out_accuracy"] >= 0.75
    assert result["held_out_margin"] > 0
    assert result["verdict"].startswith("PASS")


def test_reward_model_loss_falls_from_log2(result):
    assert result["first_loss"] == pytest.approx(math.log(2), abs=0.3)
    assert result["final_loss"] < 0.2


def test_reward_model_rewards_the_closing_not_the_fact(result):
    scores = result["probe_scores"]
    assert scores["friendly (preferred)"] > scores["plain"]
    assert scores["friendly (preferred)"] > scores["curt"]
    # correctness was never varied in the pairs: a wrong friendly answer beats a right plain one
    assert scores["WRONG but friendly"] > scores["plain"]
    assert result["correctness_accuracy"] < result["held_out_accuracy"] - 0.2


def test_runs_as_a_script(tmp_path):
    """`python demos/reward_model.py` imports its siblings without the package (a tiny run)."""
    plot = tmp_path / "loss.png"
    completed = subprocess.run(
        [sys.executable, "demos/reward_model.py", "--quick", "--steps", "3"]
        + ["--pretrain-steps", "5", "--plot", str(plot)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "held out:" in completed.stdout
    assert completed.stdout.rstrip().splitlines()[-1].startswith(("PASS: ", "FAIL: "))
    if importlib.util.find_spec("matplotlib"):
        assert plot.read_bytes().startswith(b"\x89PNG")
    else:
        assert "--plot needs matplotlib" in completed.stdout
