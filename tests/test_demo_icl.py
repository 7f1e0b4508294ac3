"""ICL: an induction head copies unseen letter pairs; examples in the prompt pick the task."""

import random

import pytest

torch = pytest.importorskip("torch")

from demos import icl  # noqa: E402


def test_held_out_letter_pairs_never_occur_in_training_strings():
    rng = random.Random(0)
    seen, held = icl.letter_pairs(rng)
    assert seen.isdisjoint(held)
    for text in icl.repeat_batch(rng, 50, seen):
        half = len(text) // 2
        assert text[:half] == text[half:]
        assert all(text[i : i + 2] not in held for i in range(half - 1))


def test_few_shot_prompt_uses_one_relation_and_a_new_query():
    prompt, target = icl.few_shot_prompt(random.Random(3), "plural", 2)
    *examples, query = prompt.strip().split(", ")
    assert len(examples) == 2
    assert query.endswith(" ->")
    word = query.removesuffix(" ->")
    assert target == next(w.plural for w in icl.tinylm.WORDS if w.english == word)
    assert all(x.split(" -> ")[0] != word for x in examples)


@pytest.fixture(scope="module")
def quick_run():
    return icl.main(["--quick", "--seed", "0"])


def test_induction_completes_repeats_of_unseen_letter_pairs(quick_run):
    assert quick_run["repeat_accuracy"] >= 0.9
    assert quick_run["first_copy_accuracy"] < 0.3  # nothing to copy there: it is not memorizing


def test_more_examples_in_the_prompt_make_semantic_icl_more_accurate(quick_run):
    shots = quick_run["shot_accuracy"]
    assert shots[4] > shots[0]
    assert shots[4] >= 0.8
