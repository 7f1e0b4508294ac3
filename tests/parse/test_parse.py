"""The parser, one SYNTAX.md rule per row: input text -> what the notes hold."""

from __future__ import annotations

import pytest

from notecards.config import VaultConfig
from notecards.parse import parse_file
from notecards.problems import Severity
from tests.helpers.vault import with_id

PATH = "deck/cards.md"


def parse(text: str, **settings):
    return parse_file(text, PATH, VaultConfig(vault_name="V", **settings))


def only_note(text: str, **settings):
    parsed = parse(text, **settings)
    assert [p.format() for p in parsed.errors] == []
    assert len(parsed.notes) == 1
    return parsed.notes[0]


BASIC = "START\nBasic\nWhat?\nBack: That.\nEND\n"

# (rule, text, expected fields / tags / id of the one note)
BLOCKS = [
    ("plain block", BASIC, {"Front": "What?", "Back": "That."}, (), None),
    (
        "trailing whitespace after START, END and the type",
        "START  \nBasic \t\nWhat?\nBack: That.\nEND \n",
        {"Front": "What?", "Back": "That."},
        (),
        None,
    ),
    (
        "blank lines before the type line",
        "START\n\n\nBasic\nWhat?\nBack: That.\nEND\n",
        {"Front": "What?", "Back": "That."},
        (),
        None,
    ),
    (
        "explicit first field, no space after the colon",
        "START\nBasic\nFront:What?\nBack:That.\nEND\n",
        {"Front": "What?", "Back": "That."},
        (),
        None,
    ),
    (
        "fields in any order",
        "START\nBasic\nBack: That.\nFront: What?\nEND\n",
        {"Front": "What?", "Back": "That."},
        (),
        None,
    ),
    (
        "field prefixes are case-sensitive",
        "START\nBasic\nWhat?\nback: not a field\nBack: That.\nEND\n",
        {"Front": "What?\nback: not a field", "Back": "That."},
        (),
        None,
    ),
    (
        "each field is trimmed, inner lines kept",
        "START\nBasic\n\n  What?\nmore\n\nBack:\n\nThat.\n\nEND\n",
        {"Front": "What?\nmore", "Back": "That."},
        (),
        None,
    ),
    (
        "Back Extra is not Back",
        "START\nCloze\n{{c1::x}}\nBack Extra: extra\nEND\n",
        {"Text": "{{c1::x}}", "Back Extra": "extra"},
        (),
        None,
    ),
    (
        "Tags line and ID line",
        "START\nBasic\nWhat?\nBack: That.\nTags: ml a::b\n<!--ID: 17-->\nEND\n",
        {"Front": "What?", "Back": "That."},
        ("ml", "a::b"),
        17,
    ),
    (
        "ID outside a comment",
        "START\nBasic\nWhat?\nBack: That.\nID: 18\nEND\n",
        {"Front": "What?", "Back": "That."},
        (),
        18,
    ),
    (
        "ID line above the Tags line is the same note",
        "START\nBasic\nWhat?\nBack: That.\n<!--ID: 19-->\nTags: ml\nEND\n",
        {"Front": "What?", "Back": "That."},
        ("ml",),
        19,
    ),
    (
        "an ID inside a content line is content (O2A deletes it)",
        "START\nBasic\nWhat?\nBack: see ID: 77\nEND\n",
        {"Front": "What?", "Back": "see ID: 77"},
        (),
        None,
    ),
    (
        "Tags and ID on one line: both read",
        "START\nBasic\nWhat?\nBack: That.\nTags: a b <!--ID: 20-->\nEND\n",
        {"Front": "What?", "Back": "That."},
        ("a", "b"),
        20,
    ),
    (
        "END with trailing junk does not close (ENDPOINT)",
        "START\nBasic\nWhat?\nENDPOINT\nBack: That.\nEND\n",
        {"Front": "What?\nENDPOINT", "Back": "That."},
        (),
        None,
    ),
]


@pytest.mark.parametrize(
    ("rule", "text", "fields", "tags", "note_id"), BLOCKS, ids=[b[0] for b in BLOCKS]
)
def test_block(rule, text, fields, tags, note_id):
    note = only_note(text)
    assert note.fields == fields
    assert note.tags == tags
    assert note.note_id == note_id


def test_tags_and_id_on_one_line_warns():
    parsed = parse("START\nBasic\nWhat?\nTags: a <!--ID: 1-->\nEND\n")
    assert [(p.line, p.severity) for p in parsed.problems] == [(4, Severity.WARNING)]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("STARTX\nBasic\nWhat?\nEND\n", 0),  # START with junk is not a START
        (" START\nBasic\nWhat?\nEND\n", 0),  # not at column 0
        ("```\nSTART\nBasic\nin code\nEND\n```\n", 0),  # inside a fenced code block
        ("~~~md\nSTART\nBasic\nin code\nEND\n~~~\n" + BASIC, 1),
    ],
)
def test_what_is_not_a_block(text, count):
    assert len(parse(text).notes) == count


def test_a_fence_inside_a_card_hides_an_END_inside_it():
    text = "START\nBasic\nWhat?\nBack:\n```\nEND\n```\nEND\n"
    note = only_note(text)
    assert note.fields["Back"] == "```\nEND\n```"
    assert note.end_line == 8


def test_lines_and_slot_of_a_new_block():
    text = "intro\n\n" + BASIC
    note = only_note(text)
    assert (note.start_line, note.end_line, note.id_line) == (3, 7, None)
    assert note.field_lines == {"Front": 5, "Back": 6}
    slot = note.id_slot
    assert text[slot.offset :].startswith("END")
    written = with_id(text, note, 5)
    assert written == "intro\n\nSTART\nBasic\nWhat?\nBack: That.\n<!--ID: 5-->\nEND\n"
    assert only_note(written).note_id == 5


def test_crlf_file_is_read_and_its_slot_carries_crlf():
    text = BASIC.replace("\n", "\r\n")
    note = only_note(text)
    assert note.fields == {"Front": "What?", "Back": "That."}
    assert note.id_slot.text == "<!--ID: {id}-->\r\n"
    written = with_id(text, note, 9)
    assert written.count("\r\n") == written.count("\n")
    assert only_note(written).note_id == 9


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("START\nBasci\nWhat?\nEND\n", 2, "unknown note type 'Basci'; closest known: Basic"),
        ("START\nClose\nWhat?\nEND\n", 2, "closest known: Cloze"),
        ("START\n\nEND\n", 1, "empty block"),
        ("START\nBasic\nWhat?\n", 1, "START without END"),
        ("DELETE\nnot an id\n", 1, "DELETE must be followed by an ID line"),
        ("TARGET DECK\n\n", 1, "TARGET DECK needs a value"),
    ],
)
def test_problems_name_the_line(text, line, message):
    errors = parse(text).errors
    assert [(p.path, p.line) for p in errors] == [(PATH, line)]
    assert message in errors[0].message


def test_start_without_end_does_not_swallow_the_next_block():
    text = "START\nBasic\nlost\n\n" + BASIC
    parsed = parse(text)
    assert [p.line for p in parsed.errors] == [1]
    assert [n.fields["Front"] for n in parsed.notes] == ["What?"]
    assert parsed.notes[0].start_line == 5


def test_end_without_start_is_a_warning():
    parsed = parse("END\n")
    assert [(p.line, p.severity) for p in parsed.problems] == [(1, Severity.WARNING)]


# --- file-level lines -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "deck"),
    [
        ("TARGET DECK\nMath::Algebra\n", "Math::Algebra"),
        ("TARGET DECK: Math::Algebra\n", "Math::Algebra"),
        ("TARGET DECK: First\nTARGET DECK: Second\n", "First"),
        ("", "Default"),
    ],
)
def test_target_deck(header, deck):
    assert only_note(header + "\n" + BASIC).deck == deck


def test_target_deck_after_the_notes_still_applies():
    assert only_note(BASIC + "\nTARGET DECK: Late\n").deck == "Late"


@pytest.mark.parametrize(
    ("header", "tags"),
    [
        ("FILE TAGS\nMaths School\n", ("own", "Maths", "School")),
        ("FILE TAGS: Maths School\n", ("own", "Maths", "School")),
        ("FILE TAGS: own Maths\n", ("own", "Maths")),  # deduplicated, first kept
    ],
)
def test_file_tags(header, tags):
    text = header + "\nSTART\nBasic\nWhat?\nTags: own\nEND\n"
    assert only_note(text).tags == tags


def test_delete_line_with_id():
    text = "keep\nDELETE\n<!--ID: 42-->\nkeep too\n"
    parsed = parse(text)
    (deletion,) = parsed.deletions
    assert (deletion.note_id, deletion.path, deletion.line) == (42, PATH, 2)
    assert text[: deletion.start_offset] + text[deletion.end_offset :] == "keep\nkeep too\n"


def test_delete_inside_a_block_deletes_instead_of_creating():
    text = "START\nBasic\nWhat?\nBack: x\nDELETE\n<!--ID: 43-->\nEND\n"
    parsed = parse(text)
    assert parsed.notes == []
    assert [d.note_id for d in parsed.deletions] == [43]


def test_delete_inside_a_block_warns_that_the_card_stays():
    """The two lines go, the card stays: a later sync would add it again; say so at START."""
    parsed = parse("START\nBasic\nQ\nBack: A\nDELETE\n<!--ID: 17-->\nEND\n")
    (warning,) = parsed.problems
    assert warning.severity is Severity.WARNING and warning.line == 1
    assert "added again" in warning.message


@pytest.mark.parametrize(
    ("line", "fields", "note_id"),
    [
        ("STARTI [Basic] What? Back: That. ENDI", {"Front": "What?", "Back": "That."}, None),
        ("STARTI [Basic] What? Back: That. ENDI  ", {"Front": "What?", "Back": "That."}, None),
        (
            "STARTI [Basic] What? Back: That. <!--ID: 7--> ENDI",
            {"Front": "What?", "Back": "That."},
            7,
        ),
        ("STARTI [Basic] Back: That. Front: What? ENDI", {"Front": "What?", "Back": "That."}, None),
    ],
)
def test_inline_note(line, fields, note_id):
    note = only_note("before\n" + line + "\n")
    assert note.fields == fields
    assert note.note_id == note_id
    assert (note.start_line, note.end_line) == (2, 2)


def test_inline_note_tags_and_id_slot():
    text = "STARTI [Basic] What? Back: That. Tags: a b ENDI\n"
    note = only_note(text)
    assert note.tags == ("a", "b")
    written = with_id(text, note, 11)
    assert written == "STARTI [Basic] What? Back: That. Tags: a b <!--ID: 11--> ENDI\n"
    assert only_note(written).note_id == 11


# --- frontmatter ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frontmatter", "deck", "tags"),
    [
        ("tags: [course/ml, exam]\n", "Default", ("course::ml", "exam")),
        ("tags: 'a, b/c'\n", "Default", ("a", "b::c")),
        ("deck: FM\n", "FM", ()),
        ("anki-deck: FM2\n", "FM2", ()),
        ("deck: A\nanki-deck: B\n", "A", ()),
        ("title: no cards here\n", "Default", ()),
    ],
)
def test_frontmatter(frontmatter, deck, tags):
    note = only_note("---\n" + frontmatter + "---\n" + BASIC)
    assert (note.deck, note.tags) == (deck, tags)


def test_target_deck_beats_frontmatter_deck():
    assert only_note("---\ndeck: FM\n---\nTARGET DECK: TD\n" + BASIC).deck == "TD"


def test_frontmatter_is_not_text():
    assert parse("---\nnote: |\n  START\n  Basic\n---\n").notes == []


def test_bad_frontmatter_names_its_line():
    parsed = parse("---\ntags: [a\nx: 1\n---\n" + BASIC)
    assert [p.line for p in parsed.errors] == [3]
    assert "frontmatter" in parsed.errors[0].message
    assert len(parsed.notes) == 1


# --- O2A extras -----------------------------------------------------------------------


def test_obsidian_tags_are_taken_out_of_the_text():
    text = "START\nBasic\nWhat? #geo/europe\nBack: `#not` $#x$ a#b # heading\nEND\n"
    note = only_note(text, add_obsidian_tags=True)
    assert note.tags == ("geo::europe",)
    assert note.fields == {"Front": "What?", "Back": "`#not` $#x$ a#b # heading"}


def test_obsidian_tags_stay_when_the_setting_is_off():
    assert only_note("START\nBasic\nWhat? #geo\nEND\n").fields["Front"] == "What? #geo"


def test_frozen_fields_are_appended_raw():
    text = "FROZEN - Basic:\nBack: <br>always\n\n" + BASIC
    note = only_note(text)
    assert note.appendix == {"Back": "<br>always"}
    assert note.fields["Back"] == "That."


def test_context_breadcrumb():
    text = "# Top\n## A\n## B\n### C\n" + BASIC + "## D\n"
    note = only_note(text, add_context=True, context_fields={"Basic": "Back"})
    assert note.appendix == {"Back": f"{PATH} &gt; Top &gt; B &gt; C"}


def test_file_link():
    note = only_note(BASIC, add_file_link=True)
    assert note.appendix == {
        "Front": '<br><a href="obsidian://open?vault=V&amp;file=deck%2Fcards.md" '
        'class="obsidian-link">Obsidian</a>'
    }


# --- custom regexps (O2A) -------------------------------------------------------------

QA = {"Basic": r"^Q: ((?:.+\n)*)\n*A: (.+(?:\n(?:^.{1,3}$|^.{4}(?<!<!--).*))*)"}


def test_regex_notes_and_their_slot():
    text = "Q: One?\nA: 1\n\nQ: Two?\nA: 2\n"
    parsed = parse(text, custom_regexps=QA)
    assert [n.fields for n in parsed.notes] == [
        {"Front": "One?", "Back": "1"},
        {"Front": "Two?", "Back": "2"},
    ]
    first = parsed.notes[0]
    assert (first.start_line, first.end_line) == (1, 2)
    written = with_id(text, first, 3)
    assert written.startswith("Q: One?\nA: 1\n<!--ID: 3-->\n\nQ: Two?")
    again = parse(written, custom_regexps=QA)
    assert [n.note_id for n in again.notes] == [3, None]
    assert again.notes[0].id_line == 3
    assert again.notes[0].fields == {"Front": "One?", "Back": "1"}


def test_regex_ignores_blocks_and_named_groups_map_in_order():
    regexps = {"Basic": r"^(?<q>.+)::(?<a>.+)$"}
    text = "START\nBasic\nin::block\nEND\nfront::back\n"
    parsed = parse(text, custom_regexps=regexps)
    assert [n.fields for n in parsed.notes] == [
        {"Front": "in::block", "Back": ""},
        {"Front": "front", "Back": "back"},
    ]


def test_cloze_regex_skips_matches_without_cloze():
    regexps = {"Cloze": r"((?:.+\n)*(?:.*{.*)(?:\n(?:^.{1,3}$|^.{4}(?<!<!--).*))*)"}
    text = "Only math $\\frac{1}{2}$ here.\n\nA {real} cloze.\n"
    parsed = parse(text, custom_regexps=regexps, curly_cloze=True)
    assert [n.fields["Text"] for n in parsed.notes] == ["A {real} cloze."]


def test_notes_come_in_file_order_whatever_their_kind():
    text = "Q: regex?\nA: yes\n\n" + BASIC + "STARTI [Basic] inline ENDI\n"
    parsed = parse(text, custom_regexps=QA)
    assert [n.start_line for n in parsed.notes] == [1, 4, 9]
