"""SFT: the formula functions against hand-computed values, and the demo's outcome."""

import math
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from demos import sft, toyworld  # noqa: E402
from tests.helpers.paths import REPO  # noqa: E402


def two_token_logits():
    """Vocab of 2; every position predicts token 0 with probability 3/4."""
    return torch.log(torch.tensor([0.75, 0.25])).expand(1, 4, 2).clone()


def test_sequence_logprob_sums_response_tokens_only():
    input_ids = torch.tensor([[1, 1, 0, 1]])  # prompt = first two tokens, response = 0, 1
    mask = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
    expected = math.log(0.75) + math.log(0.25)  # P(0) * P(1)
    assert sft.sequence_logprob(two_token_logits(), input_ids, mask).item() == pytest.approx(
        expected
    )


def test_sft_loss_is_the_mean_over_response_tokens_of_the_batch():
    logits = two_token_logits().expand(2, 4, 2)
    input_ids = torch.tensor([[1, 1, 0, 1], [1, 0, 0, 0]])
    mask = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 1.0]])
    # 5 response tokens: targets 0, 1 | 0, 0, 0
    expected = -(4 * math.log(0.75) + math.log(0.25)) / 5
    assert sft.sft_loss(logits, input_ids, mask).item() == pytest.approx(expected)


def test_sft_loss_matches_cross_entropy_with_ignored_prompt_labels():
    torch.manual_seed(0)
    logits = torch.randn(3, 7, 11)
    input_ids = torch.randint(11, (3, 7))
    mask = torch.zeros(3, 7)
    mask[0, 3:] = 1
    mask[1, 5:] = 1
    mask[2, 1:4] = 1
    labels = input_ids.masked_fill(mask == 0, -100)  # the Hugging Face way
    expected = F.cross_entropy(logits[:, :-1].reshape(-1, 11), labels[:, 1:].reshape(-1))
    assert sft.sft_loss(logits, input_ids, mask).item() == pytest.approx(expected.item(), rel=1e-5)


def test_sft_loss_unchanged_when_a_prompt_token_changes():
    torch.manual_seed(1)
    logits = torch.randn(1, 6, 9)
    input_ids = torch.tensor([[1, 2, 3, 4, 5, 6]])
    mask = torch.tensor([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]])
    edited = input_ids.clone()
    edited[0, 1] = 8  # a prompt token
    assert sft.sft_loss(logits, edited, mask) == sft.sft_loss(logits, input_ids, mask)
    edited[0, 4] = 8  # a response token: now it must change
    assert sft.sft_loss(logits, edited, mask) != sft.sft_loss(logits, input_ids, mask)


@pytest.fixture(scope="module")
def quick_run():
    return sft.main(["--quick", "--seed", "0"])


def test_sft_answers_in_the_trained_format_after_and_not_before(quick_run):
    assert quick_run["format_before"] <= 0.1
    assert quick_run["format_after"] >= 0.9
    assert quick_run["verdict"].startswith("PASS")


def test_sft_learns_the_questions_it_was_trained_on(quick_run):
    assert quick_run["accuracy_seen"] >= 0.9
    assert quick_run["logprob_after"] > quick_run["logprob_before"]
    assert quick_run["losses"][-1] < quick_run["losses"][0] / 5
    # held out of SFT: their loss stays well above the training loss
    assert quick_run["held_out_losses"][-1] > 5 * quick_run["losses"][-1]


def test_sft_keeps_format_knowledge_and_hallucination_apart(quick_run):
    # the base model knows some held-out facts in its own phrasing...
    assert quick_run["known_before"] > quick_run["accuracy_before"] + 0.1
    # ...and about words no text had, SFT still answers confidently
    assert quick_run["hallucinated"] >= 0.5


def test_never_seen_words_are_in_no_training_text():
    import random

    text = toyworld.pretraining_text(random.Random(0), 4000)
    for word in toyworld.NEVER_SEEN:
        assert word.english not in text and word not in toyworld.WORDS


def test_sft_runs_as_a_script():
    """`python demos/sft.py` has no package around it: its sibling imports take the script path,
    and `--help` goes through cli's argument parser. The run itself is test_demo_command's."""
    result = subprocess.run(
        [sys.executable, "demos/sft.py", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Supervised fine-tuning turns a text continuer into an answerer." in result.stdout
    assert "--pretrain-steps" in result.stdout
