"""Inline notes wherever Obsidian_to_Anki finds them: its `STARTI(.*?)ENDI` is unanchored and
one line long, so they sit at the start, in the middle and at the end of a line, in list items
and callouts, several to a line. Each row gives the note(s) read and the text once every new
note has its ID, written byte for byte where O2A writes it: just before that note's `ENDI`."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from notecards.config import Syntax, VaultConfig
from notecards.parse import parse_file
from notecards.problems import Severity
from tests.helpers.build import run_build
from tests.helpers.collection import AnkiCollection
from tests.helpers.limits import cpu_seconds_at_most
from tests.helpers.vault import with_id, write_vault

PATH = "deck/cards.md"


def parse(text: str, **settings):
    return parse_file(text, PATH, VaultConfig(vault_name="V", **settings))


def read(note) -> tuple:
    return (note.fields["Front"], note.fields["Back"], note.tags, note.note_id)


def with_all_ids(text: str, first_id: int = 101) -> tuple[str, int]:
    """`text` once every new note has an ID, as build after build writes them (a run gives
    one new note per line its ID); the number of runs it took."""
    next_id, runs = first_id, 0
    while new := [n for n in parse(text).notes if n.note_id is None]:
        for note in sorted(new, key=lambda n: n.id_slot.offset, reverse=True):
            text = with_id(text, note, next_id + new.index(note))
        next_id += len(new)
        runs += 1
    return text, runs


# (where, the line, what its notes read (Front, Back, tags, ID), the line with every ID)
POSITIONS = [
    (
        "the start of a line",
        "STARTI [Basic] What? Back: That. ENDI",
        [("What?", "That.", (), None)],
        "STARTI [Basic] What? Back: That. <!--ID: 101--> ENDI",
    ),
    (
        "the middle of a sentence",
        "As we saw, STARTI [Basic] What? Back: That. ENDI is the rule.",
        [("What?", "That.", (), None)],
        "As we saw, STARTI [Basic] What? Back: That. <!--ID: 101--> ENDI is the rule.",
    ),
    (
        "the end of a line",
        "Remember: STARTI [Basic] What? Back: That. ENDI",
        [("What?", "That.", (), None)],
        "Remember: STARTI [Basic] What? Back: That. <!--ID: 101--> ENDI",
    ),
    (
        "a bullet list item",
        "- STARTI [Basic] What? Back: That. ENDI",
        [("What?", "That.", (), None)],
        "- STARTI [Basic] What? Back: That. <!--ID: 101--> ENDI",
    ),
    (
        "a nested list item",
        "    * STARTI [Basic] What? Back: That. ENDI",
        [("What?", "That.", (), None)],
        "    * STARTI [Basic] What? Back: That. <!--ID: 101--> ENDI",
    ),
    (
        "a numbered list item",
        "12. STARTI [Basic] What? Back: That. ENDI",
        [("What?", "That.", (), None)],
        "12. STARTI [Basic] What? Back: That. <!--ID: 101--> ENDI",
    ),
    (
        "a task list item",
        "- [ ] STARTI [Basic] What? Back: That. ENDI",
        [("What?", "That.", (), None)],
        "- [ ] STARTI [Basic] What? Back: That. <!--ID: 101--> ENDI",
    ),
    (
        "a callout's body",
        "> STARTI [Basic] What? Back: That. ENDI",
        [("What?", "That.", (), None)],
        "> STARTI [Basic] What? Back: That. <!--ID: 101--> ENDI",
    ),
    (
        "a callout's title line",
        "> [!tip] STARTI [Basic] What? Back: That. ENDI",
        [("What?", "That.", (), None)],
        "> [!tip] STARTI [Basic] What? Back: That. <!--ID: 101--> ENDI",
    ),
    (
        "a list item in a callout",
        "> - STARTI [Basic] What? Back: That. ENDI",
        [("What?", "That.", (), None)],
        "> - STARTI [Basic] What? Back: That. <!--ID: 101--> ENDI",
    ),
    (
        "emphasis around it",
        "**STARTI [Basic] What? Back: That. ENDI**",
        [("What?", "That.", (), None)],
        "**STARTI [Basic] What? Back: That. <!--ID: 101--> ENDI**",
    ),
    (
        "text of a script without spaces touching it",
        "问题STARTI [Basic] 什么? Back: 那个 ENDI。",
        [("什么?", "那个", (), None)],
        "问题STARTI [Basic] 什么? Back: 那个 <!--ID: 101--> ENDI。",
    ),
    (
        "its end marker touching the last word",
        "- STARTI [Basic] What? Back: ThatENDI",
        [("What?", "That", (), None)],
        "- STARTI [Basic] What? Back: That<!--ID: 101--> ENDI",
    ),
    (
        "with Tags",
        "- STARTI [Basic] What? Back: That. Tags: ml x::y ENDI",
        [("What?", "That.", ("ml", "x::y"), None)],
        "- STARTI [Basic] What? Back: That. Tags: ml x::y <!--ID: 101--> ENDI",
    ),
    (
        "with an ID",
        "- STARTI [Basic] What? Back: That. <!--ID: 7--> ENDI",
        [("What?", "That.", (), 7)],
        "- STARTI [Basic] What? Back: That. <!--ID: 7--> ENDI",
    ),
    (
        "with Tags and an ID, mid-sentence",
        "so STARTI [Basic] What? Back: That. Tags: ml <!--ID: 7--> ENDI, and on",
        [("What?", "That.", ("ml",), 7)],
        "so STARTI [Basic] What? Back: That. Tags: ml <!--ID: 7--> ENDI, and on",
    ),
    (
        "with O2A's plain ID",
        "> STARTI [Basic] What? Back: That. ID: 7 ENDI",
        [("What?", "That.", (), 7)],
        "> STARTI [Basic] What? Back: That. ID: 7 ENDI",
    ),
    (
        "two per line, the first with an ID",
        "- STARTI [Basic] a Back: b <!--ID: 7--> ENDI and STARTI [Basic] c Back: d ENDI",
        [("a", "b", (), 7), ("c", "d", (), None)],
        "- STARTI [Basic] a Back: b <!--ID: 7--> ENDI and "
        "STARTI [Basic] c Back: d <!--ID: 101--> ENDI",
    ),
    (
        "two per line, the second with Tags and an ID",
        "STARTI [Basic] a Back: b ENDI STARTI [Basic] c Back: d Tags: t <!--ID: 8--> ENDI",
        [("a", "b", (), None), ("c", "d", ("t",), 8)],
        "STARTI [Basic] a Back: b <!--ID: 101--> ENDI "
        "STARTI [Basic] c Back: d Tags: t <!--ID: 8--> ENDI",
    ),
    (
        "two per line, both new (two runs)",
        "- STARTI [Basic] a Back: b ENDI, STARTI [Basic] c Back: d Tags: t ENDI.",
        [("a", "b", (), None)],  # the second waits for the first one's ID
        "- STARTI [Basic] a Back: b <!--ID: 101--> ENDI, "
        "STARTI [Basic] c Back: d Tags: t <!--ID: 102--> ENDI.",
    ),
    (
        "three per line, touching",
        "STARTI [Basic] a ENDI|STARTI [Basic] b <!--ID: 8--> ENDI|STARTI [Basic] c ENDI",
        [("a", "", (), None), ("b", "", (), 8)],  # c waits for a's ID
        "STARTI [Basic] a <!--ID: 101--> ENDI|STARTI [Basic] b <!--ID: 8--> ENDI|"
        "STARTI [Basic] c <!--ID: 102--> ENDI",
    ),
    (
        "markers inside longer words are text",
        "STARTI [Basic] a ENDING STARTING ENDI",
        [("a ENDING STARTING", "", (), None)],
        "STARTI [Basic] a ENDING STARTING <!--ID: 101--> ENDI",
    ),
    (
        "a code span inside the note is its text",
        "- STARTI [Basic] What does `ENDI` end? Back: a note ENDI",
        [("What does `ENDI` end?", "a note", (), None)],
        "- STARTI [Basic] What does `ENDI` end? Back: a note <!--ID: 101--> ENDI",
    ),
    (
        "beside a code span",
        "`STARTI [Basic] code ENDI` STARTI [Basic] q ENDI",
        [("q", "", (), None)],
        "`STARTI [Basic] code ENDI` STARTI [Basic] q <!--ID: 101--> ENDI",
    ),
    (
        "after a lone backtick and an escaped one",
        r"a ` b \`STARTI [Basic] q ENDI`",
        [("q", "", (), None)],
        r"a ` b \`STARTI [Basic] q <!--ID: 101--> ENDI`",
    ),
]


@pytest.mark.parametrize(
    ("where", "line", "notes", "written"), POSITIONS, ids=[row[0] for row in POSITIONS]
)
@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_an_inline_note_is_read_and_gets_its_id_where_o2a_puts_it(
    where, line, notes, written, newline
):
    text = newline.join(["# Notes", "", "before", line, "after", ""])
    parsed = parse(text)
    assert [p.format() for p in parsed.problems if p.is_error] == []
    assert [read(n) for n in parsed.notes] == notes
    assert all((n.start_line, n.end_line, n.kind) == (4, 4, "inline") for n in parsed.notes)
    after, _ = with_all_ids(text)
    assert after == newline.join(["# Notes", "", "before", written, "after", ""])
    again = parse(after)
    assert again.problems == []
    assert all(n.note_id is not None for n in again.notes)
    # the text before each ID is the note as it was read: same fields, same tags
    fields = [(n.fields, n.tags) for n in again.notes]
    assert fields[: len(notes)] == [({"Front": f, "Back": b}, t) for f, b, t, _ in notes]


def test_two_new_notes_on_a_line_get_their_ids_one_run_after_the_other():
    """A run knows a note by its file and line: two new ones on a line would get one ID."""
    text = "- STARTI [Basic] a ENDI; STARTI [Basic] b ENDI; STARTI [Basic] c ENDI\n"
    parsed = parse(text)
    assert [read(n) for n in parsed.notes] == [("a", "", (), None)]
    (waits,) = parsed.problems
    assert (waits.line, waits.severity) == (1, Severity.WARNING)
    assert "the first goes to Anki" in waits.message
    after, runs = with_all_ids(text)
    assert runs == 3
    assert after == (
        "- STARTI [Basic] a <!--ID: 101--> ENDI; STARTI [Basic] b <!--ID: 102--> ENDI;"
        " STARTI [Basic] c <!--ID: 103--> ENDI\n"
    )
    assert [n.note_id for n in parse(after).notes] == [101, 102, 103]


# (what, text): no inline note and nothing to warn about
NOT_NOTES = [
    ("inside a code span", "see `STARTI [Basic] q Back: a ENDI` for the syntax\n"),
    ("inside a double code span", "``a ` STARTI [Basic] q ENDI``\n"),
    ("inside fenced code", "```\nSTARTI [Basic] q ENDI\n```\n"),
    ("inside fenced code in a list", "- x\n  ~~~\n  STARTI [Basic] q ENDI\n  ~~~\n"),
    ("inside frontmatter", "---\nnote: STARTI [Basic] q ENDI\n---\n"),
    ("a longer word", "RESTARTI [Basic] q ENDI and STARTING [Basic] q ENDI\n"),
    ("the marker as a word, with no `[` and no end", "the STARTI marker\n"),
]


@pytest.mark.parametrize(("what", "text"), NOT_NOTES, ids=[row[0] for row in NOT_NOTES])
def test_where_obsidian_shows_no_inline_note_there_is_none(what, text):
    assert parse(text).notes == parse(text).problems == []


def test_an_inline_note_inside_a_block_is_the_blocks_text():
    parsed = parse("START\nBasic\nq STARTI [Basic] x ENDI\nEND\n")
    assert [(n.kind, n.fields["Front"]) for n in parsed.notes] == [
        ("block", "q STARTI [Basic] x ENDI")
    ]


# (what, text, line of the warning, what it says): text that looks like a card and is none
WARNINGS = [
    ("no end marker", "x\n- STARTI [Basic] What? Back: That.\n", 2, "STARTI without its ENDI"),
    (
        "the end marker on the next line",
        "STARTI [Basic] What?\nBack: That. ENDI\n",
        1,
        "STARTI without its ENDI",
    ),
    (
        "the end marker only inside a code span",
        "STARTI [Basic] What? `ENDI`\n",
        1,
        "STARTI without its ENDI",
    ),
    ("no note type", "> STARTI What? Back: That. ENDI\n", 1, "without a note type"),
    ("an empty note type", "STARTI [ ] What? ENDI\n", 1, "without a note type"),
]


@pytest.mark.parametrize(
    ("what", "text", "line", "says"), WARNINGS, ids=[row[0] for row in WARNINGS]
)
def test_an_inline_note_that_gives_no_card_is_a_warning_at_its_line(what, text, line, says):
    parsed = parse(text)
    assert parsed.notes == []
    (warning,) = parsed.problems
    assert (warning.path, warning.line, warning.severity) == (PATH, line, Severity.WARNING)
    assert says in warning.message


def test_a_begin_marker_that_never_closes_warns_and_the_next_note_is_read():
    parsed = parse("STARTI [Basic] lost STARTI [Basic] q Back: a ENDI\n")
    assert [read(n) for n in parsed.notes] == [("q", "a", (), None)]
    assert [(p.line, p.severity) for p in parsed.problems] == [(1, Severity.WARNING)]


def test_one_warning_per_line_however_many_markers():
    parsed = parse("STARTI [a STARTI [b STARTI [c\n")
    assert [p.line for p in parsed.problems] == [1]


def test_an_unknown_note_type_is_an_error_at_its_line():
    parsed = parse("x\n- STARTI [Basci] q ENDI and STARTI [Basic] r ENDI\n")
    assert [(p.line, p.message) for p in parsed.errors] == [
        (2, "unknown note type 'Basci'; closest known: Basic")
    ]
    assert [read(n) for n in parsed.notes] == [("r", "", (), None)]


@pytest.mark.parametrize(
    ("begin", "end", "line", "fronts"),
    [
        ("::", "::", "a ::[Basic] one:: b ::[Basic] two <!--ID: 1-->::", ["one", "two"]),
        ("Q", "A!", "- Q [Basic] front A! Q [Basic] x <!--ID: 1--> A!", ["front", "x"]),
        ("@`", "`@", "a `code` @`[Basic] q ID: 1`@ and @`[Basic] `r``@", ["q", "`r`"]),
    ],
)
def test_renamed_markers_are_found_anywhere_too(begin, end, line, fronts):
    syntax = Syntax(begin_inline=begin, end_inline=end)
    parsed = parse(line + "\n", syntax=syntax)
    assert parsed.problems == []
    assert [n.fields["Front"] for n in parsed.notes] == fronts


def test_a_custom_regexp_does_not_read_an_inline_notes_line_again():
    """O2A leaves a regexp its match over the whole line: a second card of the same text."""
    parsed = parse("Q: STARTI [Basic] q ENDI\nQ: plain\n", custom_regexps={"Basic": r"^Q: (.+)"})
    assert [(n.kind, n.fields["Front"]) for n in parsed.notes] == [
        ("inline", "q"),
        ("regex", "plain"),
    ]


# Hostile lines: each runs in linear time (a scan from every marker to the end of the line,
# or of every backtick run against the rest, takes minutes here).
HOSTILE = [
    ("200k begin markers", "STARTI " * 200_000, 0, 0),
    ("100k begin markers that open a note", "STARTI [" * 100_000, 0, 1),
    ("100k end markers", "STARTI [Basic] " + "ENDI " * 100_000, 1, 0),
    ("100k notes on one line", "STARTI [Basic] q <!--ID: 1--> ENDI " * 100_000, 100_000, 0),
    ("100k new notes on one line", "STARTI [Basic] q ENDI " * 100_000, 1, 1),
    ("200k backticks", "a" + "`" * 200_000 + " STARTI [Basic] q ENDI", 1, 0),
    (
        "backtick runs of every length",
        "a" + " ".join("`" * k for k in range(1, 600)) + " STARTI [Basic] q ENDI",
        1,
        0,
    ),
    ("100k markers in code spans", "`STARTI` " * 100_000 + "STARTI [Basic] q ENDI", 1, 0),
    ("escaped backticks", ("\\" * 9 + "`") * 20_000 + " STARTI [Basic] q ENDI", 1, 0),
]


@pytest.mark.parametrize(
    ("what", "line", "notes", "problems"), HOSTILE, ids=[row[0] for row in HOSTILE]
)
def test_hostile_lines_parse_in_linear_time(what, line, notes, problems):
    with cpu_seconds_at_most(20):
        parsed = parse(line + "\n")
    assert len(parsed.notes) == notes
    assert len(parsed.problems) == problems


def test_100k_lines_of_list_item_notes_parse_in_linear_time():
    with cpu_seconds_at_most(30):
        parsed = parse("- STARTI [Basic] q ENDI and `STARTI` and STARTI [\n" * 100_000)
    assert len(parsed.notes) == 100_000
    assert len(parsed.problems) == 100_000  # each line's STARTI without its ENDI


# --- `notecards build` writes the IDs: every row, byte for byte -------------------------


def _built(vault: Path, out: Path) -> dict[str, list[int]]:
    """Build after build until no note is new: the IDs each file was given, in order."""
    given: dict[str, list[int]] = defaultdict(list)
    for _ in range(4):
        result = run_build(str(vault), "-o", str(out), "--json")
        assert result.exit_code == 0, result.output
        assigned = json.loads(result.stdout)["ids_assigned"]
        if not assigned:
            return given
        for item in assigned:
            given[item["path"]].append(item["id"])
    raise AssertionError("still assigning IDs after 4 builds")


def _file_of(number: int, where: str, line: str) -> str:
    """A row as a file of its own; its IDs (7, 8) made its own: one ID in two files is an error."""
    own = line.replace("ID: 7", f"ID: {1000 * number + 7}").replace(
        "ID: 8", f"ID: {1000 * number + 8}"
    )
    return f"# {where}\n\n{own}\n"


def test_build_writes_each_rows_ids_and_keeps_every_other_byte(tmp_path):
    rows = list(enumerate(POSITIONS))
    vault = write_vault(
        tmp_path / "v", {f"{i:02}.md": _file_of(i, where, line) for i, (where, line, *_) in rows}
    )
    given = _built(vault, tmp_path / "v.apkg")
    in_files = set()
    for i, (where, *_, written) in rows:
        ids = given[f"{i:02}.md"]
        # the placeholders 101, 102, ... are the IDs the builds gave, in their order
        text = re.sub(
            r"ID: (10\d)\b",
            lambda m, ids=ids: f"ID: {ids[int(m[1]) - 101]}",
            _file_of(i, where, written),
        )
        assert (vault / f"{i:02}.md").read_bytes() == text.encode(), where
        in_files |= {int(n) for n in re.findall(r"ID: (\d+)", text)}
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(tmp_path / "v.apkg")
        assert set(anki.notes()) == in_files


def test_build_keeps_a_bom_and_crlf_around_mid_line_notes(tmp_path):
    text = "\ufeff- a STARTI [Basic] q Back: a ENDI b\r\n> STARTI [Basic] r ENDI\r\n"
    vault = write_vault(tmp_path / "v", {"n.md": text.encode("utf-8")})
    given = _built(vault, tmp_path / "v.apkg")
    first, second = given["n.md"]
    assert (vault / "n.md").read_bytes() == (
        f"\ufeff- a STARTI [Basic] q Back: a <!--ID: {first}--> ENDI b\r\n"
        f"> STARTI [Basic] r <!--ID: {second}--> ENDI\r\n"
    ).encode()
