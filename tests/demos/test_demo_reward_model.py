"""The reward-model demo: the labellers' hidden rule, their pairs, and what the model learns."""

import importlib.util
import math
import random
import subprocess
import sys

import pytest

pytest.importorskip("torch")

from demos import preferences, reward_model, tinylm, toyworld, training  # noqa: E402
from tests.helpers.paths import REPO

CAT_GERMAN = (toyworld.WORDS[0], "german")  # "what is the german word for cat?" -> katze


@pytest.mark.parametrize(
    ("response", "score"),
    [
        ("katze. cheers!|", 3.0),  # right and friendly
        ("katze.|", 2.0),  # right, plain
        ("katze. duh.", 2.0),  # right, curt
        ("hund. cheers!|", 1.0),  # wrong but friendly
        ("katz. enjoy!", 1.0),  # a misspelt answer is not the answer
        ("katze. cheers! cheers!", 1.0),  # rambling costs 2
        ("katze. cheers!!!", 0.0),  # not a closing they know, and rambling
    ],
)
def test_human_score_table(response, score):
    assert preferences.human_score(CAT_GERMAN, response) == score


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
        assert preferences.human_score(question, pair.chosen) == 3.0
        assert preferences.human_score(question, pair.rejected) == 2.0


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


def test_reward_model_ranks_unseen_pairs_like_the_labellers(result):
    assert result["held_out_accuracy"] >= 0.9
    assert result["held_out_margin"] > 0


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
