"""The toy world's text and its tokenizer: round trip, unknown characters, the alphabet."""

import pytest

pytest.importorskip("torch")

from demos import toyworld  # noqa: E402


def test_tokenizer_round_trips_the_alphabet():
    text = "q: what is the plural of cat?\na: cats|"
    ids = toyworld.TOKENIZER.encode(text)
    assert len(ids) == len(text)
    assert toyworld.TOKENIZER.decode(ids) == text


def test_tokenizer_names_an_unknown_character():
    with pytest.raises(ValueError, match="'Z'"):
        toyworld.TOKENIZER.encode("Zebra")


def test_every_pretraining_fact_is_in_the_alphabet():
    import random

    text = toyworld.pretraining_text(random.Random(0), 200)
    assert toyworld.TOKENIZER.decode(toyworld.TOKENIZER.encode(text)) == text
    assert toyworld.EOS not in text and toyworld.PAD not in text
