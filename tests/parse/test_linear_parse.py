"""Parsing takes time linear in the file, and a custom regexp cannot hang it.

Each large case runs under a CPU-time limit several times what its linear run takes, and far
below what the quadratic scan it guards against took (a look at every earlier span or
heading per note, a regexp retried from each `$` or inside each run of spaces)."""

from __future__ import annotations

import re

import pytest

from notecards.config import VaultConfig, compile_js_regexp
from notecards.parse import parse_file
from notecards.parse.regex_notes import REGEXP_SECONDS
from tests.helpers.limits import cpu_seconds_at_most

QA = {"Basic": r"^Q: (.+)\nA: (.+)"}


def parse(text: str, **settings):
    return parse_file(text, "deck/cards.md", VaultConfig(vault_name="V", **settings))


def test_200k_lines_of_inline_math_openers_parse_in_linear_time() -> None:
    text = "$a\n" * 200_000  # each `$` read to the end of the file for a closing `$`
    with cpu_seconds_at_most(10):
        parsed = parse(text, custom_regexps=QA)
    assert parsed.notes == [] and parsed.problems == []


def test_200k_lines_of_regexp_notes_parse_in_linear_time() -> None:
    text = "Q: a\nA: b\n\n" * 66_667  # each match was held against every span before it
    with cpu_seconds_at_most(15):
        parsed = parse(text, custom_regexps=QA)
    assert len(parsed.notes) == 66_667


def test_200k_lines_of_headings_and_notes_parse_in_linear_time() -> None:
    text = "# h\nSTARTI [Basic] x ENDI\n" * 100_000  # each note read every heading above it
    with cpu_seconds_at_most(15):
        parsed = parse(text, add_context=True)
    assert parsed.notes[-1].appendix == {"Front": "deck/cards.md &gt; h"}


def test_frozen_fields_under_200k_lines_of_notes_parse_in_linear_time() -> None:
    frozen = "FROZEN - Basic:\n" + "x\n" * 100_000 + "\n"  # split again for every note
    with cpu_seconds_at_most(15):
        parsed = parse(frozen + "STARTI [Basic] q ENDI\n" * 100_000)
    assert len(parsed.notes) == 100_000
    assert parsed.notes[0].appendix["Front"] == "\n".join(["x"] * 100_000)


def test_obsidian_tags_among_200k_of_math_parse_in_linear_time() -> None:
    field = "#a $x$ " * 28_000  # each tag was held against every math span
    with cpu_seconds_at_most(10):
        parsed = parse(f"START\nBasic\n{field}\nEND\n", add_obsidian_tags=True)
    assert parsed.notes[0].tags == ("a",)
    assert parsed.notes[0].fields["Front"] == "$x$  " * 27_999 + "$x$"


def test_10k_backticks_with_obsidian_tags_parse_in_linear_time() -> None:
    """`(`+)[\\s\\S]*?\\1` tried every count of backticks against the rest: n^3 steps. A run
    with no later run to close it is code on its own (its halves), so the tag after it counts."""
    with cpu_seconds_at_most(5):
        parsed = parse("START\nBasic\na" + "`" * 10_000 + " #t\nEND\n", add_obsidian_tags=True)
    assert parsed.notes[0].tags == ("t",)


SPACES = " " * 40_000


@pytest.mark.parametrize(
    "text",
    [
        f"START\nBasic\nq\nTags: a{SPACES}b\nEND\n",
        f"STARTI [Basic] a{SPACES}b ENDI\n",
        f"TARGET DECK: a{SPACES}b\n",
        f"FROZEN - a{SPACES}b:\n",
    ],
    ids=["Tags", "STARTI", "TARGET DECK", "FROZEN"],
)
def test_40k_spaces_in_a_marker_line_parse_in_linear_time(text: str) -> None:
    """A lazy `.*?` before `\\s*` tried the `\\s*` from every space of a run: n^2 steps."""
    with cpu_seconds_at_most(2):
        parsed = parse(text)
    assert parsed.problems == []


def test_400k_blank_lines_before_the_note_type_parse_in_linear_time() -> None:
    text = "START\n" + "\n" * 400_000 + "Basic\nq\nEND\n"  # each dropped from the list's head
    with cpu_seconds_at_most(8):
        parsed = parse(text)
    assert parsed.notes[0].fields == {"Front": "q", "Back": ""}


def test_catastrophic_custom_regexp_times_out_at_its_file() -> None:
    text = (
        "START\nBasic\nblock\nEND\n"
        "STARTI [Basic] inline ENDI\n"
        "Q: one\nA: 1\n"
        + "a" * 30
        + "b\n"  # `(a|a)+` tries 2^30 ways to read these before giving up
    )
    regexps = {"Basic": r"^(a|a)+$", "Basic (and reversed card)": QA["Basic"]}
    with cpu_seconds_at_most(4 * REGEXP_SECONDS):
        parsed = parse(text, custom_regexps=regexps)
    assert [p.format() for p in parsed.problems] == [
        "deck/cards.md:1: custom regexp for 'Basic' ran out of time (over 2 s) on this file:"
        " ^(a|a)+$"
    ]
    # the file's other notes are still found: its blocks, inline notes, other regexps' notes
    assert [n.fields["Front"] for n in parsed.notes] == ["block", "inline", "one"]


@pytest.mark.filterwarnings("ignore:Possible nested set")
def test_a_custom_regexp_means_what_re_read_it_as() -> None:
    """`regex` reads `[[:alpha:]]` as a POSIX class and `a{e<=1}` as fuzzy matching;
    `re` (and JavaScript) read both as text."""
    assert compile_js_regexp(r"^[[:alpha:]]+$").findall(":a\n[p]") == []
    assert compile_js_regexp(r"^[[:alph]+$").findall(":a\nlp[:") == [":a", "lp[:"]
    assert compile_js_regexp(r"x{e<=1}").findall("y x{e<=1}") == ["x{e<=1}"]
    assert compile_js_regexp(r"(?<q>a)\k<q>{2}").findall("aaa") == ["a"]


def test_nested_repeat_custom_regexp_ends_within_the_limit() -> None:
    text = "START\nBasic\nblock\nEND\n" + "a" * 40 + "b\n"  # `re`: 2^40 ways to fail
    with cpu_seconds_at_most(2 * REGEXP_SECONDS):
        parsed = parse(text, custom_regexps={"Basic": r"^(a+)+$"})
    assert parsed.problems == [] and [n.fields["Front"] for n in parsed.notes] == ["block"]


@pytest.mark.parametrize("pattern", ["(unclosed", "(?<n>a)(?<n>b)", r"\p{L}"])
def test_a_custom_regexp_that_re_cannot_compile_raises_re_error(pattern: str) -> None:
    """The settings check catches `re.error`; `regex` alone would take the last two."""
    with pytest.raises(re.error):
        compile_js_regexp(pattern)
