"""ICL: an induction head copies pairs it never saw; examples in the prompt pick the task."""

import random

import pytest

torch = pytest.importorskip("torch")

from demos import icl, tinylm, toyworld  # noqa: E402


def test_training_strings_never_contain_a_held_out_pair():
    rng = random.Random(0)
    allowed, held_out = icl.split_pairs(rng)
    assert allowed.isdisjoint(held_out)
    ids, _ = icl.repeat_batch(rng, 200, allowed)
    for row in ids.tolist():
        tokens = [t for t in row if t != icl.PAD]
        pairs = set(zip(tokens, tokens[1:], strict=False))
        assert pairs <= allowed


def test_test_strings_repeat_a_segment_of_held_out_pairs_and_mark_the_repeat():
    rng = random.Random(1)
    _, held_out = icl.split_pairs(rng)
    ids, repeat_mask = icl.repeat_batch(rng, 50, held_out)
    for row, mask in zip(ids.tolist(), repeat_mask.tolist(), strict=True):
        tokens = [t for t in row if t != icl.PAD]
        L = len(tokens) // 2
        assert icl.SEGMENT_LENGTHS[0] <= L <= icl.SEGMENT_LENGTHS[1]
        assert tokens[:L] == tokens[L:] and len(set(tokens[:L])) == L
        assert set(zip(tokens, tokens[1:], strict=False)) <= held_out
        # scored: the second copy from its second token on, each predictable by looking back
        assert [t for t, m in enumerate(mask) if m] == list(range(L + 1, 2 * L))


def test_attention_maps_are_the_weights_the_model_attends_with():
    torch.manual_seed(0)
    model = tinylm.TinyGPT(20, d_model=16, n_layers=2, n_heads=2, max_len=8).eval()
    ids = torch.randint(20, (3, 8))
    maps = tinylm.attention_maps(model, ids)
    assert [m.shape for m in maps] == [(3, 2, 8, 8)] * 2
    assert torch.allclose(maps[1].sum(-1), torch.ones(3, 2, 8))
    assert (maps[0].triu(1) == 0).all()  # causal: no position reads a later one
    # weighting the values with the maps gives what the model's attention kernel computes
    block = model.blocks[0]
    x = model.tok_emb(ids) + model.pos_emb(torch.arange(8))
    q, k, v = (t.view(3, 8, 2, 8).transpose(1, 2) for t in block.qkv(block.ln1(x)).split(16, -1))
    kernel = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert torch.allclose(maps[0] @ v, kernel, atol=1e-5)


def test_pretraining_lists_keep_to_one_relation():
    ids = icl.fact_list_batch(random.Random(2), 100)
    english = {w.english: w for w in toyworld.WORDS}
    for row in ids.tolist():
        tokens = [icl.VOCAB[t] for t in row if t != icl.TOKEN_ID["<pad>"]]
        assert tokens[0] == icl.START
        facts = " ".join(tokens[1:]).split(" , ")
        pairs = [fact.split(" -> ") for fact in facts]
        relations = [
            {r for r in toyworld.RELATIONS if toyworld.answer(english[x], r) == y} for x, y in pairs
        ]
        assert set.intersection(*relations)


def test_few_shot_prompt_has_k_examples_of_one_relation_and_a_new_query():
    prompt, target = icl.few_shot_prompt(random.Random(3), "plural", 2)
    assert prompt[0] == icl.START and prompt[-1] == icl.ARROW
    *examples, query = " ".join(prompt[1:-1]).split(" , ")
    assert len(examples) == 2
    words = {w.english: w for w in toyworld.WORDS}
    assert target == words[query].plural
    for example in examples:
        x, y = example.split(" -> ")
        assert x != query and y == words[x].plural


@pytest.fixture(scope="module")
def quick_run():
    return icl.main(["--quick", "--seed", "0"])


def test_induction_completes_repeats_of_pairs_it_never_saw(quick_run):
    assert quick_run["repeat_accuracy"] >= 0.9
    assert quick_run["untrained_repeat_accuracy"] < 0.2
    # in the first copy there is nothing to look back at: it is not memorizing pairs
    assert quick_run["first_copy_accuracy"] < 0.1
    # one head reads the token after the earlier occurrence of the current one
    assert quick_run["induction_head_score"] > 0.5


def test_blocking_the_induction_read_takes_repeat_accuracy_to_chance(quick_run):
    assert quick_run["blocked_repeat_accuracy"] <= 1 / len(icl.SYLLABLES) + 0.1
    # zeroing the heads that read it most takes away most of the copying, not always all
    assert quick_run["induction_head"] in quick_run["ablated_heads"]
    assert quick_run["ablated_repeat_accuracy"] < quick_run["repeat_accuracy"] - 0.5
    # the named head reads the token after the match far more than even attention would
    assert quick_run["induction_head_score"] > 5 * quick_run["even_attention"]


def test_the_blocked_read_is_the_one_after_the_earlier_occurrence():
    ids = torch.tensor([[3, 4, 5, 3, 4, 5]])  # segment "3 4 5" twice, no padding
    repeat_mask = torch.tensor([[False, False, False, False, True, True]])
    reads = icl.without_match_reads(ids, repeat_mask)[0]  # for model(ids[:, :-1]): 5 x 5
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    # query 3 (the second '3') predicts ids[4] = 4: it may not read position 1 (the '4'
    # after the first '3'); query 4 (the second '4') may not read position 2
    assert (causal & ~reads).nonzero().tolist() == [[3, 1], [4, 2]]


def test_the_icl_score_shows_a_phase_change(quick_run):
    scores = quick_run["curves"]["icl_score"]
    assert abs(scores[0]) < 0.5  # before: the context does not help
    assert scores[-1] < -2.0  # after: the second copy costs far less than the first
    assert quick_run["phase_change_step"] is not None


def test_icl_score_is_negative_when_the_model_copies():
    """A model that predicts the second copy perfectly has an ICL score of minus the first
    copy's loss; hand-built logits stand in for such a model."""

    ids, _ = icl.repeat_batch(random.Random(0), 8, icl.split_pairs(random.Random(0))[0])
    lengths = ((ids != icl.PAD).sum(1) // 2).tolist()

    class Copier(torch.nn.Module):
        def forward(self, read):  # read = ids[:, :-1]; logits[:, t] predict ids[:, t + 1]
            logits = torch.zeros(*read.shape, icl.PAD + 1)
            for b, L in enumerate(lengths):
                for t in range(L, 2 * L - 1):  # second copy: predict the next token surely
                    logits[b, t, ids[b, t - L + 1]] = 50.0
            return logits

    score, accuracy = icl.icl_score(Copier(), ids)
    assert accuracy == 1.0
    assert score == pytest.approx(-torch.log(torch.tensor(icl.PAD + 1.0)).item(), abs=1e-3)


def test_ablating_a_head_changes_the_output_and_is_undone_after():
    torch.manual_seed(0)
    model = tinylm.TinyGPT(20, d_model=16, n_layers=2, n_heads=2, max_len=8).eval()
    ids = torch.randint(20, (2, 8))
    before = model(ids)
    with icl.ablated(model, [(1, 0)]):
        assert not torch.allclose(model(ids), before)
    assert torch.equal(model(ids), before)


def test_examples_in_the_prompt_make_semantic_icl_more_accurate(quick_run):
    shots = quick_run["shot_accuracy"]
    assert shots[0] < 0.6  # without examples the relation is a guess (chance 1/3)
    assert shots[4] > shots[0]
    assert shots[4] >= 0.8
    assert quick_run["verdict"].startswith("PASS")
