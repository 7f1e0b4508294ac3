"""The shared training plumbing: batch layout, log-prob alignment, sampling, last-token reads."""

import math

import pytest

torch = pytest.importorskip("torch")

from demos import tinylm, toyworld, training  # noqa: E402


def test_pad_batch_marks_the_response_and_eos_only():
    input_ids, response_mask = training.pad_batch(["ab", "abcd"], ["x", "yz"])
    tok = toyworld.TOKENIZER
    assert tok.decode(input_ids[0]) == "abx|___"
    assert tok.decode(input_ids[1]) == "abcdyz|"
    assert response_mask[0].tolist() == [0, 0, 1, 1, 0, 0, 0]
    assert response_mask[1].tolist() == [0, 0, 0, 0, 1, 1, 1]


def test_token_logprobs_line_up_with_the_token_they_score():
    # logits that put all mass on token 5 at every position: log P = 0 where the next token is 5
    logits = torch.full((1, 3, 8), -1e9)
    logits[..., 5] = 0.0
    input_ids = torch.tensor([[1, 5, 2]])
    logps = training.token_logprobs(logits, input_ids)
    assert logps[0, 0] == 0.0  # no prediction for the first token
    assert logps[0, 1] == 0.0  # token 5, predicted by logits[:, 0]
    assert logps[0, 2] < -1e8  # token 2 had no mass


def test_uniform_model_gives_log_vocab_per_token():
    logits = torch.zeros(2, 4, 10)
    logps = training.token_logprobs(logits, torch.randint(10, (2, 4)))
    assert torch.allclose(logps[:, 1:], torch.full((2, 3), -math.log(10)))


def test_sample_runs_without_dropout_and_gives_the_model_back_in_its_mode():
    training.set_seed(0)
    model = tinylm.TinyGPT(toyworld.TOKENIZER.vocab_size, dropout=0.5)
    prompts = [toyworld.TOKENIZER.encode("q: "), toyworld.TOKENIZER.encode("the cat ")]
    input_ids, response_mask, logprobs = training.sample(model.train(), prompts, 6)
    assert model.training
    recomputed = training.token_logprobs(model.eval()(input_ids), input_ids) * response_mask
    assert torch.allclose(recomputed, logprobs, atol=1e-5)  # sampled in eval mode
    training.sample(model, prompts, 2)
    assert not model.training  # a frozen reference stays frozen


def test_sample_returns_logprobs_of_what_it_sampled():
    training.set_seed(0)
    model = tinylm.TinyGPT(toyworld.TOKENIZER.vocab_size).eval()
    prompts = [toyworld.TOKENIZER.encode("q: "), toyworld.TOKENIZER.encode("the cat ")]
    input_ids, response_mask, logprobs = training.sample(model, prompts, 6)
    generated = response_mask.sum(1)
    assert ((generated >= 1) & (generated <= 6)).all()
    recomputed = training.token_logprobs(model(input_ids), input_ids) * response_mask
    assert torch.allclose(recomputed, logprobs, atol=1e-5)
    assert toyworld.TOKENIZER.decode(input_ids[1, :8]) == "the cat "


def test_last_token_values_reads_the_end_of_each_response():
    values = torch.arange(12.0).view(2, 6)
    mask = torch.tensor([[0, 1, 1, 0, 0, 0], [0, 0, 1, 1, 1, 1]], dtype=torch.float)
    assert training.last_token_values(values, mask).tolist() == [2.0, 11.0]


def test_pretrain_seed_fixes_the_initial_weights_whatever_ran_before(monkeypatch):
    """The seed goes in before the model is built: its cache key promises the same weights."""
    monkeypatch.setenv(training.CACHE_ENV, "off")
    runs = []
    for noise in (1, 2):
        torch.manual_seed(noise)  # what an earlier demo might leave in the global generator
        training._TRAINED.pop(("pretrain", 0, 7, "cpu"), None)
        runs.append(training.pretrain(0, seed=7).state_dict())
    assert all(torch.equal(runs[0][k], runs[1][k]) for k in runs[0])


def test_a_later_run_reads_the_trained_weights_and_goes_on_as_a_fresh_one(monkeypatch, tmp_path):
    """The weights come back from the cache folder in a new process (here: an emptied
    in-process store), and the global generator is left as training left it."""
    monkeypatch.setenv(training.CACHE_ENV, str(tmp_path))
    key = ("pretrain", 3, 11, "cpu")
    training._TRAINED.pop(key, None)
    trained = training.pretrain(3, seed=11).state_dict()
    after_training = torch.rand(3)
    assert [p.name for p in tmp_path.iterdir()] == [training.cache_file(key).name]
    training._TRAINED.pop(key)
    cached = training.pretrain(3, seed=11).state_dict()
    assert torch.equal(torch.rand(3), after_training)
    assert all(torch.equal(trained[k], cached[k]) for k in trained)


def test_an_unreadable_cache_file_is_trained_again_and_replaced(monkeypatch, tmp_path):
    monkeypatch.setenv(training.CACHE_ENV, str(tmp_path))
    key = ("pretrain", 2, 12, "cpu")
    training._TRAINED.pop(key, None)
    training.cache_file(key).write_bytes(b"not torch weights")
    model = training.pretrain(2, seed=12)
    training._TRAINED.pop(key)
    assert training.load_trained(key, training.fresh_model(0, "cpu"))
    assert all(torch.equal(v, training._TRAINED[key][k]) for k, v in model.state_dict().items())


def test_a_cache_folder_that_cannot_be_written_is_no_error(monkeypatch, tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder would go")
    monkeypatch.setenv(training.CACHE_ENV, str(blocked / "demos"))
    training._TRAINED.pop(("pretrain", 1, 13, "cpu"), None)
    training.pretrain(1, seed=13)
    assert blocked.read_text() == "a file where the folder would go"


def test_greedy_answers_through_the_kv_cache_are_those_of_a_full_reread():
    """Rows of different prompt lengths, decoded column by column through the cache, give the
    tokens a plain loop gets by re-reading each row whole."""
    training.set_seed(3)
    model = tinylm.TinyGPT(toyworld.TOKENIZER.vocab_size).eval()
    prompts = [toyworld.TOKENIZER.encode(t) for t in ("q: a", "the cat sees the ", "x")]
    ids, mask, _ = training.sample(model, prompts, 7, greedy=True)
    for row, prompt in enumerate(prompts):
        expected = list(prompt)
        for _ in range(7):
            expected.append(int(model(torch.tensor([expected]))[0, -1].argmax()))
            if expected[-1] == toyworld.TOKENIZER.eos_id:
                break
        generated = ids[row][mask[row].bool()].tolist()
        assert generated == expected[len(prompt) :]


def test_sampled_logprobs_through_the_kv_cache_match_a_full_read():
    training.set_seed(0)
    model = tinylm.TinyGPT(toyworld.TOKENIZER.vocab_size).eval()
    prompts = [toyworld.TOKENIZER.encode("q: a"), toyworld.TOKENIZER.encode("the cat sees ")]
    ids, mask, logprobs = training.sample(model, prompts, 5, greedy=True)
    recomputed = training.token_logprobs(model(ids), ids) * mask
    assert torch.allclose(recomputed, logprobs, atol=1e-5)
