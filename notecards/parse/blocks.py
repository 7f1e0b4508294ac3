"""The line-level syntax: START/END blocks, inline notes and the file-level lines.

One pass over the lines finds every construct with its line numbers; turning a
block's lines into fields, tags and an ID is a separate pure function, so that
each rule of SYNTAX.md is one small piece that a table-driven test can pin.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache

from notecards.config import DEFAULT_SYNTAX, Syntax
from notecards.model import TextSpan
from notecards.parse.inline import InlineMarkers, InlinePlace, find_inline, inline_markers
from notecards.parse.layout import Layout
from notecards.parse.source import Line, SourceText
from notecards.parse.tags import split_tags
from notecards.problems import Problem, Severity


@dataclass(frozen=True)
class Markers:
    """The patterns of one Syntax (the vault's marker strings, matched literally as O2A's
    escaped regexps do): the line markers only as a whole line at column 0, the inline ones
    anywhere in a line, as words."""

    syntax: Syntax
    start: re.Pattern
    end: re.Pattern
    inline: InlineMarkers
    delete: re.Pattern
    target_deck: re.Pattern  # the value after `: `, or on the next line
    file_tags: re.Pattern
    frozen: re.Pattern


# `(?:\s*\S)*?` stands where a lazy `.*?` would be followed by `\s*`: it stops at the same
# place (the shortest match never ends inside a run of spaces), but the `\s*` after it is
# tried once per run of spaces, not from each space (n^2 steps on a line of n spaces).
_VALUE = r"(?:\s*:\s*(?P<value>(?:\s*\S)*?))?"  # after `TARGET DECK` / `FILE TAGS`


@lru_cache(maxsize=16)
def markers_for(syntax: Syntax = DEFAULT_SYNTAX) -> Markers:
    """Compiled once per distinct Syntax, not per file."""

    def line(marker: str, rest: str = "") -> re.Pattern:
        return re.compile(re.escape(marker) + rest + r"\s*")

    return Markers(
        syntax=syntax,
        start=line(syntax.begin_note),
        end=line(syntax.end_note),
        inline=inline_markers(syntax.begin_inline, syntax.end_inline),
        delete=line(syntax.delete),
        target_deck=line(syntax.target_deck, _VALUE),
        file_tags=line(syntax.file_tags, _VALUE),
        frozen=line(syntax.frozen, r"\s*-\s*(?P<type>.(?:\s*\S)*?)\s*:"),
    )


# The only lines that hold an ID: nothing but the ID, in or out of the comment.
ID_LINE = re.compile(r"\s*(?:<!--\s*ID:\s*(?P<c>\d+)\s*-->|ID:\s*(?P<p>\d+))\s*")
TAGS_LINE = re.compile(r"Tags:(?P<tags>(?:\s*\S)*?)(?:\s*<!--\s*ID:\s*(?P<id>\d+)\s*-->)?\s*")


def id_of(line: str) -> int | None:
    match = ID_LINE.fullmatch(line)
    return int(match.group("c") or match.group("p")) if match else None


@dataclass
class Block:
    """A START ... END block: the lines strictly between the two markers."""

    start: Line
    end: Line
    body: list[Line]
    deletes: bool = False  # holds a DELETE line: the block is a deletion, not a note


@dataclass
class Frozen:
    """`FROZEN - Type:` and the lines under it, up to the next blank line."""

    note_type: str
    line: Line
    body: list[Line]


@dataclass
class FileValue:
    """A file-level setting (TARGET DECK, FILE TAGS) and the lines it spans."""

    value: str
    line: int
    last_line: int


@dataclass(frozen=True)
class Inline:
    """An inline note: where it is in its line."""

    line: Line
    place: InlinePlace


@dataclass
class Scan:
    blocks: list[Block] = field(default_factory=list)
    inline: list[Inline] = field(default_factory=list)
    frozen: list[Frozen] = field(default_factory=list)
    deletions: list[tuple[int, Line, Line]] = field(default_factory=list)  # id, DELETE, ID
    target_deck: FileValue | None = None
    file_tags: FileValue | None = None
    problems: list[Problem] = field(default_factory=list)


def scan_lines(
    source: SourceText, layout: Layout, path: str, markers: Markers | None = None
) -> Scan:
    """Find every block and file-level line, outside frontmatter and fenced code."""
    markers = markers or markers_for()
    syntax = markers.syntax
    is_start, is_end = markers.start.fullmatch, markers.end.fullmatch
    is_delete = markers.delete.fullmatch
    # A line marker matches only at column 0: most lines start with none (a prefix test in
    # C, where three to six regexps a line were a sixth of a small file's parse).
    block_marks = (syntax.begin_note, syntax.end_note, syntax.delete)
    file_marks = (syntax.target_deck, syntax.file_tags, syntax.frozen)
    begin_inline = syntax.begin_inline
    not_text = set(layout.frontmatter_lines) | layout.code_lines
    scan = Scan()
    lines = source.lines
    open_block: Line | None = None
    body: list[Line] = []
    deleting = False
    marked_at = marked_lines(source.text, block_marks)
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        text = line.text
        if not_text and line.number in not_text:
            if open_block is not None:
                body.append(line)  # code inside a card is the card's text
            continue
        marked = text.startswith(block_marks)
        if marked and is_start(text):
            if open_block is not None:
                scan.problems.append(_no_end(path, open_block, syntax))
            open_block, body, deleting = line, [], False
        elif marked and is_end(text):
            if open_block is None:
                message = f"{syntax.end_note} without {syntax.begin_note}"
                scan.problems.append(Problem.at(path, line.number, message, Severity.WARNING))
            else:
                scan.blocks.append(Block(open_block, line, body, deleting))
                open_block = None
        elif marked and is_delete(text):
            following = _following(lines, index, not_text)
            if following is not None and id_of(following.text) is not None:
                scan.deletions.append((id_of(following.text), line, following))
                deleting = open_block is not None
                index += 1
            else:
                message = f"{syntax.delete} must be followed by an ID line"
                scan.problems.append(Problem.at(path, line.number, message))
        elif open_block is not None:  # the body runs on up to the next marked line
            following = bisect_left(marked_at, index)
            stop = marked_at[following] if following < len(marked_at) else len(lines)
            body += lines[index - 1 : stop]
            index = stop
        elif not text.startswith(file_marks):
            if begin_inline in text:
                _scan_inline(scan, line, markers, path)
        elif match := markers.target_deck.fullmatch(text):
            label, following = syntax.target_deck, _following(lines, index, not_text)
            index += _file_value(scan, "target_deck", label, match, line, following, path)
        elif match := markers.file_tags.fullmatch(text):
            label, following = syntax.file_tags, _following(lines, index, not_text)
            index += _file_value(scan, "file_tags", label, match, line, following, path)
        elif match := markers.frozen.fullmatch(text):
            frozen_body = []
            while index < len(lines) and lines[index].text.strip():
                frozen_body.append(lines[index])
                index += 1
            scan.frozen.append(Frozen(match.group("type"), line, frozen_body))
        elif begin_inline in text:
            _scan_inline(scan, line, markers, path)
    if open_block is not None:
        scan.problems.append(_no_end(path, open_block, syntax))
    return scan


def marked_lines(text: str, marks: tuple[str, ...]) -> list[int]:
    """The 0-based indices of the lines of `text` (split on `\\n`) that start with one of
    `marks`, found by `str.find` in C: most of a card file's lines are a block's body,
    which a loop line by line would only append."""
    starts = {0} if text.startswith(marks) else set()
    for mark in marks:
        found = text.find("\n" + mark)
        while found >= 0:
            starts.add(found + 1)
            found = text.find("\n" + mark, found + 1)
    indices, line, counted = [], 0, 0
    for start in sorted(starts):
        line += text.count("\n", counted, start)
        counted = start
        indices.append(line)
    return indices


def _following(lines: list[Line], index: int, not_text: set[int]) -> Line | None:
    """The line at `index` (the one after the line being read), when it is text."""
    if index < len(lines) and lines[index].number not in not_text:
        return lines[index]
    return None


def _scan_inline(scan: Scan, line: Line, markers: Markers, path: str) -> None:
    """A text line's inline notes; a begin marker that starts one and never ends it warns."""
    syntax = markers.syntax
    found = find_inline(line.text, markers.inline)
    scan.inline += [Inline(line, place) for place in found.places]
    if found.unclosed:
        begin, end = syntax.begin_inline, syntax.end_inline
        message = (
            f"{begin} without its {end} on this line: no card from it"
            f" (an inline note is `{begin} [Type] ... {end}` on one line)"
        )
        scan.problems.append(Problem.at(path, line.number, message, Severity.WARNING))


def _no_end(path: str, start: Line, syntax: Syntax) -> Problem:
    message = f"{syntax.begin_note} without {syntax.end_note} (the block is skipped)"
    return Problem.at(path, start.number, message)


def _file_value(
    scan: Scan, name: str, label: str, match: re.Match, line: Line, following, path
) -> int:
    """Record TARGET DECK / FILE TAGS (first one wins); return lines consumed after it."""
    value, consumed, last = match.group("value"), 0, line.number
    if value is None:
        if following is None or not following.text.strip():
            scan.problems.append(Problem.at(path, line.number, f"{label} needs a value"))
            return 0
        value, consumed, last = following.text.strip(), 1, following.number
    if getattr(scan, name) is None:
        setattr(scan, name, FileValue(value, line.number, last))
    return consumed


@dataclass
class BlockContent:
    """What a block's lines say, before the vault's settings apply."""

    note_type: str | None
    fields: dict[str, str]
    tags: list[str]
    note_id: int | None = None
    id_line: int | None = None
    field_lines: dict[str, int] = field(default_factory=dict)
    field_spans: dict[str, TextSpan] = field(default_factory=dict)
    tags_span: TextSpan | None = None
    problems: list[Problem] = field(default_factory=list)


def read_block(
    block: Block,
    field_names_of,
    path: str,
    syntax: Syntax = DEFAULT_SYNTAX,
    newline: str = "\n",
) -> BlockContent:
    """Read a block: note type line, fields by prefix, then the Tags/ID trailer.

    `field_names_of(type_line)` returns the type's field names, or a Problem
    message when the type is unknown. `newline` is the file's, for the spans of a field
    or Tags line the block does not have yet.
    """
    first = next((i for i, line in enumerate(block.body) if line.text.strip()), None)
    if first is None:
        message = f"empty block: the line after {syntax.begin_note} names the note type"
        problem = Problem.at(path, block.start.number, message)
        return BlockContent(None, {}, [], problems=[problem])
    type_line, lines = block.body[first], block.body[first + 1 :]
    note_type = type_line.text.strip()
    names = field_names_of(note_type)
    if isinstance(names, str):
        return BlockContent(None, {}, [], problems=[Problem.at(path, type_line.number, names)])
    content = BlockContent(note_type, {}, [])
    body = _read_trailer(lines, content, path)
    pieces = _field_pieces(body, names)
    content.fields, content.field_lines = _fields_of(pieces)
    end = body[-1].end if body else type_line.end
    content.field_spans = _block_spans(pieces, type_line.end, end, newline)
    if content.tags_span is None:  # a Tags line goes above the ID line, or above END
        id_line = lines[content.id_line - lines[0].number] if content.id_line else block.end
        content.tags_span = TextSpan(id_line.start, id_line.start, "Tags: ", newline)
    return content


def _read_trailer(lines: list[Line], content: BlockContent, path: str) -> list[Line]:
    """Take the ID and Tags lines off the end of a block (either order)."""
    body = list(lines)
    while body and not body[-1].text.strip():
        body.pop()
    for _ in range(2):
        if not body:
            break
        last = body[-1]
        if content.note_id is None and (note_id := id_of(last.text)) is not None:
            content.note_id, content.id_line = note_id, last.number
        elif not content.tags and (tags := TAGS_LINE.fullmatch(last.text)):
            content.tags = split_tags(tags.group("tags"))
            content.tags_span = _value_span(last, *tags.span("tags"))
            if tags.group("id") and content.note_id is None:
                content.note_id, content.id_line = int(tags.group("id")), last.number
                content.problems.append(
                    Problem.at(
                        path,
                        last.number,
                        "the ID shares a line with Tags; put it on its own line above END",
                        Severity.WARNING,
                    )
                )
        else:
            break
        body.pop()
        while body and not body[-1].text.strip():
            body.pop()
    return body


# A piece of a field's text: `line.text[start:end]`. A field is its pieces, joined.
_Piece = tuple[Line, int, int]


def split_fields(
    lines: list[Line], names: tuple[str, ...]
) -> tuple[dict[str, str], dict[str, int]]:
    """Assign lines to fields: `Name:` switches field; text before it is the first field.

    Returns each field's trimmed text and the line its text starts on.
    """
    return _fields_of(_field_pieces(lines, names))


def _fields_of(pieces: dict[str, list[_Piece]]) -> tuple[dict[str, str], dict[str, int]]:
    fields = {name: _joined(parts, "\n") for name, parts in pieces.items()}
    first_line = {}
    for name, parts in pieces.items():
        filled = (line.number for line, start, end in parts if line.text[start:end].strip())
        if (number := next(filled, None)) is not None:
            first_line[name] = number
    return fields, first_line


def _field_pieces(lines: list[Line], names: tuple[str, ...]) -> dict[str, list[_Piece]]:
    """Each field's lines, each from where its text starts (past a `Name:` prefix)."""
    prefixes = _prefixes(names)
    pieces: dict[str, list[_Piece]] = {name: [] for name in names}
    current = pieces[names[0]]
    for line in lines:
        text = line.text
        if text.startswith(prefixes):  # one test in C for the many lines without a prefix
            prefix = next(prefix for prefix in prefixes if text.startswith(prefix))
            current = pieces[prefix[:-1]]
            current.append((line, len(prefix), len(text)))
        else:
            current.append((line, 0, len(text)))
    return pieces


@lru_cache(maxsize=64)
def _prefixes(names: tuple[str, ...]) -> tuple[str, ...]:
    """The `Name:` prefixes of a type's fields, longest first (the one a line takes when
    two match), made once per type, not per block."""
    return tuple(name + ":" for name in sorted(names, key=len, reverse=True))


def _joined(parts: list[_Piece], separator: str) -> str:
    """A field's value from its pieces, as O2A joins them (an empty piece adds nothing
    before the first one that holds text)."""
    texts = [line.text[start:end] for line, start, end in parts]
    first = next((index for index, text in enumerate(texts) if text), len(texts))
    return separator.join(texts[first:]).strip()


def _block_spans(
    pieces: dict[str, list[_Piece]], start: int, end: int, newline: str
) -> dict[str, TextSpan]:
    """Each field's span; a field without a line goes in as one: the first field where the
    body starts (`start`), any other as a `Name:` line where it ends (`end`)."""
    spans = {}
    for index, (name, parts) in enumerate(pieces.items()):
        if not parts:
            at, prefix = (start, "") if index == 0 else (end, f"{name}: ")
            spans[name] = TextSpan(at, at, prefix, newline)
        elif span := _pieces_span(parts, lines_run=True):
            spans[name] = span
    return spans


def _pieces_span(parts: list[_Piece], lines_run: bool) -> TextSpan | None:
    """The span from a field's first non-blank character to its last, when one run of text
    holds them both (with `lines_run`, pieces on consecutive lines without a prefix run
    on; else only one piece is a run); a blank field's gap is at its first piece. None:
    the field's text is in more than one place. `parts` are in line order."""
    first = next((i for i, piece in enumerate(parts) if _filled(piece)), None)
    if first is None:
        return _value_span(*parts[0])
    last = next(i for i in range(len(parts) - 1, first - 1, -1) if _filled(parts[i]))
    if first != last and not (lines_run and _runs_on(parts, first, last)):
        return None
    return TextSpan(_value_span(*parts[first]).start, _value_span(*parts[last]).end)


def _runs_on(parts: list[_Piece], first: int, last: int) -> bool:
    """Whether pieces `first` to `last` are on consecutive lines (a line's number rises by
    one a piece: they only rise), none after the first past a prefix."""
    consecutive = parts[last][0].number - parts[first][0].number == last - first
    return consecutive and not any(column for _, column, _ in parts[first + 1 : last + 1])


def _filled(piece: _Piece) -> bool:
    line, start, end = piece
    return bool(line.text[start:end].strip())


def _value_span(line: Line, start: int, end: int) -> TextSpan:
    """The span of the value in `line.text[start:end]`, trimmed; a blank one's gap."""
    value = line.text[start:end]
    if not value.strip():
        return gap_span(line.text, start, line.start)
    lead = len(value) - len(value.lstrip())
    return TextSpan(line.start + start + lead, line.start + start + len(value.rstrip()))


_BLANK_REST = re.compile(r"\s*\Z")


def gap_span(text: str, at: int, offset: int = 0, lead: str = "") -> TextSpan:
    """Where an empty value at `text[at]` (in a line's text) goes: past the spaces that end
    the line after a prefix, with a space each side where it would touch other text;
    `lead` (a prefix the value needs) goes first. `offset` is where `text` starts."""
    if at and _BLANK_REST.match(text, at):  # a match, not a slice: a line has many notes
        at = len(text)
    before = "" if at == 0 or text[at - 1].isspace() else " "
    after = "" if at == len(text) or text[at].isspace() else " "
    return TextSpan(offset + at, offset + at, before + lead, after)


@dataclass
class InlineContent:
    note_type: str
    fields: dict[str, str]
    tags: list[str]
    note_id: int | None
    end_offset: int  # offset of the end marker in the decoded text (where a new ID goes)
    field_spans: dict[str, TextSpan] = field(default_factory=dict)
    tags_span: TextSpan | None = None


# An ID at the end of the note: after a space, or (the comment, as O2A writes it) touching the
# word before it (`That.<!--ID: 1-->`, where a new ID went just before a touching `ENDI`).
_INLINE_ID = re.compile(r"(?:^|\s|(?=<!--))(?:<!--\s*)?ID:\s*(?P<id>\d+)\s*(?:-->)?\s*$")
_INLINE_TAGS = re.compile(r"(?:^|\s)Tags:(?P<tags>.*)$")
_INLINE_TYPE = re.compile(r"\s*\[(?P<type>[^\]]*)\]")


def read_inline(
    inline: Inline, field_names_of, path: str, markers: Markers | None = None
) -> InlineContent | Problem:
    """`STARTI [Type] front Back: back Tags: a b <!--ID: 1--> ENDI`, on one line. A note
    without a type is a warning (no card); an unknown type is an error."""
    markers = markers or markers_for()
    line, place = inline.line, inline.place
    typed = _INLINE_TYPE.match(line.text, place.inner, place.end_marker)
    note_type = typed.group("type").strip() if typed else ""
    if not note_type:
        begin, end = markers.syntax.begin_inline, markers.syntax.end_inline
        message = f"inline note without a note type: no card (write `{begin} [Basic] ... {end}`)"
        return Problem.at(path, line.number, message, Severity.WARNING)
    names = field_names_of(note_type)
    if isinstance(names, str):
        return Problem.at(path, line.number, names)
    raw = line.text[typed.end() : place.end_marker]
    body = raw.strip()
    at = typed.end() + len(raw) - len(raw.lstrip())  # the body's column
    note_id = None
    if id_match := _INLINE_ID.search(body):
        note_id, body = int(id_match.group("id")), body[: id_match.start()]
    tags: list[str] = []
    tags_span = None
    if tags_match := _INLINE_TAGS.search(body):
        tags, body = split_tags(tags_match.group("tags")), body[: tags_match.start()]
        tags_span = _value_span(line, *(at + column for column in tags_match.span("tags")))
    prefixes = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    pieces: dict[str, list[_Piece]] = {name: [] for name in names}
    name, start = names[0], at
    for found in re.finditer(rf"(?:^|(?<=\s))({prefixes}):(?=\s|$)", body):
        pieces[name].append((line, start, at + found.start()))
        name, start = found.group(1), at + found.end()
    pieces[name].append((line, start, at + len(body)))
    spans = {}
    end = at + len(body.rstrip())  # a field or Tags the note does not have goes here
    for name, parts in pieces.items():
        if not parts:
            spans[name] = gap_span(line.text, end, line.start, f"{name}: ")
        elif span := _pieces_span(parts, lines_run=False):
            spans[name] = span
    return InlineContent(
        note_type,
        {name: _joined(parts, " ") for name, parts in pieces.items()},
        tags,
        note_id,
        line.start + place.end_marker,
        spans,
        tags_span or gap_span(line.text, end, line.start, "Tags: "),
    )
