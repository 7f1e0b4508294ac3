"""Vaults whose O2A settings rename the markers (START, END, STARTI, ...) read as O2A reads them.

O2A keeps the markers in data.json under settings.Syntax and matches them literally (its
regexps escape them); notecards applies its own rules to them: a whole line at column 0,
trailing whitespace accepted, nothing inside fenced code.
"""

from __future__ import annotations

import json
from dataclasses import astuple, fields, replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from notecards.build import build_vault
from notecards.cli import cli
from notecards.config import O2A_SETTINGS, Syntax, VaultConfig, load_config, syntax_from
from notecards.parse import parse_file
from notecards.problems import NotecardsError
from notecards.vault import load_vault, write_back
from tests.helpers.collection import AnkiCollection
from tests.helpers.vault import write_vault

# Regexp metacharacters on purpose: O2A escapes the markers, so they are literal text.
CUSTOM = Syntax(
    begin_note="%%card+",
    end_note="%%",
    begin_inline="::",
    end_inline="::",
    target_deck="Deck (Anki)",
    file_tags="Tags (Anki)",
    delete="Remove.",
    frozen="Frozen*",
)

# Every construct, its markers as placeholders; the same lines under either syntax.
TEMPLATE = """\
{target_deck}
ML::Basics
{file_tags}: shared
# Title

{frozen} - Basic:
Back: <br>always

{begin_note}
Basic
What is SFT?
Back: supervised fine-tuning
Tags: sft
<!--ID: 1700000000001-->
{end_note}

{begin_note}
Cloze
The {{{{c1::policy}}}} acts.
{end_note}

{begin_inline} [Basic] What is DPO? Back: preference tuning Tags: dpo {end_inline}

```
{begin_note}
Basic
code, not a card
{end_note}
```

{delete}
<!--ID: 1700000000009-->
"""


def marked(template: str, syntax: Syntax) -> str:
    return template.format(**syntax.__dict__)


def o2a_settings(syntax: dict) -> str:
    """data.json as O2A writes it (indented, one key a line)."""
    return json.dumps({"settings": {"Syntax": syntax, "Defaults": {}}}, indent=2)


def vault_with_syntax(root: Path, files: dict[str, str], syntax: dict) -> Path:
    """A vault whose O2A data.json renames the markers as `syntax` says."""
    return write_vault(root, {**files, O2A_SETTINGS: o2a_settings(syntax)})


def o2a_syntax(syntax: Syntax) -> dict[str, str]:
    keys = (
        "Begin Note",
        "End Note",
        "Begin Inline Note",
        "End Inline Note",
        "Target Deck Line",
        "File Tags Line",
        "Delete Note Line",
        "Frozen Fields Line",
    )
    return dict(zip(keys, astuple(syntax), strict=True))


def everything(root: Path) -> tuple:
    """All that a parse of the vault found, as plain values."""
    parsed = load_vault(root).parsed
    notes = [
        (
            n.note_type,
            n.fields,
            tuple(n.tags),
            n.deck,
            n.note_id,
            n.start_line,
            n.end_line,
            n.id_line,
            n.appendix,
            n.field_lines,
        )
        for n in parsed.notes
    ]
    deletions = [(d.note_id, d.line) for d in parsed.deletions]
    return notes, deletions, [p.format() for p in parsed.problems]


def test_renamed_markers_parse_like_the_defaults(tmp_path):
    default = write_vault(tmp_path / "default", {"a.md": marked(TEMPLATE, Syntax())})
    custom = vault_with_syntax(
        tmp_path / "custom", {"a.md": marked(TEMPLATE, CUSTOM)}, o2a_syntax(CUSTOM)
    )
    assert load_config(custom).syntax == CUSTOM
    found = everything(custom)
    assert found == everything(default)
    notes, deletions, problems = found
    assert problems == []
    assert [(n[0], n[2], n[3], n[5]) for n in notes] == [
        ("Basic", ("sft", "shared"), "ML::Basics", 9),
        ("Cloze", ("shared",), "ML::Basics", 17),
        ("Basic", ("dpo", "shared"), "ML::Basics", 22),
    ]
    assert notes[0][1] == {"Front": "What is SFT?", "Back": "supervised fine-tuning"}
    assert notes[0][8] == {"Back": "<br>always"}  # the frozen field
    assert notes[2][1] == {"Front": "What is DPO?", "Back": "preference tuning"}
    assert deletions == [(1700000000009, 31)]


def test_check_reads_a_renamed_vault(tmp_path):
    custom = vault_with_syntax(
        tmp_path / "v", {"a.md": marked(TEMPLATE, CUSTOM)}, o2a_syntax(CUSTOM)
    )
    result = CliRunner().invoke(cli, ["check", str(custom), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["notes"] == 3


def test_a_partial_syntax_keeps_the_other_defaults(tmp_path):
    root = vault_with_syntax(tmp_path, {}, {"Begin Note": "%%anki", "End Note": "%%"})
    assert load_config(root).syntax == Syntax(begin_note="%%anki", end_note="%%")


def test_default_markers_are_text_under_renamed_ones(tmp_path):
    text = (
        "START\nBasic\nq\nBack: a\nEND\n\n%%cardd\n\n%%card+\nBasic\nq2\nBack: x\nSTART\nEND\n%%\n"
    )
    root = vault_with_syntax(tmp_path, {"a.md": text}, o2a_syntax(CUSTOM))
    notes, _, problems = everything(root)
    assert problems == []  # no START without END, no END without START
    ((note_type, note_fields, *_),) = notes
    assert (note_type, note_fields["Back"]) == ("Basic", "x\nSTART\nEND")


def test_problems_name_the_renamed_markers(tmp_path):
    text = "%%card+\nBasic\nq\n\n%%\n%%\n:: Basic q ::\n"
    root = vault_with_syntax(tmp_path, {"a.md": text}, o2a_syntax(CUSTOM))
    *_, problems = everything(root)
    assert problems == [
        "a.md:6: warning: %% without %%card+",
        "a.md:7: warning: inline note without a note type: no card (write `:: [Basic] ... ::`)",
    ]
    root = vault_with_syntax(tmp_path / "b", {"a.md": "%%card+\nBasic\nq\n"}, o2a_syntax(CUSTOM))
    assert everything(root)[2] == ["a.md:1: %%card+ without %% (the block is skipped)"]


def test_build_writes_the_id_above_the_renamed_end_and_nothing_else(tmp_path):
    before = (
        "intro\r\n\r\n%%card+\r\nBasic\r\nkept\r\nBack: as is\r\n<!--ID: 1700000000001-->\r\n"
        "%%\r\n\r\n%%card+\r\nBasic\r\nnew card\r\nBack: gets an id\r\n%%\r\ntail\r\n"
    )
    root = vault_with_syntax(tmp_path / "v", {"a.md": before}, o2a_syntax(CUSTOM))
    summary = build_vault(root, tmp_path / "out.apkg")
    (assigned,) = summary.ids_assigned
    head, _, tail = before.rpartition("%%\r\ntail")
    expected = f"{head}<!--ID: {assigned.id}-->\r\n%%\r\ntail{tail}"
    assert (root / "a.md").read_bytes() == expected.encode()
    with AnkiCollection(tmp_path / "anki") as anki:
        anki.import_package(tmp_path / "out.apkg")
        stored = {n.fields["Front"] for n in anki.notes().values()}
    assert stored == {"kept", "new card"}


def test_the_parse_cache_does_not_outlive_a_change_of_markers(tmp_path):
    renamed = {"Begin Note": "%%anki", "End Note": "%%"}
    root = vault_with_syntax(tmp_path, {"a.md": "%%anki\nBasic\nq\nBack: a\n%%\n"}, renamed)
    vault = load_vault(root)
    assert len(vault.parsed.notes) == 1
    vault.save_cache()
    (root / O2A_SETTINGS).write_text(o2a_settings({}), encoding="utf-8")
    assert load_vault(root).parsed.notes == []


@pytest.mark.parametrize(
    ("syntax", "message"),
    [
        ({"Begin Note": ""}, '"Begin Note" must not be empty'),
        ({"End Note": "  "}, '"End Note" must not be empty'),
        ({"Begin Inline Note": 5}, '"Begin Inline Note" must be a string, not 5'),
        ({"End Inline Note": None}, '"End Inline Note" must be a string, not null'),
        ({"Target Deck Line": "DECK\nNAME"}, '"Target Deck Line" must be one line'),
        ({"End Note": "START"}, '"Begin Note" and "End Note" are both \'START\''),
        ({"Delete Note Line": "X", "Frozen Fields Line": "X"}, "are both 'X'"),
    ],
)
def test_bad_markers_are_an_error_at_their_line_in_data_json(tmp_path, syntax, message):
    root = vault_with_syntax(tmp_path, {"a.md": "START\nBasic\nq\nEND\n"}, syntax)
    key = list(syntax)[-1]
    text = (root / O2A_SETTINGS).read_text(encoding="utf-8")
    line = text[: text.index(json.dumps(key))].count("\n") + 1
    with pytest.raises(NotecardsError) as caught:
        load_config(root)
    (problem,) = caught.value.problems
    assert (problem.path, problem.line) == (O2A_SETTINGS, line)
    assert message in problem.message
    result = CliRunner().invoke(cli, ["check", str(root)])
    assert result.exit_code != 0
    assert f"data.json:{line}:" in result.output


def test_syntax_must_be_an_object(tmp_path):
    root = write_vault(tmp_path, {O2A_SETTINGS: '{"settings": {\n"Syntax": "START"}}'})
    with pytest.raises(NotecardsError) as caught:
        load_config(root)
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (2, '"Syntax" must be an object')
    ]


def test_the_markers_can_be_set_in_notecards_yaml(tmp_path):
    root = vault_with_syntax(
        tmp_path,
        {"notecards.yaml": "default_deck: D\nsyntax: {begin_note: '%%q', end_note: '%%'}\n"},
        {"Begin Note": "%%anki", "Delete Note Line": "Gone"},
    )
    assert load_config(root).syntax == Syntax(begin_note="%%q", end_note="%%", delete="Gone")
    (root / "notecards.yaml").write_text("default_deck: D\nsyntax: {end_note: Gone}\n")
    with pytest.raises(NotecardsError) as caught:
        load_config(root)
    assert [(p.path, p.line) for p in caught.value.problems] == [("notecards.yaml", 2)]
    assert "'Gone'" in caught.value.problems[0].message
    (root / "notecards.yaml").write_text("syntax: {start: X}\n")
    with pytest.raises(NotecardsError, match="unknown marker 'start'"):
        load_config(root)


def test_a_line_that_only_starts_with_the_inline_marker_is_text(tmp_path):
    syntax = {"Begin Inline Note": "Q", "End Inline Note": "A!"}
    text = "Q is for question\nQuestions\nQ [Basic] front Back: back A!\n:: nothing\n"
    root = vault_with_syntax(tmp_path, {"a.md": text}, syntax)
    notes, _, problems = everything(root)
    assert problems == []
    assert [(n[1], n[5]) for n in notes] == [({"Front": "front", "Back": "back"}, 3)]
    (root / "a.md").write_text("Q [Basic] no end marker\n", encoding="utf-8")
    assert everything(root)[2] == [
        "a.md:1: warning: Q without its A! on this line: no card from it"
        " (an inline note is `Q [Type] ... A!` on one line)"
    ]


def test_sync_write_back_removes_a_renamed_delete_and_its_id(tmp_path):
    text = "keep\r\nRemove.\r\n<!--ID: 1700000000009-->\r\nRemoved\r\n<!--ID: 1-->\r\nend\r\n"
    root = vault_with_syntax(tmp_path, {"a.md": text}, o2a_syntax(CUSTOM))
    vault = load_vault(root)
    assert [(d.note_id, d.line) for d in vault.parsed.deletions] == [(1700000000009, 2)]
    result = write_back(
        root, vault.parsed.files, {}, vault.parsed.deletions, config=vault.config, notes=[]
    )
    assert result.problems == []
    assert (root / "a.md").read_bytes() == b"keep\r\nRemoved\r\n<!--ID: 1-->\r\nend\r\n"


# Any marker text at all (regexp metacharacters, spaces, non-ASCII), behind a prefix of its own
# (`@@` and a digit per marker), so no marker is another's prefix or a word of the template.
_MARKER_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=6
).map(str.rstrip)


@settings(max_examples=60, deadline=None)
@given(st.lists(_MARKER_TEXT, min_size=8, max_size=8))
def test_any_marker_text_parses_like_the_defaults(texts):
    names = [f.name for f in fields(Syntax)]
    values = {name: f"@@{i}{text}" for i, (name, text) in enumerate(zip(names, texts, strict=True))}
    syntax = syntax_from(Syntax(), values, str)  # the settings' own validation accepts them
    text = marked(TEMPLATE, syntax)
    default = parse_file(marked(TEMPLATE, Syntax()), "a.md", VaultConfig(vault_name="v"))
    custom = parse_file(text, "a.md", VaultConfig(vault_name="v", syntax=syntax))
    assert custom.problems == default.problems == []

    # the same notes; offsets differ with the markers' lengths, so each is checked in the text
    def placeless(note):
        return replace(note, id_slot=None, field_spans={}, tags_span=None)

    assert [placeless(n) for n in custom.notes] == [placeless(n) for n in default.notes]
    ends = [text[n.id_slot.offset :] for n in custom.notes if n.id_slot]
    assert [end.split("\n")[0] for end in ends] == [syntax.end_note, syntax.end_inline]
    (deletion,) = custom.deletions
    assert (deletion.note_id, deletion.line) == (1700000000009, 31)
    removed = text[deletion.start_offset : deletion.end_offset]
    assert removed == f"{syntax.delete}\n<!--ID: 1700000000009-->\n"
