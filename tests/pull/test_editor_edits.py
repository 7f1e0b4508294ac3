"""Real edits made in Anki's editor come home as the edit the person made.

`../shared/ankiconnect/editor-edits.jsonl` holds, per field, what notecards rendered and what
Anki held after a person edited it (or only opened it) in the Anki desktop editor, on the
seed's notes and the vaults beside the recording. Each field edit is brought home as the pull
does it: the edit between the two converted HTMLs placed on the vault's markdown
(`place_edit`), else the whole field converted. The markdown must render to what Anki holds
(`shows_the_same`: in Anki's form, up to the line breaks between blocks), and it must differ
from the vault's only where the person edited: every line the edit left alone keeps its bytes.
Recordings of one field build on each other in file order (an edit is made on the field as
the one before left it), so each starts from the markdown the one before brought home.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import unquote

import pytest

from notecards.model import Note
from notecards.pull.html_to_markdown import vault_html_to_markdown
from notecards.pull.patch import place_edit
from notecards.render import Renderer
from notecards.render.compare import shows_the_same
from notecards.vault import load_vault
from tests.helpers.paths import SHARED, USER_NOTES

RECORDED = SHARED / "ankiconnect"
RECORDINGS = RECORDED / "editor-edits.jsonl"
if not RECORDINGS.is_file():
    pytest.skip(
        "the editor's recordings live in ../shared/ankiconnect (not in a fresh clone)",
        allow_module_level=True,
    )
LINES = [json.loads(line) for line in RECORDINGS.read_text(encoding="utf-8").splitlines()]
# Tag edits are the sync's (the block's `Tags:` line), not the converter's.
FIELD_EDITS = [(n, line) for n, line in enumerate(LINES, 1) if line["field"] != "tags"]
_VAULT_IN_LINK = re.compile(r"obsidian://open\?vault=([^&\"]+)&amp;")


@dataclass(frozen=True)
class Field:
    """A recorded note's field in its vault: its markdown there, and how it renders."""

    note: Note
    name: str
    renderer: Renderer
    cloze: bool

    @property
    def markdown(self) -> str:
        return self.note.fields[self.name]

    def render(self, markdown: str) -> str:
        line = self.note.field_lines.get(self.name, self.note.start_line)
        return self.renderer.render_field(
            markdown, cloze=self.cloze, path=self.note.path, line=line
        ).html

    def convert(self, html: str) -> str:
        return vault_html_to_markdown(html, self.renderer.config, cloze=self.cloze)


def recorded_fields() -> dict[tuple[int, str], Field]:
    """Every field of the notes the recordings name, by (note id, field name). A vault is
    named as its links were when it was recorded (the recording's `obsidian://` links say
    so; the folders were renamed since)."""
    names: dict[int, str] = {}
    for line in LINES:
        if found := _VAULT_IN_LINK.search(line["html_before"]):
            names[int(line["note_id"])] = unquote(found[1])
    roots = [USER_NOTES, *sorted(p for p in (RECORDED / "editor-edits-vaults").iterdir())]
    fields = {}
    for root in roots:
        vault = load_vault(root)
        for note in vault.parsed.notes:
            name = names.get(note.note_id or 0, vault.config.vault_name)
            renderer = Renderer(replace(vault.config, vault_name=name), root)
            note_type = vault.config.note_types[note.note_type]
            for field in note_type.fields:
                fields[note.note_id, field] = Field(note, field, renderer, note_type.is_cloze)
    return fields


@dataclass(frozen=True)
class Pull:
    """One recording brought home: the markdown it started from, the markdown written (None:
    nothing), and how ("patch", "rewrite")."""

    base: str | None
    markdown: str | None
    how: str
    converted: tuple[str, str]  # the recording's HTML before and after, converted


def pull(field: Field, base: str, before: str, after: str) -> tuple[str | None, str]:
    """The pull's way: the edit placed as a patch, else the field converted whole; each
    only where it renders to what Anki holds."""
    placed = place_edit(field.convert(before), field.convert(after), base)
    if placed is not None and shows_the_same(field.render(placed), after):
        return placed, "patch"
    whole = field.convert(after)
    if shows_the_same(field.render(whole), after):
        return whole, "rewrite"
    return None, "not at all"


def pulls() -> Iterator[tuple[int, Pull]]:
    """Each field recording brought home, in file order: each starts from the vault's
    markdown if that is what Anki held before it, else from what the one before brought
    home (None where neither renders to it)."""
    fields = recorded_fields()
    current: dict[tuple[int, str], str] = {}
    for number, line in FIELD_EDITS:
        key = (int(line["note_id"]), line["field"])
        field = fields[key]
        before, after = line["html_before"], line["html_after"]
        converted = (field.convert(before), field.convert(after))
        candidates = [field.markdown, current.get(key)]
        base = next(
            (c for c in candidates if c is not None and shows_the_same(field.render(c), before)),
            None,
        )
        if base is None:
            yield number, Pull(None, None, "not at all", converted)
            continue
        markdown, how = pull(field, base, before, after)
        if markdown is not None:
            current[key] = markdown
        yield number, Pull(base, markdown, how, converted)


@pytest.fixture(scope="module")
def brought_home() -> dict[int, Pull]:
    return dict(pulls())


def lines_changed(old: str, new: str) -> int:
    """How many lines of `old` are gone from `new` or changed there."""
    matcher = difflib.SequenceMatcher(None, old.split("\n"), new.split("\n"), autojunk=False)
    return sum(i2 - i1 for tag, i1, i2, _, _ in matcher.get_opcodes() if tag != "equal")


def label(number: int, line: dict) -> str:
    return f"{number}-{line['kind']}-{line['note_id']}-{line['field']}"


NO_CHANGE = [(n, line) for n, line in FIELD_EDITS if line["kind"].startswith("no_change")]
EDITS = [(n, line) for n, line in FIELD_EDITS if not line["kind"].startswith("no_change")]


@pytest.mark.parametrize(("number", "line"), NO_CHANGE, ids=[label(*x) for x in NO_CHANGE])
def test_opening_a_note_changes_no_markdown(brought_home, number: int, line: dict) -> None:
    """Opening or clicking (the editor may rewrite `<br />`, math's newlines): the converter
    sees no edit, and the vault's markdown is left byte for byte."""
    pulled = brought_home[number]
    assert pulled.converted[0] == pulled.converted[1]
    assert pulled.base is not None, "the field's markdown renders to what Anki held before"
    assert pulled.markdown == pulled.base
    assert pulled.how == "patch"


@pytest.mark.parametrize(("number", "line"), EDITS, ids=[label(*x) for x in EDITS])
def test_an_edit_comes_home_as_the_persons_edit(brought_home, number: int, line: dict) -> None:
    pulled = brought_home[number]
    assert pulled.base is not None, "the field's markdown renders to what Anki held before"
    assert pulled.markdown is not None, f"nothing comes home for {line['keystrokes']!r}"
    # The change to the markdown is as small as the person's edit: no more of the vault's
    # lines change than the edit changed of the converted ones; the others keep their bytes.
    assert lines_changed(pulled.base, pulled.markdown) <= lines_changed(*pulled.converted)
    assert pulled.markdown != pulled.base


def test_every_field_recording_is_checked() -> None:
    """No recording of a field escapes both tests (a kind neither reads)."""
    assert len(NO_CHANGE) + len(EDITS) == len(FIELD_EDITS) > 0
    assert any(line["kind"].startswith("no_change") for _, line in FIELD_EDITS)
