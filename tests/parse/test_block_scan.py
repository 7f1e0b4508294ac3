"""The line scan finds a block's body by jumping between marked lines (those that start
with a line marker): the same lines as taking them one by one, whatever the file holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from notecards.parse.blocks import marked_lines, markers_for, scan_lines
from notecards.parse.layout import find_layout
from notecards.parse.source import SourceText

LINES = [
    "START",
    "START  ",
    "STARTING",
    "END",
    "ENDI",
    " END",
    "DELETE",
    "<!--ID: 12-->",
    "ID: 3",
    "Basic",
    "Back: b",
    "```",
    "~~~",
    "---",
    "# Heading",
    "text STARTI [Basic] a ENDI",
    "",
    "\r",
]
MARKS = st.lists(st.sampled_from(["START", "END", "ENDI", "DELETE", "S", "\r", "#"]), min_size=1)


def _text(lines: list[str], newline: str) -> str:
    return newline.join(lines)


@given(st.lists(st.sampled_from(LINES)), MARKS, st.sampled_from(["\n", "\r\n"]))
def test_marked_lines_are_the_lines_that_start_with_a_mark(
    lines: list[str], marks: list[str], newline: str
) -> None:
    text = _text(lines, newline)
    expected = [
        index
        for index, line in enumerate(SourceText(text).lines)
        if line.text.startswith(tuple(marks))
    ]
    found = marked_lines(text, tuple(marks))
    assert set(expected) <= set(found)  # a line missed would be read as a block's body
    if not any("\r" in mark for mark in marks):  # a `\r` ending a line is not its text
        assert found == expected


@settings(max_examples=500)
@given(st.lists(st.sampled_from(LINES)), st.sampled_from(["\n", "\r\n"]))
def test_a_block_body_is_every_line_between_its_markers_but_a_deletion(
    lines: list[str], newline: str
) -> None:
    source = SourceText(_text(lines, newline))
    layout = find_layout(source, "a.md")
    scan = scan_lines(source, layout, "a.md")
    deleted = {line.number for _, *pair in scan.deletions for line in pair}
    markers = markers_for()
    assert [(b.start.number, b.end.number) for b in scan.blocks] == _blocks(source, layout)
    is_delete = markers.delete.fullmatch  # a DELETE line without its ID too
    for block in scan.blocks:
        between = source.lines[block.start.number : block.end.number - 1]
        assert block.body == [
            line
            for line in between
            if line.number not in deleted
            and not (layout.is_text(line.number) and is_delete(line.text))
        ]


def _blocks(source: SourceText, layout) -> list[tuple[int, int]]:
    """The START and END line of each block, line by line (LINES has no file-level line
    that takes the next lines for its own)."""
    markers, opened, blocks = markers_for(), None, []
    for line in source.lines:
        if not layout.is_text(line.number):
            continue
        if markers.start.fullmatch(line.text):
            opened = line.number
        elif markers.end.fullmatch(line.text) and opened is not None:
            blocks.append((opened, line.number))
            opened = None
    return blocks
