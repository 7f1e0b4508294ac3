"""An edit made in Anki placed on the vault's markdown, which says the same as the converter's
text in the author's own spelling: only what the edit changed changes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notecards.pull.patch import place_edit

FILLER = "Some words that only fill the middle of this field so the two rows sit apart."
# (what it shows, converted before, converted after, the vault's markdown, expected)
PLACED = [
    (
        "a typo fixed in a list item written with `*` markers and wrapped lines",
        "- the first item has a tpyo in it\n- the second item",
        "- the first item has a typo in it\n- the second item",
        "* the first item has\n  a tpyo in it\n* the second item",
        "* the first item has\n  a typo in it\n* the second item",
    ),
    (
        "a word added inside math, emphasis spelled otherwise around it",
        "Energy is $E = mc^2$ and *more* than that.",
        "Energy is $E = mc^2 + k$ and *more* than that.",
        "Energy  is $E = mc^2$ and _more_ than that.",
        "Energy  is $E = mc^2 + k$ and _more_ than that.",
    ),
    (
        "a sentence appended to a wrapped paragraph",
        "The loss is the same next-token loss. It trains on pairs.",
        "The loss is the same next-token loss. It trains on pairs. Only Y is scored.",
        "The loss is the same\nnext-token loss. It trains\non pairs.",
        "The loss is the same\nnext-token loss. It trains\non pairs. Only Y is scored.",
    ),
    (
        "a line removed from a list with other markers",
        "- one apple\n- two pears\n- three plums",
        "- one apple\n- three plums",
        "+ one apple\n+ two pears\n+ three plums",
        "+ one apple\n+ three plums",
    ),
    (
        "an edit next to a wikilink with an alias and a sized embed",
        "See [[Direct Preference Optimization|DPO]] for the detials. ![[plot.png|200]]",
        "See [[Direct Preference Optimization|DPO]] for the details. ![[plot.png|200]]",
        "See  [[Direct Preference Optimization|DPO]] for the detials.\n![[plot.png|200]]",
        "See  [[Direct Preference Optimization|DPO]] for the details.\n![[plot.png|200]]",
    ),
    (
        "CRLF text: the edit lands and a line it adds gets CRLF too",
        "- one\n- two",
        "- one\n- one and a half\n- two",
        "* one\r\n* two",
        "* one\r\n- one and a half\r\n* two",
    ),
    (
        "the same line many times: the edit lands on its own one",
        "\n".join(["- value 10"] * 40),
        "\n".join(["- value 10"] * 30 + ["- value 12"] + ["- value 10"] * 9),
        "\n".join(["*   value 10"] * 40),
        "\n".join(["*   value 10"] * 30 + ["*   value 12"] + ["*   value 10"] * 9),
    ),
    (
        "two edits far apart in a long field",
        "Alpha begins here. " + "Filler words here. " * 20 + "Omega ends hree.",
        "Alpha starts here. " + "Filler words here. " * 20 + "Omega ends here.",
        "Alpha begins here.\n" + "Filler words here.\n" * 20 + "Omega ends hree.",
        "Alpha starts here.\n" + "Filler words here.\n" * 20 + "Omega ends here.",
    ),
    (
        "a word replaced at the end of a wrapped line keeps the line break",
        "the price is 10 dollars today",
        "the price is twelve dollars today",
        "the price is 10\n  dollars today",
        "the price is twelve\n  dollars today",
    ),
    (
        "words added after a word go before the author's trailing spaces (a hard break)",
        "- one\n- two",
        "- one and more\n- two",
        "* one  \n* two",
        "* one and more  \n* two",
    ),
    (
        "a phrase twice in the field: the edit lands on its own row, spelled otherwise",
        f"A) the price is 10 dollars.\n{FILLER}\nB) the price is 10 dollars.",
        f"A) the price is 10 dollars.\n{FILLER}\nB) the price is 12 dollars.",
        f"A) the price is 10 dollars.\n{FILLER}\nB)  the   price\n    is   10\n    dollars.",
        f"A) the price is 10 dollars.\n{FILLER}\nB)  the   price\n    is   12\n    dollars.",
    ),
    (
        "no edit in Anki: the vault's spelling stays as it is",
        "The cat sat.",
        "The cat sat.",
        "The  cat sat.",
        "The  cat sat.",
    ),
]


@pytest.mark.parametrize(("shows", "before", "after", "markdown", "expected"), PLACED)
def test_the_edit_lands_on_the_authors_spelling(shows, before, after, markdown, expected):
    assert place_edit(before, after, markdown) == expected


# (what it shows, converted before, converted after, the vault's markdown)
NOT_PLACED = [
    (
        "the words the edit changes are not in the vault's text",
        "The cat sat on the mat.",
        "The dog sat on the mat.",
        "A bird flew over the tree.",
    ),
    (
        "the context is there but the word the edit replaces is another",
        "so the cat sat on the mat today",
        "so the dog sat on the mat today",
        "so the kitten sat on the mat today",
    ),
]


@pytest.mark.parametrize(("shows", "before", "after", "markdown"), NOT_PLACED)
def test_an_edit_that_finds_no_place_is_none(shows, before, after, markdown):
    assert place_edit(before, after, markdown) is None


TEXT = st.text(alphabet="ab -*_\n$[]|!", max_size=60)


@given(TEXT, TEXT)
def test_the_converters_own_text_gives_exactly_the_edited_text(before, after):
    assert place_edit(before, after, before) == after
    crlf = before.replace("\n", "\r\n")
    if "\n" in before:
        assert place_edit(before, after, crlf) == after.replace("\n", "\r\n")
