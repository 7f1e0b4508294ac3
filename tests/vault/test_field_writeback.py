"""Writing edits made in Anki into the markdown: only the edited text changes, atomically, in
the file's own newline and encoding; what cannot be written as asked is reported."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notecards.config import VaultConfig
from notecards.model import Note
from notecards.parse import parse_file
from notecards.vault import FieldUpdate, write_fields
from notecards.vault import field_writeback as module
from notecards.vault.files import read_markdown
from notecards.vault.parse_cache import ParseCache
from tests.helpers.vault import write_vault

CONFIG = VaultConfig(vault_name="vault")
# Wrapping, `*` markers, math, a wikilink with an alias, an embed, tags and the ID line.
CARD = (
    "# Topic\n\nSTART\nBasic\nWhat does $\\beta$ weigh in\n  the [[DPO|loss]]?\n"
    "Back: * the KL term agianst\n  the reference\n* see ![[plot.png|200]]\n"
    "Tags: ml  dpo\n<!--ID: 1764591468178-->\nEND\n\nprose after\n"
)


def read(root: Path, rel: str = "a.md") -> tuple[list[Note], dict]:
    text, snapshot = read_markdown(root, rel)
    return parse_file(text, rel, CONFIG).notes, {rel: snapshot}


def write(root: Path, *changes, rel: str = "a.md", notes=None, snapshots=None):
    """`changes`: (index of the note in the file, fields, tags) for each update."""
    if notes is None:
        notes, snapshots = read(root, rel)
    updates = [FieldUpdate(notes[i], fields, tags) for i, fields, tags in changes]
    return write_fields(root, snapshots, updates, config=CONFIG)


@pytest.mark.parametrize(
    ("encoding", "newline"),
    [("utf-8", "\n"), ("utf-8", "\r\n"), ("utf-8-sig", "\n"), ("utf-8-sig", "\r\n")],
)
def test_a_typo_fixed_in_anki_changes_that_word_and_no_other_byte(tmp_path, encoding, newline):
    text = CARD.replace("\n", newline)
    root = write_vault(tmp_path, {"a.md": text.encode(encoding)})
    [note], _ = read(root)
    back = note.fields["Back"].replace("agianst", "against")
    result = write(root, (0, {"Back": back}, None))
    assert result.problems == [] and result.files_written == ["a.md"]
    assert result.written == {("a.md", note.start_line)}
    assert (root / "a.md").read_bytes() == text.replace("agianst", "against").encode(encoding)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_new_line_in_a_field_gets_the_files_newline(tmp_path, newline):
    root = write_vault(tmp_path, {"a.md": CARD.replace("\n", newline).encode()})
    [note], _ = read(root)
    write(root, (0, {"Front": "What does $\\beta$ weigh?\n\nIn DPO.\r\nReally."}, None))
    expected = CARD.replace("What does $\\beta$ weigh in\n  the [[DPO|loss]]?", "What does "
                            "$\\beta$ weigh?\n\nIn DPO.\nReally.")  # fmt: skip
    assert (root / "a.md").read_bytes() == expected.replace("\n", newline).encode()
    [again], _ = read(root)
    assert again.fields["Front"] == "What does $\\beta$ weigh?\n\nIn DPO.\nReally."


# (what it shows, file, new fields, new tags, the file after)
WRITES = [
    (
        "tags replace the value of the Tags line, the rest of the line kept",
        "START\nBasic\nq\nBack: a\nTags: a b <!--ID: 5-->\nEND\n",
        {},
        ("c", "x::y"),
        "START\nBasic\nq\nBack: a\nTags: c x::y <!--ID: 5-->\nEND\n",
    ),
    (
        "a note without tags gets a Tags line above its ID line, as O2A writes it",
        "START\r\nBasic\r\nq\r\nBack: a\r\n<!--ID: 5-->\r\nEND\r\n",
        {},
        ("ml",),
        "START\r\nBasic\r\nq\r\nBack: a\r\nTags: ml\r\n<!--ID: 5-->\r\nEND\r\n",
    ),
    (
        "removing every tag leaves the Tags line without a value",
        "START\nBasic\nq\nTags: a\nEND\n",
        {},
        (),
        "START\nBasic\nq\nTags: \nEND\n",
    ),
    (
        "an inline note stays on its line",
        "x\nSTARTI [Basic] q Back: old text Tags: t <!--ID: 3--> ENDI\ny\n",
        {"Back": "new text"},
        ("t", "u"),
        "x\nSTARTI [Basic] q Back: new text Tags: t u <!--ID: 3--> ENDI\ny\n",
    ),
    (
        "a field the block did not have gets its line",
        "START\nBasic\nq\n<!--ID: 5-->\nEND\n",
        {"Back": "a"},
        None,
        "START\nBasic\nq\nBack: a\n<!--ID: 5-->\nEND\n",
    ),
    (
        "a value already in the file is not written again",
        "START\nBasic\nq\nBack: a\nEND\n",
        {"Back": " a\n"},
        None,
        "START\nBasic\nq\nBack: a\nEND\n",
    ),
]


@pytest.mark.parametrize(("shows", "text", "fields", "tags", "after"), WRITES)
def test_what_is_written(tmp_path, shows, text, fields, tags, after):
    root = write_vault(tmp_path, {"a.md": text})
    before = (root / "a.md").stat().st_mtime_ns
    [note], _ = read(root)
    result = write(root, (0, fields, tags))
    assert result.problems == [] and result.written == {("a.md", note.start_line)}
    assert (root / "a.md").read_bytes() == after.encode()
    assert result.files_written == ([] if text == after else ["a.md"])
    if text == after:
        assert (root / "a.md").stat().st_mtime_ns == before


def test_several_notes_and_fields_in_a_file_are_one_write(tmp_path, monkeypatch):
    text = CARD + "START\nBasic\nsecond\nBack: two\nEND\nSTARTI [Basic] third Back: 3 ENDI\n"
    root = write_vault(tmp_path, {"a.md": text})
    calls = []
    real = module._atomic_replace
    monkeypatch.setattr(module, "_atomic_replace", lambda *a: calls.append(a) or real(*a))
    result = write(root, (0, {"Front": "First?", "Back": "One."}, ("t",)), (1, {"Back": "2"}, None),
                   (2, {"Front": "third!"}, None))  # fmt: skip
    assert result.problems == [] and len(result.written) == 3 and len(calls) == 1
    assert [n.fields for n in read(root)[0]] == [
        {"Front": "First?", "Back": "One."},
        {"Front": "second", "Back": "2"},
        {"Front": "third!", "Back": "3"},
    ]


# (what it shows, file, index of the note, fields, tags, words in the problem)
REFUSED = [
    (
        "a line break for an inline note",
        "STARTI [Basic] q Back: a ENDI\n",
        {"Back": "one\ntwo"},
        None,
        "written on one line",
    ),
    (
        "a value holding a field prefix",
        "START\nBasic\nq\nBack: a\nEND\n",
        {"Front": "q\nBack: sneaky"},
        None,
        "would not read back",
    ),
    (
        "a value holding the end marker",
        "START\nBasic\nq\nBack: a\nEND\n",
        {"Back": "a\nEND\nmore"},
        None,
        "would not read back",
    ),
    (
        "a value ending in an ID line",
        "START\nBasic\nq\nBack: a\nEND\n",
        {"Back": "a\n<!--ID: 99-->"},
        None,
        "would not read back",
    ),
    (
        "a value opening a code fence",
        "START\nBasic\nq\nBack: a\nEND\n",
        {"Back": "a\n```\ncode"},
        None,
        "would not read back",
    ),
    ("a tag with a space", "START\nBasic\nq\nEND\n", {}, ("a b",), "not one word"),
    ("a tag with a slash", "START\nBasic\nq\nEND\n", {}, ("a/b",), "not one word"),
    ("a field the type lacks", "START\nBasic\nq\nEND\n", {"Extra": "x"}, None, "no field"),
    (
        "a field written twice",
        "START\nBasic\nBack: a\nFront: q\nBack: b\nEND\n",
        {"Back": "c"},
        None,
        "more than one place",
    ),
]


@pytest.mark.parametrize(("shows", "text", "fields", "tags", "words"), REFUSED)
def test_what_cannot_be_written_is_reported_and_the_file_left_alone(
    tmp_path, shows, text, fields, tags, words
):
    root = write_vault(tmp_path, {"a.md": text})
    result = write(root, (0, fields, tags))
    assert result.written == set() and result.files_written == []
    [problem] = result.problems
    assert (problem.path, problem.line) == ("a.md", 1) and words in problem.message
    assert (root / "a.md").read_text() == text


def test_a_refused_note_leaves_the_others_of_its_file_written(tmp_path):
    text = "START\nBasic\nq\nBack: a\nEND\nSTART\nBasic\nr\nBack: b\nEND\n"
    root = write_vault(tmp_path, {"a.md": text})
    result = write(root, (0, {"Back": "x\nEND"}, None), (1, {"Back": "y"}, None))
    assert result.written == {("a.md", 6)} and [p.line for p in result.problems] == [1]
    assert (root / "a.md").read_text() == text.replace("Back: b", "Back: y")


def test_a_read_only_file_is_never_written(tmp_path):
    root = write_vault(tmp_path, {"a.md": CARD})
    os.chmod(root / "a.md", stat.S_IRUSR)
    result = write(root, (0, {"Back": "new"}, None))
    assert result.written == set() and "read-only" in result.problems[0].message
    assert (root / "a.md").read_text() == CARD


def test_a_file_edited_meanwhile_gets_the_edit_where_the_note_is_now(tmp_path):
    root = write_vault(tmp_path, {"a.md": CARD})
    notes, snapshots = read(root)
    (root / "a.md").write_text("a new first line\n" + CARD.replace("Topic", "Subject"))
    result = write(root, (0, {"Front": "Why?"}, None), notes=notes, snapshots=snapshots)
    assert result.problems == [] and result.written == {("a.md", notes[0].start_line)}
    [now], _ = read(root)
    assert now.fields["Front"] == "Why?" and now.start_line == notes[0].start_line + 1
    assert (root / "a.md").read_text().startswith("a new first line\n# Subject\n")


def test_a_field_edited_in_the_vault_meanwhile_is_not_overwritten(tmp_path):
    root = write_vault(tmp_path, {"a.md": CARD})
    notes, snapshots = read(root)
    edited = CARD.replace("agianst", "versus")
    (root / "a.md").write_text(edited)
    result = write(root, (0, {"Back": "from Anki"}, None), notes=notes, snapshots=snapshots)
    assert result.written == set() and "changed on disk" in result.problems[0].message
    assert (root / "a.md").read_text() == edited


def test_a_file_changed_between_read_and_rename_is_read_again(tmp_path, monkeypatch):
    root = write_vault(tmp_path, {"a.md": CARD})
    real = module._atomic_replace
    edits = iter(["intro\n" + CARD])

    def edited_meanwhile(target, data, expected):
        if (change := next(edits, None)) is not None:
            target.write_text(change)  # the user saves while we write
        return real(target, data, expected)

    monkeypatch.setattr(module, "_atomic_replace", edited_meanwhile)
    result = write(root, (0, {"Front": "Why?"}, None))
    assert result.problems == []
    assert (root / "a.md").read_text().startswith("intro\n# Topic\n")
    assert read(root)[0][0].fields["Front"] == "Why?"


def test_the_parse_cache_holds_the_written_text(tmp_path):
    root = write_vault(tmp_path, {"a.md": CARD})
    notes, snapshots = read(root)
    cache = ParseCache(root, CONFIG)
    update = FieldUpdate(notes[0], {"Back": "new"}, ("x",))
    write_fields(root, snapshots, [update], config=CONFIG, parse_cache=cache)
    text, snapshot = read_markdown(root, "a.md")
    assert cache.get("a.md", snapshot.digest) is None  # put, not yet saved: read from a new one
    cache.save()
    assert ParseCache(root, CONFIG).get("a.md", snapshot.digest) == parse_file(text, "a.md", CONFIG)


# --- property: whatever the file and the new values, only the spans change ---

TEXT = st.text(alphabet="abxy $[]|!*-_.,()", min_size=0, max_size=10)
FIELD_VALUE = st.lists(TEXT, max_size=3).map("\n".join)
NOTES = [
    "START\nBasic\n{0}\nBack: {1}\nTags: a\n<!--ID: {n}-->\nEND",
    "START\nBasic\nFront:{0}\n\nBack:\n{1}\n\nEND",
    "START\nBasic\n{0}\nEND",
    "STARTI [Basic] {0} Back: {1} ENDI",
    "STARTI [Basic] {0} Tags: t <!--ID: {n}--> ENDI",
]


@st.composite
def vaults(draw):
    """A file of notes and prose, its encoding and newline, and new values for some notes."""
    chosen = draw(st.lists(st.sampled_from(NOTES), min_size=1, max_size=4))
    one_line = TEXT.map(str.strip)
    notes = [
        form.format(draw(one_line), draw(one_line), n=n) for n, form in enumerate(chosen, start=1)
    ]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = "\n\nsome prose\n".join(["intro", *notes, "end"]).replace("\n", newline)
    changes = []
    for index, form in enumerate(chosen):
        if draw(st.booleans()):
            values = one_line if form.startswith("STARTI") else FIELD_VALUE
            fields = draw(st.dictionaries(st.sampled_from(["Front", "Back"]), values, max_size=2))
            tags = draw(st.one_of(st.none(), st.lists(st.sampled_from(["p", "q::r"]), max_size=2)))
            changes.append((index, fields, tags))
    return text, draw(st.sampled_from(["utf-8", "utf-8-sig"])), newline, changes


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(vaults())
def test_the_file_changes_only_inside_the_spans_of_what_was_written(tmp_path, vault):
    text, encoding, newline, changes = vault
    root = write_vault(tmp_path / "vault", {"a.md": text.encode(encoding)})
    notes, _ = read(root)
    result = write(root, *changes)
    assert result.problems == []
    assert result.written == {("a.md", notes[i].start_line) for i, _, _ in changes}
    edits = []
    for index, fields, tags in changes:
        note = notes[index]
        for name in (name for name in note.fields if name in fields):  # the type's order
            edits.append((note.field_spans[name], fields[name].strip().replace("\n", newline)))
        if tags is not None:
            edits.append((note.tags_span, " ".join(tags)))
    expected, at = "", 0
    for span, value in sorted(edits, key=lambda edit: edit[0].start):
        expected += text[at : span.start] + span.filled(value)
        at = span.end
    assert (root / "a.md").read_bytes() == (expected + text[at:]).encode(encoding)
