"""Where each field's text and each note's tags are in the file (`Note.field_spans`,
`Note.tags_span`): what a write-back of an Anki edit replaces, and nothing else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notecards.config import VaultConfig
from notecards.model import Note, TextSpan
from notecards.parse import parse_file

QA = {"Basic": r"^Q: (.+)\nA: (.+)"}
ONE_GROUP = {"Basic": r"^Q: (.+)"}


def parse(text: str, **settings):
    return parse_file(text, "cards.md", VaultConfig(vault_name="V", **settings))


def only_note(text: str, **settings) -> Note:
    parsed = parse(text, **settings)
    assert parsed.errors == [] and len(parsed.notes) == 1
    return parsed.notes[0]


def put(text: str, span: TextSpan, value: str, newline: str = "\n") -> str:
    """`text` with the value at `span` made `value`, as a write-back does it."""
    return text[: span.start] + span.filled(value.replace("\n", newline)) + text[span.end :]


def spanned(text: str, span: TextSpan) -> str:
    return text[span.start : span.end]


# (what it shows, text, settings, the text each field's span holds, the tags span's text)
SPANS = [
    ("a plain block", "START\nBasic\nWhat?\nBack: That.\nEND\n", {}, ("What?", "That."), ""),
    (
        "a field over several lines keeps its wrapping and the file's CRLF",
        "START\r\nBasic\r\n  What\r\n  is it?  \r\nBack:\r\n- a\r\n\r\n- b\r\nEND\r\n",
        {},
        ("What\r\n  is it?", "- a\r\n\r\n- b"),
        "",
    ),
    (
        "math, links and embeds are the field's own bytes",
        "START\nBasic\n$x_1$ [[N|n]]\nBack: ![[i.png|200]] \nTags: a  b\n<!--ID: 5-->\nEND\n",
        {},
        ("$x_1$ [[N|n]]", "![[i.png|200]]"),
        "a  b",
    ),
    (
        "an explicit first field and no space after the colon",
        "START\nBasic\nFront:q\nBack:a\nTags:x\nEND\n",
        {},
        ("q", "a"),
        "x",
    ),
    (
        "tags that share their line with the ID",
        "START\nBasic\nq\nBack: a\nTags: x y <!--ID: 7-->\nEND\n",
        {},
        ("q", "a"),
        "x y",
    ),
    (
        "an inline note",
        "text\nSTARTI [Basic] q  Back: a b Tags: t u <!--ID: 3--> ENDI\n",
        {},
        ("q", "a b"),
        "t u",
    ),
    (
        "an inline note in a list item",
        "- STARTI [Basic] q Back: a b Tags: t ENDI\n",
        {},
        ("q", "a b"),
        "t",
    ),
    (
        "an inline note in the middle of a sentence",
        "> so STARTI [Basic] q Back: a <!--ID: 3--> ENDI, and on\n",
        {},
        ("q", "a"),
        "",
    ),
    ("a regex note", "Q: q \nA: a\n", {"custom_regexps": QA}, ("q", "a"), ""),
    (
        "a regex note with tags and an ID",
        "Q: q\r\nA: a Tags: t\r\n<!--ID: 9-->\r\n",
        {"custom_regexps": QA},
        ("q", "a"),
        "t",
    ),
]


@pytest.mark.parametrize(("shows", "text", "settings", "fields", "tags"), SPANS)
def test_each_span_holds_the_text_its_value_was_read_from(shows, text, settings, fields, tags):
    note = only_note(text, **settings)
    assert tuple(spanned(text, note.field_spans[name]) for name in note.fields) == fields
    assert spanned(text, note.tags_span) == tags


# (what it shows, text, settings, field or "Tags", new value, the text written)
WHERE_A_VALUE_GOES = [
    (
        "a bare `Back:` gets a space",
        "START\nBasic\nq\nBack:\nEND\n",
        {},
        "Back",
        "a",
        "START\nBasic\nq\nBack: a\nEND\n",
    ),
    (
        "an empty field after `Back: ` keeps its space",
        "START\nBasic\nq\nBack: \nEND\n",
        {},
        "Back",
        "a",
        "START\nBasic\nq\nBack: a\nEND\n",
    ),
    (
        "a field without a line gets one where the fields end",
        "START\nBasic\nq\n\n<!--ID: 4-->\nEND\n",
        {},
        "Back",
        "a\nb",
        "START\nBasic\nq\nBack: a\nb\n\n<!--ID: 4-->\nEND\n",
    ),
    (
        "a missing first field goes under the type line",
        "START\r\nBasic\r\nBack: a\r\nEND\r\n",
        {},
        "Front",
        "q",
        "START\r\nBasic\r\nq\r\nBack: a\r\nEND\r\n",
    ),
    (
        "a Tags line goes above the ID line",
        "START\nBasic\nq\nBack: a\n<!--ID: 4-->\nEND\n",
        {},
        "Tags",
        "x y",
        "START\nBasic\nq\nBack: a\nTags: x y\n<!--ID: 4-->\nEND\n",
    ),
    (
        "a Tags line goes above END without an ID",
        "START\r\nBasic\r\nq\r\nEND\r\n",
        {},
        "Tags",
        "x",
        "START\r\nBasic\r\nq\r\nTags: x\r\nEND\r\n",
    ),
    (
        "an empty Tags value keeps the rest of its line",
        "START\nBasic\nq\nTags: <!--ID: 4-->\nEND\n",
        {},
        "Tags",
        "x",
        "START\nBasic\nq\nTags: x <!--ID: 4-->\nEND\n",
    ),
    (
        "an inline note's missing field goes before its tags",
        "STARTI [Basic] q Tags: t ENDI\n",
        {},
        "Back",
        "a",
        "STARTI [Basic] q Back: a Tags: t ENDI\n",
    ),
    (
        "an inline note's empty first field",
        "STARTI [Basic] Back: a ENDI\n",
        {},
        "Front",
        "q",
        "STARTI [Basic] q Back: a ENDI\n",
    ),
    (
        "a mid-line inline note's missing field goes before its end marker",
        "- a STARTI [Basic] q ENDI, b\n",
        {},
        "Back",
        "a",
        "- a STARTI [Basic] q Back: a ENDI, b\n",
    ),
    (
        "an inline note's tags go before its end marker when it touches the text",
        "- STARTI [Basic] q Back: aENDI\n",
        {},
        "Tags",
        "t",
        "- STARTI [Basic] q Back: a Tags: t ENDI\n",
    ),
    (
        "an inline note's tags go before its ID",
        "STARTI [Basic] q Back: a <!--ID: 3--> ENDI\n",
        {},
        "Tags",
        "t",
        "STARTI [Basic] q Back: a Tags: t <!--ID: 3--> ENDI\n",
    ),
    (
        "a regex note's tags go where O2A's Tags group reads them",
        "Q: q\nA: a\n<!--ID: 9-->\n",
        {"custom_regexps": QA},
        "Tags",
        "t",
        "Q: q\nA: a Tags: t\n<!--ID: 9-->\n",
    ),
]


@pytest.mark.parametrize(
    ("shows", "text", "settings", "name", "value", "after"), WHERE_A_VALUE_GOES
)
def test_an_empty_value_has_a_span_where_its_text_goes(shows, text, settings, name, value, after):
    note = only_note(text, **settings)
    span = note.tags_span if name == "Tags" else note.field_spans[name]
    assert span.start == span.end
    newline = "\r\n" if "\r\n" in text else "\n"
    assert put(text, span, value, newline) == after
    again = only_note(after, **settings)
    if name == "Tags":
        assert again.tags == tuple(value.split())
    else:
        assert again.fields[name] == value


@pytest.mark.parametrize(
    ("shows", "text", "settings", "without"),
    [
        ("a block field written twice", "START\nBasic\nBack: a\nq\nBack: b\nEND\n", {}, "Back"),
        ("an inline field written twice", "STARTI [Basic] q Back: a Back: b ENDI\n", {}, "Back"),
        ("a field its regexp has no group for", "Q: q\n", {"custom_regexps": ONE_GROUP}, "Back"),
    ],
)  # fmt: skip
def test_a_field_with_no_one_place_has_no_span(shows, text, settings, without):
    note = only_note(text, **settings)
    assert without not in note.field_spans
    assert set(note.field_spans) == set(note.fields) - {without}


def test_a_field_written_twice_with_one_blank_place_has_the_other():
    text = "START\nBasic\nBack:\nFront: q\nBack: b\nEND\n"
    note = only_note(text)
    assert spanned(text, note.field_spans["Back"]) == "b"


# --- properties: any note the generators write, in a file of prose and other notes ---

WORDS = st.text(alphabet="abcxyz$[]|!*-_.,()/ ", min_size=1, max_size=12)
# Field text with no syntax in it: no `:` (no field prefix, Tags or ID), lower case (no
# START/END), no backtick or tilde (no fence); spaces and blank lines around it.
LINE = st.builds(lambda lead, word: lead + word, st.sampled_from(["", " ", "  "]), WORDS)
VALUE = st.lists(st.one_of(LINE, st.just("")), max_size=4).map("\n".join)
ONE_LINE = WORDS.map(str.strip)
# A regex note's field: never empty (`(.+)`), and no `$`, as a regexp match inside math is
# not a note (O2A's rule): a `$` in one note could hide the next.
NO_MATH = ONE_LINE.filter(lambda text: text and "$" not in text)
TAGS = st.lists(st.sampled_from(["a", "b", "ml", "x::y"]), unique=True, max_size=3).map(" ".join)
PROSE = st.lists(st.sampled_from(["", "prose here", "- a list", "## heading"]), max_size=3)


@st.composite
def blocks(draw) -> str:
    front = draw(st.sampled_from(["", "Front:", "Front: "])) + draw(VALUE)
    back = draw(st.sampled_from([None, "Back:", "Back: "]))
    lines = ["START", "Basic", front]
    if back is not None:
        lines.append(back + draw(VALUE))
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["Tags:", "Tags: "])) + draw(TAGS))
    if draw(st.booleans()):
        lines.append(f"<!--ID: {draw(st.integers(1, 99))}-->")
    return "\n".join([*lines, "END"])


@st.composite
def inline_note(draw) -> str:
    parts = ["STARTI [Basic]", draw(ONE_LINE)]
    if draw(st.booleans()):
        parts += ["Back:", draw(ONE_LINE)]
    if draw(st.booleans()):
        parts += ["Tags:", draw(TAGS)]
    if draw(st.booleans()):
        parts.append(f"<!--ID: {draw(st.integers(1, 99))}-->")
    return " ".join([*parts, "ENDI"])


@st.composite
def inline_notes(draw) -> str:
    """One or two inline notes on a line, anywhere in it (a list item, a callout, a sentence)."""
    notes = draw(st.lists(inline_note(), min_size=1, max_size=2))
    lead = draw(st.sampled_from(["", "- ", "> ", "1. ", "as seen "]))
    between = draw(st.sampled_from([" ", ", then ", "|"]))
    return lead + between.join(notes) + draw(st.sampled_from(["", ".", " and more"]))


@st.composite
def regex_notes(draw) -> str:
    text = f"Q: {draw(NO_MATH)}\nA: {draw(NO_MATH)}"
    if draw(st.booleans()):
        text += f" Tags: {draw(TAGS)}"
    return text + (f"\n<!--ID: {draw(st.integers(1, 99))}-->" if draw(st.booleans()) else "")


@st.composite
def files(draw, notes) -> tuple[str, str]:
    """A file of notes between prose, and its newline."""
    pieces = draw(st.lists(st.tuples(PROSE, notes), min_size=1, max_size=3))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [line for prose, note in pieces for line in [*prose, note, ""]]
    return "\n".join(lines).replace("\n", newline), newline


KINDS = {
    "block": (blocks(), VALUE, {}),
    "inline": (inline_notes(), ONE_LINE, {}),
    "regex": (regex_notes(), NO_MATH, {"custom_regexps": QA}),
}


def each_kind(test):
    """A property run for blocks, inline notes and regex notes."""
    test = settings(max_examples=150, deadline=None)(given(data=st.data())(test))
    return pytest.mark.parametrize("kind", list(KINDS))(test)


@each_kind
def test_each_span_put_back_with_its_own_text_gives_the_file_back(kind, data):
    notes, _, config = KINDS[kind]
    text, newline = data.draw(files(notes))
    parsed = parse(text, **config)
    assert parsed.notes
    for note in parsed.notes:
        assert set(note.field_spans) == set(note.fields)
        for name, span in note.field_spans.items():
            assert put(text, span, note.fields[name], newline) == text
        assert put(text, note.tags_span, " ".join(note.tags), newline) == text


@each_kind
def test_a_new_value_put_in_a_span_is_what_the_field_reads_again(kind, data):
    notes, values, config = KINDS[kind]
    text, newline = data.draw(files(notes))
    before = parse(text, **config).notes
    index = data.draw(st.integers(0, len(before) - 1))
    note = before[index]
    name = data.draw(st.sampled_from([*note.field_spans, "Tags"]))
    if name == "Tags":
        value = data.draw(TAGS)
        after = parse(put(text, note.tags_span, value, newline), **config).notes
        assert after[index].tags == tuple(value.split())
        changed = {}
    else:
        value = data.draw(values).strip()
        after = parse(put(text, note.field_spans[name], value, newline), **config).notes
        changed = {name: value}
        assert after[index].tags == note.tags
    assert [n.fields for n in after] == [
        {**n.fields, **changed} if i == index else n.fields for i, n in enumerate(before)
    ]


FRAGMENTS = ["START", "END", "Basic", "STARTI [Basic] ", " ENDI", "Back:", "Front:", "Tags: a",
             "<!--ID: 12-->", "```", "$", "Q: ", "A: ", " ", "  ", "\t", "\r\n", "\r", "\n",
             "\x0c", "word", "\u2028"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
def test_in_any_text_a_span_holds_exactly_its_fields_text(text):
    for note in parse(text, custom_regexps=QA).notes:
        for name, span in note.field_spans.items():
            assert spanned(text, span).replace("\r\n", "\n") == note.fields[name]
