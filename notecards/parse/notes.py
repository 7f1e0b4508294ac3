"""One markdown file's text -> its notes, deletions and problems (`parse_file`).

`parse_file` is pure (text in, notes out), so the ID write-back can call it again
on a changed text to find where each note now is. Problems with the text never
raise: they come back in `ParsedVault.problems`, each naming its file and line.

Frontmatter: Obsidian's `tags:` property (a list or a string; `a/b` becomes
`a::b`) adds tags to every note of the file, and a `deck:` key (or `anki-deck:`,
for vaults that keep `deck` for something else; `deck` wins when both are set)
sets the deck for every note without a `TARGET DECK` line.
"""

from __future__ import annotations

import difflib
import html
from bisect import bisect_right
from urllib.parse import quote

from notecards.config import Syntax, VaultConfig
from notecards.model import Deletion, IdSlot, Note, ParsedVault, TextSpan
from notecards.parse.blocks import (
    Block,
    Markers,
    Scan,
    markers_for,
    read_block,
    read_inline,
    scan_lines,
    split_fields,
)
from notecards.parse.clozes import has_cloze
from notecards.parse.layout import Heading, Layout, find_layout
from notecards.parse.placement import deck_for_folder, tags_for_folder
from notecards.parse.regex_notes import TAG_PREFIX, RegexMatch, find_regex_notes
from notecards.parse.source import SourceText
from notecards.parse.tags import dedupe, frontmatter_tags, split_tags, strip_obsidian_tags
from notecards.problems import Problem, Severity

ID_TEXT = "<!--ID: {id}-->"
FRONTMATTER_DECK_KEYS = ("deck", "anki-deck")


def _delete_in_block_warning(path: str, line: int, syntax: Syntax) -> Problem:
    """O2A leaves such a block in the file without its ID: say what that means next time."""
    return Problem.at(
        path,
        line,
        f"this card holds {syntax.delete}: sync deletes its note and removes the"
        f" {syntax.delete} and ID lines, but the card itself stays and is added again as a"
        " new note by a later sync or build; remove the card (or its"
        f" {syntax.begin_note}/{syntax.end_note}) to keep it out of Anki",
        Severity.WARNING,
    )


def closest_note_types(name: str, config: VaultConfig) -> list[str]:
    """Known note type names most like `name` (all of them when none is close)."""
    known = list(config.note_types)
    folded = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(folded), n=3, cutoff=0.4)
    return [folded[c] for c in close] or known


def _field_names_of(config: VaultConfig):
    def lookup(name: str) -> tuple[str, ...] | str:
        if name in config.note_types:
            return config.note_types[name].fields
        if not name:
            start = config.syntax.begin_note
            return f"missing note type: the line after {start} names it, e.g. Basic"
        closest = ", ".join(closest_note_types(name, config))
        return f"unknown note type {name!r}; closest known: {closest}"

    return lookup


class _FileContext:
    """What every note of one file shares: deck, tags, headings, frozen fields."""

    def __init__(self, layout: Layout, path: str, config: VaultConfig, scan):
        self.path, self.config = path, config
        front = layout.frontmatter
        front_deck = next((str(front[k]) for k in FRONTMATTER_DECK_KEYS if front.get(k)), None)
        self.deck = (
            (scan.target_deck.value if scan.target_deck else None)
            or front_deck
            or deck_for_folder(config, path)
            or config.default_deck
        )
        self.tags = [
            *(split_tags(scan.file_tags.value) if scan.file_tags else []),
            *frontmatter_tags(front.get("tags")),
            *tags_for_folder(config, path),
            *config.default_tags,
        ]
        # per file, not per note: a note looking through every heading or splitting the
        # frozen lines afresh would make n notes under n headings n^2 steps
        self._heading_lines = [heading.line for heading in layout.headings]
        self._trails = _heading_trails(layout.headings)
        frozen = {f.note_type: f for f in scan.frozen}
        self._frozen_fields = {
            note_type: split_fields(f.body, config.note_types[note_type].fields)[0]
            for note_type, f in frozen.items()
            if note_type in config.note_types
        }

    def note(self, note_type: str, fields: dict[str, str], tags, note_id, start, end, **kw) -> Note:
        own_tags = list(tags)
        if self.config.add_obsidian_tags:
            for name, text in fields.items():
                text, found = strip_obsidian_tags(text)
                fields[name] = text.strip()
                own_tags += found
        return Note(
            note_type=note_type,
            fields=fields,
            tags=dedupe([*own_tags, *self.tags]),
            deck=self.deck,
            note_id=note_id,
            path=self.path,
            start_line=start,
            end_line=end,
            appendix=self._appendix(note_type, start),
            **kw,
        )

    def _appendix(self, note_type: str, line: int) -> dict[str, str]:
        """O2A's extras, in its order: file link, frozen fields, context breadcrumb."""
        names = self.config.note_types[note_type].fields
        extras: dict[str, str] = {}

        def add(field_name: str | None, html_text: str) -> None:
            target = field_name if field_name in names else names[0]
            extras[target] = extras.get(target, "") + html_text

        if self.config.add_file_link:  # the file's path in the Obsidian vault, as other links
            folder = self.config.vault_folder
            file = f"{folder}/{self.path}" if folder else self.path
            vault = quote(self.config.vault_name, safe="")
            url = f"obsidian://open?vault={vault}&file={quote(file, safe='')}"
            link = f'<br><a href="{html.escape(url)}" class="obsidian-link">Obsidian</a>'
            add(self.config.file_link_fields.get(note_type), link)
        for name, text in self._frozen_fields.get(note_type, {}).items():
            if text:
                add(name, text)
        if self.config.add_context:
            add(
                self.config.context_fields.get(note_type),
                html.escape(self._context(line), quote=False),
            )
        return extras

    def _context(self, line: int) -> str:
        """`path > Heading > Subheading` for the headings above a line (O2A's context)."""
        above = bisect_right(self._heading_lines, line)
        trail = self._trails[above - 1] if above else ()
        return " > ".join([self.path, *(h.title for h in trail)])


def _heading_trails(headings: tuple[Heading, ...]) -> list[tuple[Heading, ...]]:
    """For each heading, the headings it sits under, then itself."""
    trails = []
    trail: tuple[Heading, ...] = ()
    for heading in headings:
        trail = (*(h for h in trail if h.level < heading.level), heading)
        trails.append(trail)
    return trails


def parse_file(text: str, path: str, config: VaultConfig) -> ParsedVault:
    """Every note, deletion and problem in one file's text (newlines as on disk)."""
    source = SourceText(text)
    layout = find_layout(source, path)
    markers = markers_for(config.syntax)
    scan = scan_lines(source, layout, path, markers)
    result = ParsedVault(problems=[*layout.problems, *scan.problems])
    result.line_scanned = layout.line_scanned
    context = _FileContext(layout, path, config, scan)
    lookup = _field_names_of(config)
    notes: list[Note] = []
    for block in scan.blocks:
        if not block.deletes:
            notes += _block_note(block, source, context, lookup, result)
        else:
            warning = _delete_in_block_warning(path, block.start.number, config.syntax)
            result.problems.append(warning)
    notes += _inline_notes(scan, context, lookup, markers, result)
    regex_notes, regex_problems = _regex_notes(source, layout, scan, context, config)
    notes += regex_notes
    result.problems += regex_problems
    for note_id, delete_line, id_line in scan.deletions:
        result.deletions.append(
            Deletion(note_id, path, delete_line.number, delete_line.start, id_line.end)
        )
    result.notes = sorted(notes, key=lambda n: n.start_line)
    return result


def _inline_notes(
    scan: Scan, context: _FileContext, lookup, markers: Markers, result: ParsedVault
) -> list[Note]:
    """The notes of the inline notes found. One line gives at most one new note (one without
    an ID) per run: a run knows a note by its file and line, and two new ones on a line would
    get the same ID; each further one is read on a later run, once the one before has its ID."""
    notes = []
    new_on: set[int] = set()  # lines that already gave a new note
    waiting: set[int] = set()  # lines where one more waits
    for inline in scan.inline:
        line = inline.line
        content = read_inline(inline, lookup, context.path, markers)
        if isinstance(content, Problem):
            result.problems.append(content)
            continue
        slot = id_line = None
        if content.note_id is None:
            if line.number in new_on:
                if line.number not in waiting:
                    waiting.add(line.number)
                    result.problems.append(_waiting(context.path, line.number, markers))
                continue
            new_on.add(line.number)
            slot = IdSlot(content.end_offset, ID_TEXT + " ")
        else:
            id_line = line.number
        notes.append(
            context.note(
                content.note_type,
                content.fields,
                content.tags,
                content.note_id,
                line.number,
                line.number,
                id_slot=slot,
                id_line=id_line,
                field_lines={name: line.number for name in content.fields},
                field_spans=content.field_spans,
                tags_span=content.tags_span,
                kind="inline",
            )
        )
    return notes


def _waiting(path: str, line: int, markers: Markers) -> Problem:
    message = (
        f"more than one new {markers.syntax.begin_inline} note on this line: the first goes"
        " to Anki (and gets its ID) now, each other on a later build or sync (a run adds one"
        " new inline note per line)"
    )
    return Problem.at(path, line, message, Severity.WARNING)


def _block_note(
    block: Block, source: SourceText, context: _FileContext, lookup, result
) -> list[Note]:
    content = read_block(block, lookup, context.path, context.config.syntax, source.newline)
    result.problems += content.problems
    if content.note_type is None:
        return []
    slot = None
    if content.note_id is None:
        slot = IdSlot(block.end.start, ID_TEXT + source.newline)
    return [
        context.note(
            content.note_type,
            content.fields,
            content.tags,
            content.note_id,
            block.start.number,
            block.end.number,
            id_slot=slot,
            id_line=content.id_line,
            field_lines=content.field_lines,
            field_spans=content.field_spans,
            tags_span=content.tags_span,
        )
    ]


def _taken_spans(source: SourceText, layout: Layout, scan) -> list[tuple[int, int]]:
    """Lines a custom regexp may not match inside (in `lf_text` offsets)."""
    span = source.lf_span
    spans = [span(b.start.number, b.end.number) for b in scan.blocks]
    # the whole line of an inline note (O2A takes the note alone: a custom regexp that
    # matches the whole line makes a second card of the same text)
    lines = sorted({inline.line.number for inline in scan.inline})
    spans += [span(number, number) for number in lines]
    spans += [
        span(f.line.number, f.body[-1].number if f.body else f.line.number) for f in scan.frozen
    ]
    for value in (scan.target_deck, scan.file_tags):
        if value:
            spans.append(span(value.line, value.last_line))
    if layout.frontmatter_lines:
        spans.append(span(layout.frontmatter_lines[0], layout.frontmatter_lines[-1]))
    spans += [span(n, n) for n in layout.code_lines if 1 <= n <= len(source.lines)]
    return spans


def _regex_notes(
    source, layout, scan, context: _FileContext, config: VaultConfig
) -> tuple[list[Note], list[Problem]]:
    regexps = {t: p for t, p in config.custom_regexps.items() if t in config.note_types}
    if not regexps:
        return [], []

    def keeps(note_type: str, groups: tuple[str, ...]) -> bool:
        if not config.note_types[note_type].is_cloze:
            return True
        return any(has_cloze(g, config) for g in groups)

    notes = []
    taken = _taken_spans(source, layout, scan)
    matches, problems = find_regex_notes(source, regexps, taken, keeps, context.path)
    for found in matches:
        names = config.note_types[found.note_type].fields
        fields = {name: "" for name in names}
        field_lines, field_spans = {}, {}
        for name, text, span in zip(names, found.groups, found.group_spans, strict=False):
            fields[name] = text.strip()
            at = found.start if span is None else span[0] + len(text) - len(text.lstrip())
            field_lines[name] = source.line_at_lf(at).number
            if span is not None:
                field_spans[name] = _lf_value_span(source, *span)
        start = source.line_at_lf(found.start).number
        end = source.line_at_lf(max(found.end - 1, found.start)).number
        slot = id_line = None
        if found.note_id is None:
            slot = IdSlot(source.offset_from_lf(found.end), source.newline + ID_TEXT)
        else:
            id_line = source.line_at_lf(found.id_start).number
        notes.append(
            context.note(
                found.note_type,
                fields,
                found.tags,
                found.note_id,
                start,
                end,
                id_slot=slot,
                id_line=id_line,
                field_lines=field_lines,
                field_spans=field_spans,
                tags_span=_regex_tags_span(source, found),
                kind="regex",
            )
        )
    return notes, problems


def _lf_value_span(source: SourceText, start: int, end: int, edges: str | None = None) -> TextSpan:
    """The span of `lf_text[start:end]` without the `edges` characters (whitespace) at its
    ends (a blank one: where it starts), as offsets into the decoded text. No spaces are
    added around a new value: the note's regexp alone says what may touch it."""
    text = source.lf_text[start:end]
    start += len(text) - len(text.lstrip(edges))
    end = start + len(text.strip(edges))
    return TextSpan(source.offset_from_lf(start), source.offset_from_lf(end))


def _regex_tags_span(source: SourceText, found: RegexMatch) -> TextSpan:
    """The tags after the match's `Tags: `, or where O2A's `(Tags: .*)` group would match:
    right where the user's regexp stops (on a line of its own when that is a line start)."""
    if found.tags_span is not None:
        return _lf_value_span(source, *found.tags_span, " ")  # the tags are split on spaces
    at = found.suffix_start
    before = source.lf_text[at - 1] if at else ""
    gap = " " if before and not before.isspace() else ""
    after = source.newline if before == "\n" else ""
    offset = source.offset_from_lf(at)
    return TextSpan(offset, offset, gap + TAG_PREFIX, after)
