"""The toy world the demos' model learns about, as text: a few nouns with three facts each
(German word, plural, category), the sentences that state them, the questions that ask for
them, and the character tokenizer that turns all of it into ids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch

# -------------------------------------------------------------------------------------------------
# tokenizer: one token per character, so every tensor can be read back as text


PAD = "_"  # fills the end of shorter rows in a batch; never predicted
EOS = "|"  # ends a response: the model learns to stop by predicting it
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 .,:;?!'->\n" + PAD + EOS


class CharTokenizer:
    """Maps each character of `alphabet` to one id; PAD and EOS must be in it."""

    def __init__(self, alphabet: str):
        self.alphabet = alphabet
        self.stoi = {ch: i for i, ch in enumerate(alphabet)}
        self.pad_id = self.stoi[PAD]
        self.eos_id = self.stoi[EOS]
        self.vocab_size = len(alphabet)

    def encode(self, text: str) -> list[int]:
        try:
            return [self.stoi[ch] for ch in text]
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is not in the demo alphabet") from None

    def decode(self, ids: list[int] | torch.Tensor) -> str:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return "".join(self.alphabet[i] for i in ids)


TOKENIZER = CharTokenizer(ALPHABET)


# -------------------------------------------------------------------------------------------------
# the facts


@dataclass(frozen=True)
class Word:
    english: str
    german: str
    plural: str
    category: str


WORDS: list[Word] = [
    Word("cat", "katze", "cats", "animal"),
    Word("dog", "hund", "dogs", "animal"),
    Word("mouse", "maus", "mice", "animal"),
    Word("bird", "vogel", "birds", "animal"),
    Word("cow", "kuh", "cows", "animal"),
    Word("apple", "apfel", "apples", "food"),
    Word("egg", "ei", "eggs", "food"),
    Word("cake", "kuchen", "cakes", "food"),
    Word("tree", "baum", "trees", "plant"),
    Word("flower", "blume", "flowers", "plant"),
    Word("book", "buch", "books", "thing"),
    Word("chair", "stuhl", "chairs", "thing"),
    Word("car", "auto", "cars", "thing"),
    Word("key", "schluessel", "keys", "thing"),
    Word("child", "kind", "children", "person"),
    Word("man", "mann", "men", "person"),
]

# words that appear in no text any model here trains on: asking about them can only be answered
# by making something up (the SFT demo's test of "hallucinations are not prevented")
NEVER_SEEN: list[Word] = [
    Word("horse", "pferd", "horses", "animal"),
    Word("bread", "brot", "breads", "food"),
    Word("house", "haus", "houses", "thing"),
    Word("girl", "maedchen", "girls", "person"),
    Word("rose", "rose", "roses", "plant"),
    Word("milk", "milch", "milks", "food"),
]

RELATIONS = ("german", "plural", "category")
FAQ_SHARE = 0.5  # share of facts the pretraining text states as "question? answer." lines


def answer(word: Word, relation: str) -> str:
    """The fact `relation` of `word`: the German word, the plural, or the category."""
    return getattr(word, relation)


def ask(word: Word, relation: str) -> str:
    """The question whose answer is the fact `relation` of `word`."""
    return {
        "german": f"what is the german word for {word.english}?",
        "plural": f"what is the plural of {word.english}?",
        "category": f"what kind of thing is a {word.english}?",
    }[relation]


# -------------------------------------------------------------------------------------------------
# the text: raw sentences to pretrain on, q/a instructions to fine-tune on


def fact_sentence(word: Word, relation: str, faq: bool = False) -> str:
    """How the pretraining text states a fact: as a statement, or as a line of an FAQ page."""
    if faq:
        return f"{ask(word, relation)} {answer(word, relation)}."
    if relation == "german":
        return f"the german word for {word.english} is {word.german}."
    if relation == "plural":
        return f"one {word.english}, two {word.plural}."
    article = "an" if word.category[0] in "aeiou" else "a"
    return f"a {word.english} is {article} {word.category}."


def story_sentence(rng: random.Random) -> str:
    """Filler text without facts: the base model should mostly continue text like this."""
    a, b = rng.sample(WORDS, 2)
    verb = rng.choice(["sees", "likes", "finds", "has", "wants"])
    return f"the {a.english} {verb} the {b.english}."


def pretraining_text(rng: random.Random, n_lines: int) -> str:
    """A corpus of facts and filler, one sentence a line; every fact appears many times."""
    lines = []
    for _ in range(n_lines):
        if rng.random() < 0.1:
            lines.append(story_sentence(rng))
        else:
            faq = rng.random() < FAQ_SHARE
            lines.append(fact_sentence(rng.choice(WORDS), rng.choice(RELATIONS), faq))
    return "\n".join(lines) + "\n"


def question(word: Word, relation: str) -> str:
    """An instruction in the q/a format that SFT teaches; the base model never saw this format."""
    return f"q: {ask(word, relation)}\na: "


def instruction_pairs() -> list[tuple[Word, str]]:
    """Every (word, relation) the world knows, in a fixed order (demos shuffle and split it)."""
    return [(w, r) for w in WORDS for r in RELATIONS]
