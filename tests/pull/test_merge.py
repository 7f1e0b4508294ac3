"""Three-way merge of a field edited in the vault and in Anki: both edits land where they do
not overlap; where they do, a conflict names the place."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notecards.pull.merge import Conflict, ConflictRegion, merge_field

FIRST = "The quick borwn fox.\n"
BASE = FIRST + "- first point\n- second point\n- third point"


def both_edits(base: str, vault: tuple[str, str], anki: tuple[str, str]) -> tuple[str, ...]:
    """base, vault, anki and both edits in one: each side replaces one text in `base`."""
    return base, base.replace(*vault), base.replace(*anki), base.replace(*vault).replace(*anki)


def row(cells: dict[int, str] | None = None) -> str:
    """A table row of 160 cells, 0 1 0 1 ..., with some cells changed."""
    values = ["0", "1"] * 80
    for at, value in (cells or {}).items():
        values[at] = value
    return "| " + " | ".join(values) + " |"


# (what it shows, base, vault, anki, merged)
MERGED = [
    (
        "edits on lines apart",
        BASE,
        BASE.replace("first point", "first point, sharpened"),
        BASE.replace("third point", "third and last point"),
        "The quick borwn fox.\n- first point, sharpened\n- second point\n- third and last point",
    ),
    (
        "the same line, in different words",
        *both_edits("Use $\\beta$ for the KL term in [[DPO]].", ("term", "loss"), ("a$", "a=1$")),
    ),
    (
        "a typo fixed on one side in a paragraph the other extended at its end",
        BASE,
        BASE.replace("borwn fox.", "borwn fox. It jumps."),
        BASE.replace("borwn", "brown"),
        BASE.replace("borwn fox.", "brown fox. It jumps."),
    ),
    (
        "a paragraph wrapped again on one side, a word fixed on the other",
        "one two three four\nfive six sevn eight",
        "one two\nthree four five\nsix sevn eight",
        "one two three four\nfive six seven eight",
        "one two\nthree four five\nsix seven eight",
    ),
    (
        "one cell each in a long table row that repeats itself",
        row(),
        row({10: "x"}),
        row({120: "y"}),
        row({10: "x", 120: "y"}),
    ),
    ("the same change on both sides", BASE, BASE + "\n- 4th", BASE + "\n- 4th", BASE + "\n- 4th"),
    ("only the vault changed", BASE, BASE.upper(), BASE, BASE.upper()),
    ("only Anki changed", BASE, BASE, "", ""),
]  # fmt: skip


@pytest.mark.parametrize(("shows", "base", "vault", "anki", "merged"), MERGED)
def test_edits_that_do_not_overlap_both_land(shows, base, vault, anki, merged):
    assert merge_field(base, vault, anki) == merged


# (what it shows, base, vault, anki, the conflict's regions)
CONFLICTS = [
    (
        "the same word changed to two others",
        BASE,
        BASE.replace("second", "2nd"),
        BASE.replace("second", "next"),
        [ConflictRegion(3, "- second point\n", "- 2nd point\n", "- next point\n")],
    ),
    (
        "a line deleted on one side that the other edited",
        BASE,
        BASE.replace("- second point\n", ""),
        BASE.replace("second point", "second, better point"),
        [ConflictRegion(3, "- second point\n", "", "- second, better point\n")],
    ),
    (
        "each region of a field edited in two places on both sides",
        BASE,
        BASE.replace("quick", "slow").replace("third", "3rd"),
        BASE.replace("quick", "red").replace("third", "last"),
        [
            ConflictRegion(1, FIRST, FIRST.replace("quick", "slow"), FIRST.replace("quick", "red")),
            ConflictRegion(4, "- third point", "- 3rd point", "- last point"),
        ],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("shows", "base", "vault", "anki", "regions"), CONFLICTS)
def test_overlapping_edits_are_a_conflict_with_their_places(shows, base, vault, anki, regions):
    assert merge_field(base, vault, anki) == Conflict(tuple(regions))


FIELD = st.text(alphabet="ab .\n*$", max_size=40)


@given(FIELD, FIELD)
def test_one_sided_and_identical_edits_are_taken_as_they_are(base, edited):
    assert merge_field(base, edited, base) == edited
    assert merge_field(base, base, edited) == edited
    assert merge_field(base, edited, edited) == edited
